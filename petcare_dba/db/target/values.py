"""How the engine's connections load values: exact Python values or the server's own text.

psycopg turns result text into Python objects, and several of those conversions lose or refuse
values a DBA must see as they are: `-infinity` timestamps and dates before year 1 raise, an
interval's months become 30 days, json numbers become floats, a `real` reads back as
0.10000000149011612, an array's lower bounds (`[0:1]={1,2}`) vanish, ranges and inet values are
reprinted. `CONTEXT` (given to `psycopg.connect(context=...)` by the engine's pools) keeps the
types whose Python value is exact — integers, oid, bool, numeric (Decimal keeps the scale),
bytea, uuid, text — and loads every other type, arrays included, as the text PostgreSQL's output
function printed: exactly what `COPY ... FROM` reads back. `services/sql/values.py` renders
these for every output. `ARRAY_ELEMENT`, `DELIMITER` and `TYPE_NAMES` describe the built-in
types by OID for that formatter (services never import psycopg).
"""

from __future__ import annotations

from psycopg import postgres
from psycopg.adapt import AdaptersMap
from psycopg.types.string import TextLoader

# Built-in types whose psycopg value is exact (and typed): kept as psycopg loads them.
EXACT_TYPED = frozenset(
    postgres.types[name].oid
    for name in (
        "int2",
        "int4",
        "int8",
        "oid",
        "bool",
        "numeric",
        "bytea",
        "uuid",
        "text",
        "varchar",
        "bpchar",
        "name",
        '"char"',
    )
)


def _context() -> AdaptersMap:
    adapters = AdaptersMap(postgres.adapters)
    for info in postgres.types:
        for oid in (info.oid, info.array_oid):
            # Unknown OIDs (enums, domains, composites, extension types) already load as text.
            if oid and oid not in EXACT_TYPED:
                adapters.register_loader(oid, TextLoader)
    return adapters


CONTEXT = _context()

ARRAY_ELEMENT: dict[int, int] = {
    info.array_oid: info.oid for info in postgres.types if info.array_oid
}
DELIMITER: dict[int, str] = {
    info.array_oid: info.delimiter for info in postgres.types if info.array_oid
}
TYPE_NAMES: dict[int, str] = {info.oid: info.name for info in postgres.types} | {
    info.array_oid: f"{info.name}[]" for info in postgres.types if info.array_oid
}

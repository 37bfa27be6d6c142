"""Fixtures of the partitioned-backup tests: a partition tree of every kind on the `tgt` target,
and the catalog read back (columns, constraints, indexes, tree) to compare a restored copy with
its original definition by definition.

`events` is RANGE-partitioned by day with a LIST (by kind) sub-partitioned year (and its
DEFAULT), a HASH sub-partitioned year, and a DEFAULT partition; it has a serial key, NOT NULL
columns, defaults, a primary key, a unique constraint, a check, two plain indexes (one on an
expression with a predicate), and a foreign key that a restore into a new table does not
recreate.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.fix_explorer import Target, tgt  # noqa: F401

EVENTS_SQL = """
CREATE TABLE public.kinds (kind text PRIMARY KEY);
INSERT INTO public.kinds VALUES ('visit'), ('vaccine'), ('surgery');
CREATE TABLE public.events (
    id bigserial,
    kind text NOT NULL DEFAULT 'visit' REFERENCES public.kinds (kind),
    at date NOT NULL,
    region text,
    amount numeric(10, 2) DEFAULT 0 CONSTRAINT events_amount_positive CHECK (amount >= 0),
    note text COLLATE "C",
    PRIMARY KEY (id, at, kind),
    UNIQUE (kind, id, at)
) PARTITION BY RANGE (at);
CREATE TABLE public.events_2024 PARTITION OF public.events
    FOR VALUES FROM ('2024-01-01') TO ('2025-01-01') PARTITION BY LIST (kind);
CREATE TABLE public.events_2024_care PARTITION OF public.events_2024
    FOR VALUES IN ('visit', 'vaccine');
CREATE TABLE public.events_2024_rest PARTITION OF public.events_2024 DEFAULT;
CREATE TABLE public.events_2025 PARTITION OF public.events
    FOR VALUES FROM ('2025-01-01') TO ('2026-01-01') PARTITION BY HASH (id);
CREATE TABLE public.events_2025_h0 PARTITION OF public.events_2025
    FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE TABLE public.events_2025_h1 PARTITION OF public.events_2025
    FOR VALUES WITH (MODULUS 2, REMAINDER 1);
CREATE TABLE public.old_events PARTITION OF public.events DEFAULT;
CREATE INDEX events_region_idx ON public.events (region);
CREATE INDEX events_kind_lower ON public.events (lower(kind)) WHERE amount > 0;
INSERT INTO public.events (kind, at, region, amount, note)
SELECT (ARRAY['visit', 'vaccine', 'surgery'])[1 + g % 3],
       date '2023-10-01' + (g * 3),
       (ARRAY['eu', 'uk', 'us', NULL])[1 + g % 4],
       g * 1.25, CASE WHEN g % 5 = 0 THEN NULL ELSE 'n' || g END
FROM generate_series(1, 300) g;
"""


@pytest.fixture
def parts(tgt: Target) -> Target:  # noqa: F811
    """The `tgt` target with the `events` partition tree (300 rows over 6 leaves)."""
    tgt.execute(EVENTS_SQL)
    return tgt


def q(*names: str) -> str:
    """A qualified name quoted the SQL way (for regclass casts in the comparisons)."""
    return ".".join('"' + p.replace('"', '""') + '"' for p in names)


def definition(t: Target, table: str) -> dict[str, Any]:
    """The catalog's definition of `table` (quoted), its own name and its sequences' masked."""
    oid = {"t": table}
    name = t.execute("SELECT relname FROM pg_class WHERE oid = %(t)s::regclass", oid)[0][0]
    mask = re.compile(r"nextval\('[^']*'::regclass\)")
    columns = [
        (n, ty, nn, mask.sub("nextval(SEQ)", d) if d else d, ident, gen)
        for n, ty, nn, d, ident, gen in t.execute(
            "SELECT attname, format_type(atttypid, atttypmod), attnotnull, "
            "pg_get_expr(adbin, adrelid), attidentity::text, attgenerated::text FROM pg_attribute "
            "LEFT JOIN pg_attrdef ON adrelid = attrelid AND adnum = attnum "
            "WHERE attrelid = %(t)s::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
            oid,
        )
    ]
    constraints = sorted(
        t.execute(
            "SELECT contype::text, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %(t)s::regclass AND contype IN ('p', 'u', 'c', 'x')",
            oid,
        )
    )
    indexes = sorted(
        (u, str(d).split(" USING ", 1)[1])
        for u, d in t.execute(
            "SELECT indisunique, pg_get_indexdef(indexrelid) FROM pg_index "
            "WHERE indrelid = %(t)s::regclass",
            oid,
        )
    )
    tree = sorted(
        (
            lvl,
            kind,
            bound or "",
            key or "",
            t.execute(f"SELECT count(*) FROM {rel}")[0][0] if leaf else None,
        )
        for lvl, kind, bound, key, leaf, rel in t.execute(
            "SELECT level, relkind::text, pg_get_expr(relpartbound, relid), "
            "CASE WHEN relkind = 'p' THEN pg_get_partkeydef(relid) END, isleaf, "
            "relid::regclass::text FROM pg_partition_tree(%(t)s::regclass) "
            "JOIN pg_class ON oid = relid",
            oid,
        )
    )
    return {
        "name": name,
        "columns": columns,
        "constraints": constraints,
        "indexes": indexes,
        "tree": tree,
    }


def except_both_ways(t: Target, a: str, b: str) -> tuple[int, int]:
    """Rows of `a` missing from `b` and of `b` missing from `a` (EXCEPT ALL, both ways)."""
    one = t.execute(f"SELECT count(*) FROM (TABLE {a} EXCEPT ALL TABLE {b}) x")
    two = t.execute(f"SELECT count(*) FROM (TABLE {b} EXCEPT ALL TABLE {a}) x")
    return int(one[0][0]), int(two[0][0])  # type: ignore[call-overload]

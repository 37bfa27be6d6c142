"""One typed formatter for every output of a query result: grid, CLI table, CSV, JSON, Parquet.

The engine's connections load values exactly (`db/target/values.py`): integers, oid, bool,
numeric (Decimal), bytea, uuid and text as Python values, every other type — timestamps,
intervals, floats, json, ranges, arrays, enums, domains, composites, geometry ... — as the text
PostgreSQL's output function printed. From there, keyed by the column's type OID:

- **text** (`text`; the grid, the CLI table and CSV): the server's own text, which is what
  `COPY ... FROM` reads back — arrays as `{a,"b c",NULL}`, bytea as `\\x…`, numeric with its
  scale, timestamps with their zone as the session prints them (DateStyle ISO by default).
- **CSV** (`csv_line`): PostgreSQL's CSV COPY format, so the file loads back with
  `COPY t FROM … (FORMAT csv, HEADER)`: NULL is an unquoted empty field, the empty string is
  `""`; a field holding the delimiter, a quote, CR or LF, or that is `\\.` is quoted.
- **JSON** (`json_value`, `dumps`): NULL is `null`; int2/int4/oid are numbers; int8 is a number
  when it fits IEEE-754's exact integers (|n| ≤ 2^53 - 1) and a string of its digits beyond, so
  no JSON reader ever rounds it (the column's type says bigint); numeric is always a string
  holding its exact text and scale (`"10289.60"`); floats are numbers, `"NaN"`/`"Infinity"`
  strings; bool is true/false; json/jsonb are embedded as the server printed them (numbers stay
  exact); arrays of built-in types are JSON arrays of their elements converted the same way
  (an array with explicit lower bounds, `[0:1]={1,2}`, stays its literal string); timestamps
  are ISO 8601 (`2024-05-01T10:00:00+00:00`, `infinity` as is); everything else is its text.
- **Parquet** (`arrow_type`, `arrow_value`): bool, int16/32/64, float32/64, binary for bytea,
  date32, time64 and timestamp (UTC for timestamptz) typed; numeric(p,s) with p ≤ 38 as
  decimal128(p, s); every other type (unconstrained numeric, arrays, json, intervals ...) as
  its exact text. A value the typed column cannot hold (`infinity`, a BC date, NaN in a
  decimal) stops the export with a hint to cast the column to text: never a silent change.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
import re
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

import pyarrow as pa

from petcare_dba.db.target import values as db_values
from petcare_dba.errors import ValidationError
from petcare_dba.messages import say

NULL = "NULL"  # how the grid and the CLI table show a NULL (the empty string stays empty)
SAFE_INT = 2**53 - 1  # the largest integer every JSON reader (JavaScript's Number) keeps exact

BOOL, BYTEA, INT8, INT2, INT4, OID, JSON = 16, 17, 20, 21, 23, 26, 114
FLOAT4, FLOAT8, NUMERIC, JSONB = 700, 701, 1700, 3802
DATE, TIME, TIMESTAMP, TIMESTAMPTZ, TIMETZ = 1082, 1083, 1114, 1184, 1266
INTEGERS = frozenset({INT2, INT4, INT8, OID})
FLOATS = frozenset({FLOAT4, FLOAT8})

_JSON_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?")
_ISO = re.compile(r"(\d{4,}-\d\d-\d\d) (\d\d:\d\d:\d\d(?:\.\d+)?)([+-]\d\d(?::\d\d){0,2})?")
_ARRAY_SPECIAL = frozenset('"\\{} \t\n\r\v\f')


class Raw(str):
    """JSON text embedded as it is by `dumps` (a json/jsonb value, a float's digits)."""

    __slots__ = ()


# ---- text: the server's own output --------------------------------------------------------


def text(value: Any) -> str | None:
    """The value as PostgreSQL prints it; None for NULL."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, decimal.Decimal):
        return format(value, "f")  # keeps the scale: 1.50 stays 1.50, 1E-20 is 0.000…01
    if isinstance(value, bytes | bytearray | memoryview):
        return "\\x" + bytes(value).hex()
    if isinstance(value, float):
        return _float_text(value)
    if isinstance(value, list | tuple):
        return array_literal(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.time):
        return value.isoformat()
    if isinstance(value, dt.date | uuid.UUID):
        return str(value)
    if isinstance(value, dict):  # a json value loaded by a connection without the exact context
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def cell(value: Any) -> str:
    """Text for a human: the server's text, or NULL."""
    shown = text(value)
    return NULL if shown is None else shown


def _float_text(value: float) -> str:
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "Infinity" if value > 0 else "-Infinity"
    shown = repr(value)
    return shown[:-2] if shown.endswith(".0") else shown


def array_literal(items: Sequence[Any], delimiter: str = ",") -> str:
    """A (nested) Python list as PostgreSQL's array_out prints it."""
    parts = []
    for item in items:
        if isinstance(item, list | tuple):
            parts.append(array_literal(item, delimiter))
            continue
        shown = text(item)
        if shown is None:
            parts.append(NULL)
        elif (
            shown == ""
            or shown.upper() == NULL
            or delimiter in shown
            or any(c in _ARRAY_SPECIAL for c in shown)
        ):
            parts.append('"' + shown.replace("\\", "\\\\").replace('"', '\\"') + '"')
        else:
            parts.append(shown)
    return "{" + delimiter.join(parts) + "}"


def parse_array(literal: str, delimiter: str = ",") -> list[Any] | None:
    """PostgreSQL's array text as nested lists of element text (None for NULL).

    None when the literal carries explicit bounds (`[0:1]={1,2}`), which a list cannot hold.
    """
    if not literal.startswith("{"):
        return None
    stack: list[list[Any]] = []
    root: list[Any] = []
    i, n = 0, len(literal)
    while i < n:
        c = literal[i]
        if c == "{":
            new: list[Any] = []
            if stack:
                stack[-1].append(new)
            stack.append(new)
            i += 1
        elif c == "}":
            root = stack.pop()
            i += 1
        elif c == delimiter or c.isspace():
            i += 1
        elif c == '"':
            out, i = [], i + 1
            while literal[i] != '"':
                if literal[i] == "\\":
                    i += 1
                out.append(literal[i])
                i += 1
            stack[-1].append("".join(out))
            i += 1
        else:
            j = i
            while literal[j] not in (delimiter, "}"):
                j += 1
            token = literal[i:j].strip()
            stack[-1].append(None if token.upper() == NULL else token)
            i = j
    return root


# ---- CSV: PostgreSQL's COPY format ----------------------------------------------------------


def csv_field(shown: str | None) -> str:
    """One field of a CSV COPY line: NULL unquoted empty, the empty string quoted."""
    if shown is None:
        return ""
    if shown == "" or shown == "\\." or any(c in shown for c in ',"\r\n'):
        return '"' + shown.replace('"', '""') + '"'
    return shown


def csv_line(values: Iterable[Any]) -> str:
    """A row as one CSV COPY line (newline included)."""
    return ",".join(csv_field(text(v)) for v in values) + "\n"


# ---- JSON ---------------------------------------------------------------------------------


def json_value(value: Any, oid: int = 0) -> Any:
    """The value for a JSON document (see the module docstring for the rules)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if -SAFE_INT <= value <= SAFE_INT else str(value)
    if not isinstance(value, str):
        if isinstance(value, list | tuple):
            element = db_values.ARRAY_ELEMENT.get(oid, 0)
            return [json_value(v, element) for v in value]
        if isinstance(value, dict):
            return value
        return text(value)
    return _json_from_text(value, oid)


def _json_from_text(shown: str, oid: int) -> Any:
    if oid in INTEGERS:
        return json_value(int(shown))
    if oid == BOOL:
        return shown == "t"
    if oid in FLOATS:
        return Raw(shown) if _JSON_NUMBER.fullmatch(shown) else shown
    if oid in (JSON, JSONB):
        return Raw(shown)
    if oid in (TIMESTAMP, TIMESTAMPTZ):
        return iso8601(shown)
    element = db_values.ARRAY_ELEMENT.get(oid)
    if element is not None:
        items = parse_array(shown, db_values.DELIMITER.get(oid, ","))
        return shown if items is None else _json_items(items, element)
    return shown


def _json_items(items: list[Any], element: int) -> list[Any]:
    return [
        _json_items(v, element)
        if isinstance(v, list)
        else (None if v is None else _json_from_text(v, element))
        for v in items
    ]


def iso8601(shown: str) -> str:
    """`2024-05-01 10:00:00+02` (DateStyle ISO) as `2024-05-01T10:00:00+02:00`; else as is."""
    found = _ISO.fullmatch(shown)
    if found is None:
        return shown
    day, clock, zone = found.groups()
    if zone and len(zone) == 3:
        zone += ":00"
    return f"{day}T{clock}{zone or ''}"


def dumps(document: Any, indent: int | None = 2) -> str:
    """JSON text of `document`, with `Raw` fragments embedded as they are."""
    return _dump(document, indent, 0)


_encode = json.encoder.encode_basestring  # C-accelerated, no ASCII escaping


def _dump(value: Any, indent: int | None, depth: int) -> str:
    # One string per value (no generators): JSON Lines of a large export goes through here.
    if isinstance(value, str):
        return str(value) if isinstance(value, Raw) else _encode(value)
    if value is None:
        return "null"
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dict | list | tuple):
        is_dict = isinstance(value, dict)
        items = (
            [f"{_encode(str(k))}: {_dump(v, indent, depth + 1)}" for k, v in value.items()]
            if isinstance(value, dict)
            else [_dump(v, indent, depth + 1) for v in value]
        )
        opening, closing = ("{", "}") if is_dict else ("[", "]")
        if not items:
            return opening + closing
        if indent is None:
            return opening + ", ".join(items) + closing
        pad = "\n" + " " * (indent * (depth + 1))
        return opening + pad + ("," + pad).join(items) + "\n" + " " * (indent * depth) + closing
    if isinstance(value, float):  # Python floats (timings ...): numbers; NaN/Infinity as text
        return repr(value) if math.isfinite(value) else _encode(_float_text(value))
    return _dump(json_value(value), indent, depth)


# ---- Parquet ------------------------------------------------------------------------------

_ARROW: dict[int, pa.DataType] = {
    BOOL: pa.bool_(),
    INT2: pa.int16(),
    INT4: pa.int32(),
    INT8: pa.int64(),
    OID: pa.int64(),
    FLOAT4: pa.float32(),
    FLOAT8: pa.float64(),
    BYTEA: pa.binary(),
    DATE: pa.date32(),
    TIME: pa.time64("us"),
    TIMESTAMP: pa.timestamp("us"),
    TIMESTAMPTZ: pa.timestamp("us", tz="UTC"),
}


def arrow_type(oid: int, precision: int | None = None, scale: int | None = None) -> pa.DataType:
    """The Parquet column type of a PostgreSQL type (text when no typed one is exact)."""
    if oid == NUMERIC and precision and precision <= 38:
        return pa.decimal128(precision, scale or 0)
    return _ARROW.get(oid, pa.string())


def arrow_value(value: Any, oid: int, kind: pa.DataType, column: str = "") -> Any:
    """The value for a Parquet column of type `kind` (from `arrow_type`)."""
    if value is None:
        return None
    if pa.types.is_string(kind):
        return text(value)
    try:
        if isinstance(value, str):
            return _typed(value, oid)
        if isinstance(value, decimal.Decimal) and not value.is_finite():
            raise ValueError(value)
        return value
    except ValueError:
        raise ValidationError(
            say("msg.sql.parquet", column=repr(column), value=repr(text(value)), kind=kind),
            hint=say("msg.sql.parquet.hint", name=column),
        ) from None


def _typed(shown: str, oid: int) -> Any:
    if oid in FLOATS:
        return float(shown)
    if oid == DATE:
        return dt.date.fromisoformat(shown)
    if oid == TIME:
        return dt.time.fromisoformat(shown)
    if oid == TIMESTAMP:
        return dt.datetime.fromisoformat(shown)
    if oid == TIMESTAMPTZ:
        return dt.datetime.fromisoformat(shown).astimezone(dt.UTC)
    return shown

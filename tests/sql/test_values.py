"""The one value formatter on a real PostgreSQL: every built-in type, exact in every output.

Rows of `all_types` (tests/sql/fix_values.py) go through the engine (`engine.run`, its pools'
exact loading) and the formatter; the CSV is loaded back with COPY FROM into a clone and the
two tables compared row by row on their own text; the JSON and Parquet outputs are read back
and checked value by value (numeric scale, bigints beyond 2^53, arrays, NULL beside '').
"""

from __future__ import annotations

import io
import json
import math
from decimal import Decimal
from typing import Any

import psycopg
import pyarrow.parquet as pq
import pytest

from petcare_dba.errors import ValidationError
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.sql import QueryResult, engine, export, values
from tests.fix_engine import Target, target
from tests.sql.fix_values import DIFFERENCE, ROWS, SCHEMA

__all__ = ["target"]  # the fixture is used by name


@pytest.fixture
def typed(target: Target) -> Target:
    target.execute(SCHEMA)
    target.execute(ROWS)
    return target


def _select(rt: Runtime, who: Actor, sql: str) -> QueryResult:
    return engine.run(rt, who, "tgt", sql).raise_for_error().results[0]


def _load_back(typed: Target, data: str, clone: str) -> int:
    """COPY the CSV into a clone of all_types; the rows that differ (by their text)."""
    with psycopg.connect(typed.url, autocommit=True) as conn:
        conn.execute(f"CREATE TABLE {clone} (LIKE all_types)")
        with conn.cursor().copy(f"COPY {clone} FROM STDIN (FORMAT csv, HEADER)") as copy:
            copy.write(data)
        assert conn.execute(f"SELECT count(*) FROM {clone}").fetchone() == (3,)
        return int(conn.execute(DIFFERENCE.format(clone=clone)).fetchone()[0])


def test_text_and_csv_of_every_builtin_type_are_exact_and_load_back(
    rt: Runtime, admin: Actor, typed: Target
) -> None:
    query = _select(rt, admin, "SELECT * FROM all_types ORDER BY id")
    data = values.csv_line(query.columns) + "".join(values.csv_line(r) for r in query.rows)
    assert _load_back(typed, data, "clone_engine") == 0
    # The export's CSV (the server's own COPY) is exact too, and byte for byte the same.
    out = io.BytesIO()
    export.export(rt, admin, "tgt", "SELECT * FROM all_types ORDER BY id", out, fmt="csv")
    assert out.getvalue().decode() == data
    assert _load_back(typed, data, "clone_export") == 0

    with psycopg.connect(typed.url) as conn, conn.cursor() as cur:
        # The text each output function sent, read from libpq's result before any loader.
        cur.execute("SELECT * FROM all_types ORDER BY id")
        result = cur.pgresult
        assert result is not None
        for i, name in enumerate(query.columns):
            server = [result.get_value(r, i) for r in range(result.ntuples)]
            shown = [values.text(r[i]) for r in query.rows]
            assert [None if v is None else v.encode() for v in shown] == server, name
    row = dict(zip(query.columns, query.rows[0], strict=True))
    assert values.text(row["ta"]) == (
        '{Trailers,"Deleted Scenes","NULL","",NULL,"q\\"uo\\\\te","a,b","{x}"," sp "}'
    )
    assert values.cell(query.rows[2][1]) == "NULL" and values.cell(query.rows[1][11]) == ""
    assert values.text(row["n20"]) == "12345678901234567890.12345678901234567890"
    assert (values.text(row["ts"]), values.text(row["tstz"])) == ("infinity", "-infinity")


def _json_rows(query: QueryResult) -> list[dict[str, Any]]:
    document = values.dumps(
        [
            [values.json_value(v, oid) for v, oid in zip(r, query.column_oids, strict=True)]
            for r in query.rows
        ]
    )
    parsed = json.loads(document, parse_float=Decimal)
    return [dict(zip(query.columns, r, strict=True)) for r in parsed]


def test_json_keeps_numerics_bigints_arrays_and_null(
    rt: Runtime, admin: Actor, typed: Target
) -> None:
    first, second, empty = _json_rows(_select(rt, admin, "SELECT * FROM all_types ORDER BY id"))
    assert first["i8"] == "9223372036854775807" and first["i2"] == -32768 and first["b"] is True
    assert first["i8a"] == ["9223372036854775807", "-9223372036854775808"]
    assert (first["n"], first["n52"]) == ("NaN", "123.45") and second["n52"] == "-0.50"
    assert first["n20"] == "12345678901234567890.12345678901234567890"
    assert second["n"] == "0.00000000000000000001"
    assert first["na"] == ["1.50", "NaN", "0.00000000000000000001"]
    assert first["ta"] == [
        "Trailers",
        "Deleted Scenes",
        "NULL",
        "",
        None,
        'q"uo\\te',
        "a,b",
        "{x}",
        " sp ",
    ]
    assert first["ia"] == [1, None, -3] and first["ia2"] == [[1, 2], [3, None]]
    assert first["ba"] == [True, False, None] and first["lb"] == "[0:1]={1,2}"
    assert first["f8a"] == ["NaN", "-Infinity", Decimal("0.1"), Decimal("1e+300")]
    assert (first["f4"], first["f8"]) == ("Infinity", "-Infinity")
    assert first["bxa"] == ["(1,1),(0,0)", "(2,2),(1,1)"]  # box arrays use ';' between items
    # json/jsonb embedded as the server printed them: numbers no float holds stay exact.
    assert first["j"] == {"b": Decimal("1.000000000000000000001"), "a": [Decimal("1e400")]}
    assert first["jb"] == {"n": 12345678901234567890123, "s": "\u00e9\n"}
    assert first["jba"] == [{"k": Decimal("1.10")}, None]
    assert (first["ts"], first["tstz"], first["d"]) == ("infinity", "-infinity", "-infinity")
    assert first["tsa"][0] == "-infinity" and first["tsa"][1].startswith("2024-05-01T")
    assert second["t"] == "" and empty["t"] is None and second["ta"] == []
    assert first["by"] == "\\x00ff5c22" and first["iv"] == "1 year 2 mons 3 days 04:05:06.789"
    assert all(v is None for k, v in empty.items() if k != "id")
    # The export's JSON Lines: the same values by the same rules, one object per row.
    out = io.BytesIO()
    export.export(rt, admin, "tgt", "SELECT * FROM all_types ORDER BY id", out, fmt="jsonl")
    lines = out.getvalue().decode().splitlines()
    assert [json.loads(line, parse_float=Decimal) for line in lines] == [first, second, empty]


def test_parquet_is_typed_exact_or_refused(rt: Runtime, admin: Actor, typed: Target) -> None:
    out = io.BytesIO()
    sql = (
        "SELECT id, b, i2, i8, n, n52, n20, f4, f8, t, by, iv, ta, "
        "'2024-05-01 10:00:00.5+02'::timestamptz AS at, '2024-05-01 10:00'::timestamp AS ts, "
        "'2024-05-01'::date AS d, '10:00:01.25'::time AS tm FROM all_types ORDER BY id"
    )
    export.export(rt, admin, "tgt", sql, out, fmt="parquet")
    table = pq.read_table(io.BytesIO(out.getvalue()))
    col = {name: table.column(name).to_pylist() for name in table.column_names}
    assert str(table.schema.field("n52").type) == "decimal128(5, 2)"
    assert col["n52"] == [Decimal("123.45"), Decimal("-0.50"), None]
    assert col["n20"] == [  # numeric(40,20): beyond decimal128's 38 digits, exact text
        "12345678901234567890.12345678901234567890",
        "0.00000000000000000000",
        None,
    ]
    assert col["n"] == ["NaN", "0.00000000000000000001", None]
    assert col["i8"] == [9223372036854775807, -9223372036854775808, None]
    assert col["f4"][0] == math.inf and math.isnan(col["f4"][1]) and col["f4"][2] is None
    assert col["t"][1] == "" and col["t"][2] is None and col["by"][0] == b"\x00\xff\x5c\x22"
    assert col["ta"][0].startswith('{Trailers,"Deleted Scenes"') and col["ta"][1] == "{}"
    assert col["iv"][0] == "1 year 2 mons 3 days 04:05:06.789"
    assert str(table.schema.field("at").type) == "timestamp[us, tz=UTC]"
    assert col["at"][0].isoformat() == "2024-05-01T08:00:00.500000+00:00"
    assert str(col["ts"][0]) == "2024-05-01 10:00:00" and str(col["tm"][0]) == "10:00:01.250000"
    # A value the typed column cannot hold stops the export: never a silent change.
    with pytest.raises(ValidationError) as caught:
        export.export(rt, admin, "tgt", "SELECT d FROM all_types", io.BytesIO(), fmt="parquet")
    assert "-infinity" in caught.value.message and "d::text" in (caught.value.hint or "")
    out = io.BytesIO()
    export.export(rt, admin, "tgt", "SELECT d::text FROM all_types ORDER BY id", out, fmt="parquet")
    assert pq.read_table(out).column("d").to_pylist() == ["-infinity", "0044-03-15 BC", None]


def test_pagila_like_sample_with_partitions(rt: Runtime, admin: Actor, target: Target) -> None:
    target.execute(
        "CREATE TABLE film (film_id int, rental_rate numeric(4,2), "
        "special_features text[]);"
        "INSERT INTO film VALUES (1, 4.99, '{Trailers,\"Deleted Scenes\"}'), (2, 0.99, NULL);"
        "CREATE TABLE payment (payment_id bigint, amount numeric(7,2), payment_date timestamptz)"
        " PARTITION BY RANGE (payment_date);"
        "CREATE TABLE payment_p2022_01 PARTITION OF payment "
        "FOR VALUES FROM ('2022-01-01') TO ('2022-02-01');"
        "CREATE TABLE payment_p2022_02 PARTITION OF payment "
        "FOR VALUES FROM ('2022-02-01') TO ('2022-03-01');"
        "INSERT INTO payment VALUES (16050, 10289.60, '2022-01-24 23:40:19.996577+00'), "
        "(16051, 0.00, '2022-02-01 00:00+00')"
    )
    film = _select(rt, admin, "SELECT * FROM film WHERE film_id IN (1, 2) ORDER BY film_id")
    assert [values.cell(v) for v in film.rows[0]] == ["1", "4.99", '{Trailers,"Deleted Scenes"}']
    assert values.cell(film.rows[1][2]) == "NULL"
    pay = _select(rt, admin, "SELECT amount, payment_date FROM payment ORDER BY payment_id")
    assert [values.text(r[0]) for r in pay.rows] == ["10289.60", "0.00"]
    first = values.json_value(pay.rows[0][1], pay.column_oids[1])
    assert first.startswith("2022-01-24T") and first[19:26] == ".996577"
    assert values.json_value(pay.rows[0][0], pay.column_oids[0]) == "10289.60"

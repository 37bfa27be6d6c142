"""Export of a result: CSV via COPY and Parquet in batches, read-only, capped per role, audited."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from petcare_dba.errors import QueryCancelled, Refused
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.sql import engine, export
from tests.fix_engine import Target, events, target, tune
from tests.sql.test_sql_cli import cli

__all__ = ["cli", "target"]  # fixtures used by name


def test_csv_export_streams_rows_with_a_header_and_reports_progress(
    rt: Runtime, admin: Actor, target: Target
) -> None:
    seen: list[tuple[int, int]] = []
    out = io.BytesIO()
    result = export.export(
        rt,
        admin,
        "tgt",
        "SELECT g AS n, 'line ' || g AS label FROM generate_series(1, 50000) g",
        out,
        progress=lambda r, b: seen.append((r, b)),
    )
    rows = list(csv.reader(io.StringIO(out.getvalue().decode())))
    assert rows[0] == ["n", "label"] and rows[1] == ["1", "line 1"] and len(rows) == 50001
    assert result.rows == 50000 and result.bytes == len(out.getvalue()) and not result.truncated
    assert seen[-1] == (50000, result.bytes)
    assert [e.outcome for e in events(rt, admin)][-2:] == ["intent", "ok"]


def test_parquet_export_keeps_types(
    rt: Runtime, admin: Actor, target: Target, tmp_path: Path
) -> None:
    path = tmp_path / "x.parquet"
    with path.open("wb") as out:
        result = export.export(
            rt,
            admin,
            "tgt",
            "SELECT g AS n, g::numeric(10,2) AS price, now() AS at, '{\"a\": 1}'::jsonb AS doc, "
            "NULL::text AS nothing FROM generate_series(1, 25000) g",
            out,
            fmt="parquet",
        )
    table = pq.read_table(path)
    assert result.rows == 25000 and table.num_rows == 25000
    assert str(table.schema.field("n").type) == "int32"
    assert str(table.schema.field("price").type) == "decimal128(10, 2)"
    assert str(table.schema.field("at").type).startswith("timestamp[us, tz=UTC]")
    assert table.column("doc")[0].as_py() == '{"a": 1}'


def test_export_stops_at_the_cap_of_the_role(
    rt: Runtime,
    target: Target,
    make_user,  # type: ignore[no-untyped-def]
) -> None:
    tune(rt, export_max_rows_viewer=100)
    vera = make_user("vera", "viewer")
    out = io.BytesIO()
    result = export.export(rt, vera, "tgt", "SELECT g FROM generate_series(1, 1000) g", out)
    assert result.rows == 100 and result.truncated and result.max_rows == 100
    assert out.getvalue().count(b"\n") == 101


@pytest.mark.parametrize(
    "sql",
    [
        "DELETE FROM t RETURNING *",
        "SELECT 1; SELECT 2",
        "SELECT nextval('s')",
        "WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d",
        "SELECT * FROM t FOR UPDATE",
    ],
)
def test_export_runs_only_one_read_only_select(
    rt: Runtime, admin: Actor, target: Target, sql: str
) -> None:
    target.execute("CREATE SEQUENCE s")
    with pytest.raises(Refused, match="export runs exactly one read-only SELECT"):
        export.export(rt, admin, "tgt", sql, io.BytesIO())
    assert len(target.table()) == 3
    assert events(rt, admin)[-1].outcome == "refused"


def test_export_transaction_is_read_only_in_postgresql(
    rt: Runtime, admin: Actor, target: Target
) -> None:
    target.execute(
        "CREATE FUNCTION wipe() RETURNS int LANGUAGE sql AS $$ DELETE FROM t; SELECT 1 $$"
    )
    target.execute(
        "CREATE FUNCTION sneaky() RETURNS int LANGUAGE plpgsql STABLE AS "
        "$$ BEGIN RETURN wipe(); END $$"
    )  # lies about its volatility: only the READ ONLY transaction stops it
    with pytest.raises(Exception, match="read-only transaction"):
        export.export(rt, admin, "tgt", "SELECT sneaky()", io.BytesIO())
    assert len(target.table()) == 3
    assert events(rt, admin)[-1].outcome == "error"


def test_export_can_be_cancelled(rt: Runtime, admin: Actor, target: Target) -> None:
    import threading

    handle = engine.new_handle()
    threading.Timer(0.5, handle.cancel).start()
    with pytest.raises(QueryCancelled):
        export.export(rt, admin, "tgt", "SELECT pg_sleep(10)", io.BytesIO(), handle=handle)
    assert events(rt, admin)[-1].outcome == "cancelled"


def test_cli_export_writes_a_file(cli, target: Target, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from petcare_dba.cli import explain_export

    explain_export.register(cli)
    path = tmp_path / "t.csv"
    result = CliRunner().invoke(
        cli,
        ["export", "--connection", "tgt", "-o", str(path), "SELECT id, note FROM t ORDER BY id"],
    )
    assert result.exit_code == 0, result.output
    assert path.read_text() == "id,note\n1,one\n2,two\n3,three\n"
    refused = CliRunner().invoke(cli, ["export", "--connection", "tgt", "DELETE FROM t"])
    assert refused.exit_code == 2

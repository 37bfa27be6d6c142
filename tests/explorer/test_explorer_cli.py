"""`petcare-dba tables | describe | backup | backups list/verify | restore` end to end.

The commands are registered on a fresh Typer app (the lead wires them into petcare_dba.cli),
configured through PETCARE_* variables pointing at this test's store.
"""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from petcare_dba.cli import common
from petcare_dba.cli import explorer as explorer_cli
from petcare_dba.errors import NotFound
from petcare_dba.settings import Settings
from tests.fix_db import RUNTIME_PASSWORD
from tests.fix_explorer import Target, tgt  # noqa: F401


@pytest.fixture
def cli(test_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> typer.Typer:
    for key, value in {
        "PETCARE_DATABASE_URL": test_settings.database_url,
        "PETCARE_RUNTIME_PASSWORD": RUNTIME_PASSWORD,
        "PETCARE_SECRET_KEY": test_settings.secret_key,
        "PETCARE_DATA_DIR": str(test_settings.data_dir),
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("PETCARE_CONFIG", raising=False)
    monkeypatch.setitem(common.STATE, "overrides", {})
    app = typer.Typer()
    explorer_cli.register(app)
    return app


def run(app: typer.Typer, *args: str) -> object:
    return CliRunner().invoke(app, list(args))


def test_tables_lists_partitions_under_their_parent(cli: typer.Typer, tgt: Target) -> None:  # noqa: F811
    tgt.execute(
        "CREATE TABLE public.ev (at date) PARTITION BY RANGE (at);"
        "CREATE TABLE public.ev_2024 PARTITION OF public.ev "
        "FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')"
    )
    out = run(cli, "tables", "--connection", "tgt", "--schema", "public")
    assert out.exit_code == 0, out.output  # type: ignore[attr-defined]
    lines = out.stdout.splitlines()  # type: ignore[attr-defined]
    parent = next(i for i, ln in enumerate(lines) if ln.split()[1:2] == ["ev"])
    assert "└ ev_2024" in lines[parent + 1]
    as_json = json.loads(run(cli, "tables", "-c", "tgt", "--format", "json").stdout)  # type: ignore[attr-defined]
    kinds = {r["name"]: r["kind"] for r in as_json}
    assert kinds["all_types"] == "table" and kinds["ev"] == "partitioned table"


def test_tables_json_names_partitions_plainly_and_sums_the_parent(
    cli: typer.Typer,
    tgt: Target,  # noqa: F811
) -> None:
    # A Pagila-like payment table: monthly partitions, one of them partitioned again.
    tgt.execute(
        "CREATE TABLE public.payment (id bigint, amount numeric(7,2), at date)"
        " PARTITION BY RANGE (at);"
        "CREATE TABLE public.payment_p2022_01 PARTITION OF public.payment"
        " FOR VALUES FROM ('2022-01-01') TO ('2022-02-01');"
        "CREATE TABLE public.payment_p2022_02 PARTITION OF public.payment"
        " FOR VALUES FROM ('2022-02-01') TO ('2022-03-01') PARTITION BY HASH (id);"
        "CREATE TABLE public.payment_p2022_02_h0 PARTITION OF public.payment_p2022_02"
        " FOR VALUES WITH (MODULUS 2, REMAINDER 0);"
        "CREATE TABLE public.payment_p2022_02_h1 PARTITION OF public.payment_p2022_02"
        " FOR VALUES WITH (MODULUS 2, REMAINDER 1);"
        "INSERT INTO public.payment SELECT g, g * 1.5, date '2022-01-01' + (g % 59)"
        " FROM generate_series(1, 3000) g;"
        "ANALYZE public.payment"
    )
    out = run(cli, "tables", "-c", "tgt", "--schema", "public", "--format", "json")
    rows = {r["name"]: r for r in json.loads(out.stdout)}  # type: ignore[attr-defined]
    assert not [name for name in rows if "└" in name or name != name.strip()]
    parent, jan = rows["payment"], rows["payment_p2022_01"]
    assert parent["partition"] is False and jan["partition"] is True
    assert jan["parent"] == "public.payment" and rows["payment_p2022_02_h1"]["partition"]
    assert set(parent["partitions"]) == {"public.payment_p2022_01", "public.payment_p2022_02"}
    leaves = ("payment_p2022_01", "payment_p2022_02_h0", "payment_p2022_02_h1")
    assert parent["total_bytes"] == sum(rows[n]["total_bytes"] for n in leaves) > 0
    assert parent["estimated_rows"] == sum(rows[n]["estimated_rows"] for n in leaves) == 3000
    assert rows["payment_p2022_02"]["total_bytes"] == sum(
        rows[n]["total_bytes"] for n in leaves[1:]
    )
    table = run(cli, "tables", "-c", "tgt", "--schema", "public").stdout  # type: ignore[attr-defined]
    assert "  └ payment_p2022_01" in table and "partitions" not in table.splitlines()[0]


def test_describe_prints_columns_and_ddl_and_json(cli: typer.Typer, tgt: Target) -> None:  # noqa: F811
    out = run(cli, "describe", "public.all_types", "-c", "tgt")
    assert out.exit_code == 0 and "CREATE TABLE public.all_types" in out.stdout  # type: ignore[attr-defined]
    data = json.loads(run(cli, "describe", "all_types", "-c", "tgt", "--format", "json").stdout)  # type: ignore[attr-defined]
    assert data["columns"][0]["name"] == "id" and data["ddl"].startswith("CREATE TABLE")
    missing = run(cli, "describe", "nope", "-c", "tgt")
    assert isinstance(missing.exception, NotFound)  # type: ignore[attr-defined]


def test_backup_list_verify_and_restore_from_the_cli(cli: typer.Typer, tgt: Target) -> None:  # noqa: F811
    made = run(cli, "backup", "public.all_types", "-c", "tgt", "--format", "json")
    assert made.exit_code == 0, made.output  # type: ignore[attr-defined]
    backup_id = json.loads(made.stdout)["id"]  # type: ignore[attr-defined]
    listed = json.loads(run(cli, "backups", "list", "public.all_types", "--format", "json").stdout)  # type: ignore[attr-defined]
    assert [b["id"] for b in listed] == [backup_id] and listed[0]["rows"] == 41
    verified = run(cli, "backups", "verify", str(backup_id))
    assert verified.exit_code == 0 and "ok: 41 rows" in verified.stdout  # type: ignore[attr-defined]
    restored = run(cli, "restore", str(backup_id), "--into", "copy_of_all")
    assert restored.exit_code == 0 and "public.copy_of_all: 41 rows" in restored.stdout  # type: ignore[attr-defined]
    refused = run(cli, "restore", str(backup_id), "--replace")
    assert refused.exit_code == 2  # type: ignore[attr-defined]
    replaced = run(cli, "restore", str(backup_id), "--replace", "--yes")
    assert replaced.exit_code == 0, replaced.output  # type: ignore[attr-defined]
    assert tgt.execute("SELECT count(*) FROM public.all_types") == [(41,)]

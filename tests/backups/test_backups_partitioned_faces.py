"""A partitioned table backed up and restored through the two faces: `petcare-dba backup` and
`restore --into ... --with-indexes` (CLI), and the Backups page (AppTest from the entrypoint)."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
import typer
from streamlit.testing.v1 import AppTest

from petcare_dba.services import backups
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from tests.backups.fix_partitioned import definition, except_both_ways, parts  # noqa: F401
from tests.explorer.test_explorer_cli import cli, run  # noqa: F401
from tests.fix_db import ADMIN_PASSWORD
from tests.fix_explorer import Target, tgt  # noqa: F401
from tests.fix_ui import sign_in

pytestmark = pytest.mark.slow


def test_cli_backs_up_a_partitioned_table_and_restores_it_with_indexes(
    cli: typer.Typer,  # noqa: F811
    parts: Target,  # noqa: F811
) -> None:
    made = run(cli, "backup", "public.events", "-c", "tgt", "--format", "json")
    assert made.exit_code == 0, made.output  # type: ignore[attr-defined]
    out = json.loads(made.stdout)  # type: ignore[attr-defined]
    assert out["partitioned"] and out["rows"] == 300 and len(out["members"]) == 8
    plain = run(cli, "backup", "public.events", "-c", "tgt")
    assert "public.events_2025_h1:" in plain.stdout  # type: ignore[attr-defined]
    assert run(cli, "backups", "verify", str(out["id"])).exit_code == 0  # type: ignore[attr-defined]
    restored = run(cli, "restore", str(out["id"]), "--into", "cli_copy", "--with-indexes")
    text = restored.output  # type: ignore[attr-defined]
    assert restored.exit_code == 0, text  # type: ignore[attr-defined]
    assert "into public.cli_copy: 300 rows" in text
    assert "partition: public.cli_copy_2025_h0" in text
    assert "recreated: index cli_copy_region_idx" in text
    assert "not recreated: foreign key events_kind_fkey" in text
    original, copy = definition(parts, "public.events"), definition(parts, "public.cli_copy")
    for key in ("columns", "constraints", "indexes", "tree"):
        assert copy[key] == original[key], key
    assert except_both_ways(parts, "public.events", "public.cli_copy") == (0, 0)
    refused = run(cli, "restore", str(out["id"]), "--replace")
    assert refused.exit_code != 0  # type: ignore[attr-defined]
    parts.execute("DELETE FROM public.events WHERE at < '2024-06-01'")
    replaced = run(cli, "restore", str(out["id"]), "--replace", "--yes")
    assert replaced.exit_code == 0, replaced.output  # type: ignore[attr-defined]
    assert parts.execute("SELECT count(*) FROM public.events") == [(300,)]


def _go(at: AppTest) -> AppTest:
    at.session_state["connection"] = "tgt"
    at.run()
    assert not at.exception, at.exception
    return at


def test_backups_page_restores_a_partitioned_table_with_its_indexes(
    app: Callable[[], AppTest],
    admin: Actor,
    rt: Runtime,
    parts: Target,  # noqa: F811
) -> None:
    at = sign_in(app(), "admin", ADMIN_PASSWORD)
    at.switch_page("pages/backups.py")
    _go(at)
    at.selectbox(key="backups_table").select("public.events")
    _go(at)
    at.button(key="backups_run").click()
    _go(at)
    assert at.success and "300" in at.success[0].value
    [entry] = backups.list_backups(rt, admin, "tgt")
    assert entry.partitioned
    at.text_input(key="backups_into").input("ui_copy")
    at.checkbox(key="backups_with_indexes").check()
    _go(at)
    at.button(key="backups_restore").click()
    _go(at)
    shown = [i.value.replace("\\", "") for i in at.info]  # markdown escapes removed
    assert any("public.ui_copy_2024_care" in i for i in shown)
    assert any("index ui_copy_region_idx" in i for i in shown)
    assert any("foreign key" in w.value for w in at.warning)
    original, copy = definition(parts, "public.events"), definition(parts, "public.ui_copy")
    for key in ("columns", "constraints", "indexes", "tree"):
        assert copy[key] == original[key], key

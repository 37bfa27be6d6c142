"""The security CLI in-process: user passwd, user totp, keys rotate, audit export/reconcile,
export-head and check-heads, events."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from petcare_dba import settings as settings_mod
from petcare_dba.cli import app, security
from petcare_dba.errors import AuthError, ValidationError
from petcare_dba.services import connections
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import auth
from tests.fix_db import USER_PASSWORD, PgServer

if not any(c.name == "passwd" for c in security.user_app.registered_commands):
    security.register(app)  # until the lead wires cli/security.py into cli/__init__.py


@pytest.fixture
def cli(test_settings: settings_mod.Settings, admin: Actor, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    for name, source in test_settings.sources.items():
        if source == "env":
            monkeypatch.setenv("PETCARE_" + name.upper(), str(test_settings.values[name]))
    runner = CliRunner()
    return lambda *args, **kw: runner.invoke(app, list(args), catch_exceptions=False, **kw)


def test_user_passwd_revokes_sessions_and_totp_commands(
    cli, rt: Runtime, make_user, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    make_user("cleo", "viewer")
    signed = auth.login(rt.store, rt.settings, "cleo", USER_PASSWORD)
    monkeypatch.setenv("PETCARE_NEW_PASSWORD", "Wb3-marble-thistle-64")
    result = cli("user", "passwd", "cleo")
    assert result.exit_code == 0 and "1 session(s) revoked" in result.output
    assert auth.resolve(rt.store, rt.settings, signed.token) is None
    result = cli("user", "totp", "enable", "cleo")
    assert result.exit_code == 0 and "otpauth://totp/" in result.output
    with pytest.raises(AuthError):
        auth.login(rt.store, rt.settings, "cleo", "Wb3-marble-thistle-64", keyring=rt.keyring)
    assert cli("user", "totp", "disable", "cleo").exit_code == 0
    assert auth.login(rt.store, rt.settings, "cleo", "Wb3-marble-thistle-64").actor.username


def test_keys_rotate_with_a_new_key_file(
    cli, rt: Runtime, admin: Actor, pg: PgServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    connections.add(rt, admin, "k1", pg.admin_url("postgres"))
    with pytest.raises(ValidationError, match="PETCARE_SECRET_KEY"):
        cli("keys", "rotate")  # an env key cannot be rewritten in place
    key_file = tmp_path / "rotated.key"
    result = cli("keys", "rotate", "--new-key-file", str(key_file), "--reseal")
    assert result.exit_code == 0, result.output
    assert "1 connection(s), 0 alert channel secret(s) and 0 sealed setting(s) re-sealed" in (
        " ".join(result.output.split())
    )
    assert key_file.exists()


def test_audit_export_reconcile_heads_and_events(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "audit.jsonl"
    result = cli("audit", "export", "--format", "jsonl", "--since", "1h", "-o", str(out))
    assert result.exit_code == 0, result.output
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert rows and rows[0]["action"] == "user.create"
    csv_text = cli("audit", "export", "--format", "csv").output
    assert csv_text.startswith("chain_seq,at,username")
    assert "0 orphaned" in cli("audit", "reconcile", "--minutes", "5").output
    heads = tmp_path / "heads"
    assert cli("audit", "export-head", "--dir", str(heads)).exit_code == 0
    assert cli("audit", "check-heads", str(heads)).exit_code == 0
    events = json.loads(cli("audit", "events", "--since", "1h").output)
    assert events == []

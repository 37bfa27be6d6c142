"""Issue 13: a misconfigured second instance cannot break the first.

Two runtimes on one store: the second, started without the first's secret key (or with another
key, or with another runtime password), refuses to start and leaves the shared login role's
password as it was; the password changes only when the operator asks for it.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from petcare_dba import settings as settings_mod
from petcare_dba.errors import ConfigError, CryptoError
from petcare_dba.services import crypto
from petcare_dba.services.runtime import Runtime, runtime_url
from tests.fix_db import RUNTIME_PASSWORD


def _verifier(meta_url: str) -> str | None:
    """petcare_login's stored password verifier (the store's superuser reads pg_authid)."""
    with psycopg.connect(meta_url) as conn:
        row = conn.execute(
            "SELECT rolpassword FROM pg_catalog.pg_authid WHERE rolname = 'petcare_login'"
        ).fetchone()
    assert row is not None
    return None if row[0] is None else str(row[0])


def _checks_passwords(meta_url: str) -> bool:
    try:
        psycopg.connect(
            runtime_url(meta_url, "certainly-not-the-password"), connect_timeout=5
        ).close()
    except psycopg.OperationalError:
        return True
    return False


def _second(meta_url: str, data_dir: Path, **env: str) -> settings_mod.Settings:
    return settings_mod.load(
        env={"PETCARE_DATABASE_URL": meta_url, "PETCARE_DATA_DIR": str(data_dir), **env}
    )


def _first_still_connects(rt: Runtime, meta_url: str) -> None:
    with rt.store.tx() as tx:
        assert tx.all("key_versions")
    with psycopg.connect(runtime_url(meta_url, RUNTIME_PASSWORD)) as conn:  # a NEW connection
        assert conn.execute("SELECT 1").fetchone() == (1,)


@pytest.mark.parametrize("key", ["missing", "other"])
def test_a_second_instance_without_the_key_refuses_before_changing_anything(
    rt: Runtime, meta_url: str, tmp_path: Path, key: str
) -> None:
    before = _verifier(meta_url)
    env = {} if key == "missing" else {"PETCARE_SECRET_KEY": crypto.generate_key()}
    # its own data dir: its own generated runtime password, as in the issue
    settings = _second(meta_url, tmp_path / "second", **env)
    with pytest.raises((ConfigError, CryptoError)):
        Runtime.start(settings, create_key=True)  # even `up`'s key creation must not help
    assert _verifier(meta_url) == before
    _first_still_connects(rt, meta_url)


def test_a_second_instance_with_the_key_but_another_runtime_password_refuses(
    rt: Runtime, meta_url: str, test_settings: settings_mod.Settings, tmp_path: Path
) -> None:
    before = _verifier(meta_url)
    settings = _second(
        meta_url,
        tmp_path / "second",
        PETCARE_SECRET_KEY=str(test_settings.secret_key),
        PETCARE_RUNTIME_PASSWORD="another-runtime-password-9876",
    )
    if _checks_passwords(meta_url):
        with pytest.raises(ConfigError, match="different password") as info:
            Runtime.start(settings)
        assert "PETCARE_RUNTIME_PASSWORD" in (info.value.hint or "")
    else:  # a trust-auth server (PG 15 here) lets it in, but the password must still not change
        Runtime.start(settings).close()
    assert _verifier(meta_url) == before
    _first_still_connects(rt, meta_url)


def test_the_password_changes_only_when_the_operator_asks(
    rt: Runtime, meta_url: str, test_settings: settings_mod.Settings, tmp_path: Path
) -> None:
    before = _verifier(meta_url)
    asked = _second(
        meta_url,
        tmp_path / "second",
        PETCARE_SECRET_KEY=str(test_settings.secret_key),
        PETCARE_RUNTIME_PASSWORD="another-runtime-password-9876",
        PETCARE_RUNTIME_PASSWORD_RESET="1",
    )
    try:
        second = Runtime.start(asked)
        second.close()
        assert _verifier(meta_url) != before
    finally:  # the role is cluster-wide: put the suite's password back for the other tests
        back = _second(
            meta_url,
            tmp_path / "third",
            PETCARE_SECRET_KEY=str(test_settings.secret_key),
            PETCARE_RUNTIME_PASSWORD=RUNTIME_PASSWORD,
            PETCARE_RUNTIME_PASSWORD_RESET="1",
        )
        Runtime.start(back).close()
    _first_still_connects(rt, meta_url)

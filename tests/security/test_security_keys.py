"""Stored credentials (reliability C1-C4, C6): envelope encryption in the table, no key no start,
strict decryption, key rotation after which the old key decrypts nothing, RLS on credentials."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from petcare_dba.errors import ConfigError, CryptoError, NotFound, ValidationError
from petcare_dba.services import connections, crypto, settings_admin, settings_overlay
from petcare_dba.services.alerts import channels
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import audit, keys
from petcare_dba.settings import Settings
from tests.fix_db import PgServer
from tests.fix_monitoring import WebhookReceiver, webhook

__all__ = ["webhook"]  # the fixture is used by name

SECRET = "Pw-for-c1-test-7781"


def _url_with_password(pg: PgServer) -> str:
    """The test server's URL with a password in it (trust auth ignores it; the text matters)."""
    base = pg.admin_url("postgres")
    scheme, rest = base.split("://", 1)
    user_host = rest.split("@", 1)
    host = user_host[-1]
    user = user_host[0].split(":")[0] if len(user_host) == 2 else "postgres"
    return f"{scheme}://{user}:{SECRET}@{host}"


def test_password_column_is_sealed_with_a_key_version_and_a_flipped_byte_fails(
    rt: Runtime, admin, pg: PgServer, meta_url: str
) -> None:  # type: ignore[no-untyped-def]
    connections.add(rt, admin, "c1", _url_with_password(pg))
    with psycopg.connect(meta_url) as conn:
        blob, version, shown = conn.execute(
            "SELECT secret_enc, key_version, display_url FROM petcare.connections"
        ).fetchone()
        assert SECRET.encode() not in bytes(blob) and SECRET not in shown
        assert crypto.Keyring.version_of(bytes(blob)) == version == 1
        flipped = bytearray(bytes(blob))
        flipped[-5] ^= 0x01
        conn.execute("UPDATE petcare.connections SET secret_enc = %s", (bytes(flipped),))
    with pytest.raises(CryptoError, match="integrity"):
        connections.resolve_url(rt, admin, "c1")
    assert not connections.check(rt, admin, "c1").ok


def test_plaintext_or_unknown_version_credentials_are_refused(
    rt: Runtime, admin, pg: PgServer, meta_url: str
) -> None:  # type: ignore[no-untyped-def]
    connections.add(rt, admin, "plain", _url_with_password(pg))
    connections.add(rt, admin, "future", _url_with_password(pg))
    with psycopg.connect(meta_url) as conn:
        conn.execute(
            "UPDATE petcare.connections SET secret_enc = convert_to(%s, 'UTF8') "
            "WHERE name = 'plain'",
            (_url_with_password(pg),),
        )
        (blob,) = conn.execute(
            "SELECT secret_enc FROM petcare.connections WHERE name = 'future'"
        ).fetchone()
        forged = crypto.MAGIC + (7).to_bytes(4, "big") + bytes(blob)[7:]
        conn.execute(
            "UPDATE petcare.connections SET secret_enc = %s WHERE name = 'future'", (forged,)
        )
    with pytest.raises(CryptoError, match="not encrypted"):
        connections.resolve_url(rt, admin, "plain")
    with pytest.raises(CryptoError, match="unknown key version 7"):
        connections.resolve_url(rt, admin, "future")


@pytest.mark.parametrize("key", ["", "changeme", "SAMPLE_KEY", "c2hvcnQ="])
def test_the_app_refuses_to_start_with_a_missing_short_or_sample_key(
    test_settings: Settings, key: str, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        **{
            "PETCARE_" + n.upper(): str(test_settings.values[n])
            for n, s in test_settings.sources.items()
            if s == "env"
        },
        "PETCARE_SECRET_KEY": key,
        "PETCARE_DATA_DIR": str(tmp_path / "fresh"),
    }
    with pytest.raises(ConfigError):
        Runtime.start(test_settings.with_overrides(secret_key=key, data_dir=str(tmp_path / "x")))
    proc = subprocess.run(
        [sys.executable, "-c", "from petcare_dba.cli import main; main()", "audit", "list"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode != 0
    assert "key" in proc.stderr and "Traceback" not in proc.stderr


def test_rotation_rewraps_every_key_connections_still_work_and_the_old_key_is_dead(
    rt: Runtime, admin, pg: PgServer, test_settings: Settings, tmp_path: Path, meta_url: str
) -> None:  # type: ignore[no-untyped-def]
    for name in ("r1", "r2"):
        connections.add(rt, admin, name, pg.admin_url("postgres"))
    old_kek = rt.keyring.kek
    with pytest.raises(ValidationError, match="PETCARE_SECRET_KEY"):
        keys.rotate(rt, admin)  # the env key cannot be rewritten in place
    key_path = tmp_path / "new.key"
    result = keys.rotate(rt, admin, new_key_file=key_path, reseal=True)
    assert result.rewrapped_versions == 1 and result.resealed_connections == 2
    assert (key_path.stat().st_mode & 0o777) == 0o600
    new_key = key_path.read_text().strip()
    # the rotating process keeps working
    assert all(connections.check(rt, admin, n).ok for n in ("r1", "r2"))
    # a new process with the new key works ...
    fresh = Runtime.start(test_settings.with_overrides(secret_key=new_key))
    try:
        assert all(connections.check(fresh, admin, n).ok for n in ("r1", "r2"))
    finally:
        fresh.close()
    # ... and with the old key it refuses to start
    with pytest.raises(CryptoError, match="different secret key"):
        Runtime.start(test_settings)
    # no stored data key unwraps under the old KEK, even ignoring the kek_id label
    with psycopg.connect(meta_url) as conn:
        rows = conn.execute("SELECT version, wrapped_dek FROM petcare.encryption_keys").fetchall()
        versions = {v for (v,) in conn.execute("SELECT key_version FROM petcare.connections")}
    assert versions == {2}
    for version, wrapped in rows:
        wrapped = bytes(wrapped)
        with pytest.raises(InvalidTag):
            AESGCM(old_kek).decrypt(wrapped[:12], wrapped[12:], b"petcare-dek:v%d" % version)
    assert [e.outcome for e in audit.search(rt.store, admin, action="keys.rotate")] == ["ok"]


def test_reseal_moves_channel_secrets_and_sealed_settings_to_the_new_data_key(
    rt: Runtime,
    admin,
    test_settings: Settings,
    tmp_path: Path,
    meta_url: str,
    webhook: WebhookReceiver,
) -> None:  # type: ignore[no-untyped-def]
    """A reseal (a data key may have leaked) leaves no alert channel secret or sealed setting
    under the old version; each opens, by its owner's own purpose, in a process with the new
    key; a sealed setting's value is unchanged and so is its time."""
    signing = channels.add_webhook(rt, admin, "ops", webhook.url)
    settings_admin.set_value(rt, admin, "gemini_api_key", "AIza-reseal-0123456789")

    def stored() -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
        with psycopg.connect(meta_url) as conn:
            chans = conn.execute(
                "SELECT name, secret_enc, key_version FROM petcare.alert_channels"
            ).fetchall()
            sets = conn.execute(
                "SELECT name, secret_enc, key_version, updated_at FROM petcare.setting_overrides "
                "WHERE secret_enc IS NOT NULL"
            ).fetchall()
        return chans, sets

    (before_chans, before_sets) = stored()
    assert [r[2] for r in before_chans] == [1] and [r[2] for r in before_sets] == [1]
    result = keys.rotate(rt, admin, new_key_file=tmp_path / "new.key", reseal=True)
    assert (result.resealed_channels, result.resealed_settings) == (1, 1)
    chans, sets = stored()
    for _, blob, version, *_ in (*chans, *sets):
        assert version == 2 and bytes(blob)[3:7] == (2).to_bytes(4, "big")  # the envelope too
    assert sets[0][3] == before_sets[0][3]  # a re-encryption, not a new value
    fresh = Runtime.start(
        test_settings.with_overrides(secret_key=(tmp_path / "new.key").read_text().strip())
    )
    try:
        secret = json.loads(fresh.keyring.open(bytes(chans[0][1]), channels.purpose("ops")))
        assert secret == {"url": webhook.url, "hmac_secret": signing}
        assert settings_overlay.read(fresh.store, fresh.keyring)["gemini_api_key"] == (
            "AIza-reseal-0123456789"
        )
    finally:
        fresh.close()
    [entry] = audit.search(rt.store, admin, action="keys.rotate")
    assert (entry.detail["resealed_channels"], entry.detail["resealed_settings"]) == (1, 1)


def test_rotation_of_the_key_file_replaces_it(
    test_settings: Settings, tmp_path: Path, pg: PgServer
) -> None:
    settings = test_settings.with_overrides(secret_key="", data_dir=str(tmp_path))
    rt = Runtime.start(settings, create_key=True)
    try:
        from petcare_dba.services.security import users

        users.ensure_first_admin(rt)
        admin = users.actor_for(rt, None)
        connections.add(rt, admin, "kf", pg.admin_url("postgres"))
        path = tmp_path / "secrets" / "secret.key"
        before = path.read_text()
        keys.rotate(rt, admin)
        assert path.read_text() != before and not path.with_name("secret.key.new").exists()
    finally:
        rt.close()
    again = Runtime.start(settings)
    try:
        assert connections.check(again, admin, "kf").ok
    finally:
        again.close()


def test_other_users_cannot_read_update_or_decrypt_a_private_connection(
    rt: Runtime, admin, make_user, pg: PgServer
) -> None:  # type: ignore[no-untyped-def]
    """C6: the owner (and admins) can; another user cannot unless it is shared or granted."""
    dba = make_user("dora", "dba")
    other = make_user("otto", "analyst")
    connections.add(rt, dba, "dora-db", pg.admin_url("postgres"))
    with rt.store.tx(other.identity) as tx:
        assert tx.value("SELECT count(*) FROM petcare.connections") == 0
        assert tx.execute("UPDATE petcare.connections SET description = 'x'") == 0
        assert tx.execute("DELETE FROM petcare.connections") == 0
    with pytest.raises(NotFound):
        connections.resolve_url(rt, other, "dora-db")
    assert connections.resolve_url(rt, dba, "dora-db")
    assert connections.resolve_url(rt, admin, "dora-db")
    conn_id = connections.get(rt, dba, "dora-db").id
    with rt.store.tx(admin.identity) as tx:
        tx.execute(
            "INSERT INTO petcare.connection_grants (connection_id, user_id) VALUES (%s, %s)",
            (conn_id, other.user_id),
        )
    assert connections.resolve_url(rt, other, "dora-db")

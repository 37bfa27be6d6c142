"""Key rotation: rewrap every data key under a new key-encryption key (reliability C4).

`rotate` generates a new KEK (or takes one), rewraps every stored data key (DEK) under it in one
transaction and, with `reseal`, first creates a new DEK version and re-encrypts under it every
stored connection, alert channel secret and sealed run-time setting. TOTP secrets stay under
their version (still readable: every version is rewrapped), because the app's role never reads
them; only the sign-in's definer function does, for the user signing in. The new KEK is written
next to its destination before the transaction and moved into place after the commit, so a crash
leaves either the old state or `<file>.new` holding the key that the database now needs.
Afterwards the old KEK unwraps nothing: every DEK row names the new KEK's fingerprint and is
sealed under it. Other running app instances keep their unwrapped keys in memory until
restarted; restart them after a rotation (with `reseal` they cannot read secrets sealed under the
new version until then).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from petcare_dba.db.metastore import Tx
from petcare_dba.errors import PetcareError, ValidationError
from petcare_dba.messages import say
from petcare_dba.services import crypto, settings_overlay
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime, key_file
from petcare_dba.services.security import audit


@dataclass(frozen=True)
class Rotation:
    """What a rotation changed."""

    rewrapped_versions: int
    resealed_connections: int
    resealed_channels: int
    resealed_settings: int
    new_version: int | None
    kek_id: str
    key_file: str


def _destination(rt: Runtime, new_key_file: Path | None) -> Path:
    if new_key_file is not None:
        return new_key_file
    if rt.settings.secret_key:
        raise ValidationError(say("msg.keys.from_env"), hint=say("msg.keys.from_env.hint"))
    return key_file(rt.settings)


def _stage(path: Path, key_text: str) -> Path:
    """Write the new key to `<path>.new` (0600) before the database changes."""
    staged = path.with_name(path.name + ".new")
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if staged.exists():
        staged.unlink()
    fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(key_text + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    return staged


def rotate(
    rt: Runtime,
    actor: Actor,
    *,
    new_key_file: Path | None = None,
    new_key: str | None = None,
    reseal: bool = False,
) -> Rotation:
    """Rewrap every data key under a new KEK (admins); optionally re-seal every connection."""
    actor.require("admin", say("msg.access.rotating_encryption_keys"))
    key_text = new_key or crypto.generate_key()
    new_kek = crypto.parse_key(key_text, "the new key")
    if crypto.kek_id(new_kek) == crypto.kek_id(rt.keyring.kek):
        raise ValidationError(say("msg.keys.same"))
    destination = _destination(rt, new_key_file)
    staged = _stage(destination, key_text)
    keyring = crypto.Keyring(rt.keyring.kek, dict(rt.keyring.deks))
    resealed = 0
    others = {"channels": 0, "settings": 0}
    new_version = None
    try:
        with rt.store.tx(actor.identity) as tx:
            if reseal:
                added = keyring.new_version()
                new_version = added.version
                tx.execute(
                    "key_insert",
                    {
                        "version": added.version,
                        "wrapped_dek": keyring.wrap(added.version, new_kek).wrapped_dek,
                        "kek_id": crypto.kek_id(new_kek),
                    },
                )
                for row in tx.all("connection_all_secrets"):
                    purpose = f"connection:{row['name']}"
                    plain = keyring.open(bytes(row["secret_enc"]), purpose)
                    read_enc = row["read_secret_enc"]
                    if read_enc is not None:  # the read-only credential (issue 12)
                        read_purpose = f"{purpose}:read"
                        read_plain = keyring.open(bytes(read_enc), read_purpose)
                        read_enc = keyring.seal(read_plain, read_purpose)
                    tx.execute(
                        "connection_reseal",
                        {
                            "id": row["id"],
                            "secret_enc": keyring.seal(plain, purpose),
                            "key_version": keyring.current_version,
                            "read_secret_enc": read_enc,
                        },
                    )
                    resealed += 1
                others = _reseal_others(tx, keyring)
            stored = tx.all("key_versions")
            for row in stored:
                if new_version is not None and row["version"] == new_version:
                    continue
                wrapped = keyring.wrap(int(row["version"]), new_kek)
                tx.execute(
                    "key_rewrap",
                    {
                        "version": wrapped.version,
                        "wrapped_dek": wrapped.wrapped_dek,
                        "kek_id": wrapped.kek_id,
                    },
                )
    except BaseException as exc:
        staged.unlink(missing_ok=True)
        if isinstance(exc, PetcareError):
            audit.record(rt.store, actor, "keys.rotate", "error", detail={"error": exc.message})
        raise
    os.replace(staged, destination)
    rt.keyring.kek = new_kek
    rt.keyring.deks = keyring.deks
    result = Rotation(
        len(stored) - (1 if new_version is not None else 0),
        resealed,
        others["channels"],
        others["settings"],
        new_version,
        crypto.kek_id(new_kek),
        str(destination),
    )
    audit.record(
        rt.store,
        actor,
        "keys.rotate",
        "ok",
        detail={
            "rewrapped_versions": result.rewrapped_versions,
            "resealed_connections": resealed,
            "resealed_channels": result.resealed_channels,
            "resealed_settings": result.resealed_settings,
            "new_version": new_version,
            "kek_id": result.kek_id,
        },
    )
    return result


def _reseal_others(tx: Tx, keyring: crypto.Keyring) -> dict[str, int]:
    """Re-seal alert channel secrets and sealed settings under the keyring's current version."""
    version = keyring.current_version
    channels = tx.all("channel_all_secrets")
    for row in channels:
        # services.alerts.channels.purpose; alerts imports security, so it is restated here
        # (tests/security/test_security_keys.py opens each re-sealed secret by the owner's own).
        purpose = f"alert_channel:{row['name']}"
        plain = keyring.open(bytes(row["secret_enc"]), purpose)
        sealed = keyring.seal(plain, purpose)
        tx.execute(
            "channel_reseal", {"id": row["id"], "secret_enc": sealed, "key_version": version}
        )
    settings = tx.all("setting_all_secrets")
    for row in settings:
        purpose = settings_overlay.purpose(row["name"])
        sealed = keyring.seal(keyring.open(bytes(row["secret_enc"]), purpose), purpose)
        tx.execute(
            "setting_reseal", {"name": row["name"], "secret_enc": sealed, "key_version": version}
        )
    return {"channels": len(channels), "settings": len(settings)}

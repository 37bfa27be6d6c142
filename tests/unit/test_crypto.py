"""Envelope encryption of stored credentials (reliability C1, C2, C3)."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

from petcare_dba.errors import ConfigError, CryptoError
from petcare_dba.services import crypto


def ring() -> crypto.Keyring:
    keyring = crypto.Keyring(crypto.parse_key(crypto.generate_key(), "test"))
    keyring.new_version()
    return keyring


def test_sealed_secret_is_not_plaintext_and_carries_key_version() -> None:
    keyring = ring()
    blob = keyring.seal("postgresql://u:hunter2-secret@h/db", "connection:demo")
    assert b"hunter2" not in blob and blob.startswith(crypto.MAGIC)
    assert crypto.Keyring.version_of(blob) == 1
    assert keyring.open(blob, "connection:demo") == "postgresql://u:hunter2-secret@h/db"


@pytest.mark.parametrize("index", [0, 5, 10, 20, -1])
def test_flipped_byte_fails_to_decrypt(index: int) -> None:
    keyring = ring()
    blob = bytearray(keyring.seal("secret", "connection:a"))
    blob[index] ^= 0x01
    with pytest.raises(CryptoError):
        keyring.open(bytes(blob), "connection:a")


def test_other_purpose_plaintext_and_unknown_version_are_refused() -> None:
    keyring = ring()
    blob = keyring.seal("secret", "connection:a")
    with pytest.raises(CryptoError, match="integrity"):
        keyring.open(blob, "connection:b")
    with pytest.raises(CryptoError, match="not encrypted"):
        keyring.open(b"postgresql://u:p@h/db", "connection:a")
    forged = crypto.MAGIC + (99).to_bytes(4, "big") + blob[7:]
    with pytest.raises(CryptoError, match="unknown key version 99"):
        keyring.open(forged, "connection:a")


def test_wrapped_keys_reload_only_with_the_same_kek() -> None:
    keyring = ring()
    wrapped = keyring.wrap(1)
    blob = keyring.seal("secret", "p")
    again = crypto.Keyring(keyring.kek).load([wrapped])
    assert again.open(blob, "p") == "secret"
    other = crypto.Keyring(crypto.parse_key(crypto.generate_key(), "other"))
    with pytest.raises(CryptoError, match="different secret key"):
        other.load([wrapped])
    tampered = crypto.WrappedKey(1, wrapped.wrapped_dek[:-1] + b"\x00", wrapped.kek_id)
    with pytest.raises(CryptoError, match="cannot be unwrapped"):
        crypto.Keyring(keyring.kek).load([tampered])


@pytest.mark.parametrize(
    "value",
    [
        "",
        "changeme",
        "SAMPLE_KEY",
        base64.b64encode(b"x" * 16).decode(),
        base64.b64encode(b"a" * 40).decode(),
        "not base64 !!",
    ],
)
def test_missing_short_sample_or_weak_keys_are_refused(value: str) -> None:
    with pytest.raises(ConfigError):
        crypto.parse_key(value, "PETCARE_SECRET_KEY")


def test_key_file_is_created_0600_and_refused_when_world_readable(tmp_path: Path) -> None:
    path = tmp_path / "secrets" / "secret.key"
    with pytest.raises(ConfigError, match="does not exist"):
        crypto.load_key_file(path, create=False)
    key = crypto.load_key_file(path, create=True)
    assert len(key) == 32 and (path.stat().st_mode & 0o777) == 0o600
    assert crypto.load_key_file(path, create=False) == key
    os.chmod(path, 0o644)
    with pytest.raises(ConfigError, match="readable by other users"):
        crypto.load_key_file(path, create=False)

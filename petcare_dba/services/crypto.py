"""Envelope encryption of stored credentials (AES-256-GCM data keys wrapped by a KEK).

The key-encryption key (KEK) comes from `PETCARE_SECRET_KEY` or a key file; it never touches the
database. Each key version is a random 256-bit data key (DEK) stored only wrapped by the KEK
(AES-GCM, with the version as associated data). A secret is sealed as
`b"PC1" | version (4 bytes) | nonce (12) | ciphertext+tag`, with its purpose as associated data, so
a flipped byte, a swapped purpose or an unknown version fails to decrypt instead of yielding
garbage (reliability C1/C3). Rotation rewraps every DEK under a new KEK (C4).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
import struct
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from petcare_dba.errors import ConfigError, CryptoError
from petcare_dba.messages import say

MAGIC = b"PC1"
MIN_KEY_BYTES = 32
# Values seen in tutorials and sample configs; a key equal to one of them is refused (C2).
_SAMPLE_KEYS = {b"changeme", b"secret", b"SAMPLE_KEY", b"0" * 32, b"a" * 32}


def generate_key() -> str:
    """A new KEK as url-safe base64 of 32 random bytes."""
    return base64.urlsafe_b64encode(secrets.token_bytes(MIN_KEY_BYTES)).decode("ascii")


def parse_key(text: str, source: str) -> bytes:
    """Decode and validate a KEK; refuses missing, short, sample or low-entropy keys."""
    raw = text.strip()
    if not raw:
        raise ConfigError(
            f"the secret key from {source} is empty",
            hint="set PETCARE_SECRET_KEY (see docs/security.md) or run "
            "`petcare-dba up` once to generate the key file",
        )
    if raw.encode() in _SAMPLE_KEYS:
        raise ConfigError(
            f"the secret key from {source} is a well-known sample value",
            hint="generate one: petcare-dba keys generate",
        )
    key: bytes | None = None
    for decode in (base64.urlsafe_b64decode, base64.b64decode, bytes.fromhex):
        try:
            key = decode(raw + "=" * (-len(raw) % 4) if decode is not bytes.fromhex else raw)
            break
        except (binascii.Error, ValueError):
            continue
    if key is None:
        raise ConfigError(f"the secret key from {source} is not base64 or hex")
    if len(key) < MIN_KEY_BYTES:
        raise ConfigError(
            f"the secret key from {source} has {len(key)} bytes; at least "
            f"{MIN_KEY_BYTES} random bytes are required",
            hint="generate one: petcare-dba keys generate",
        )
    if key in _SAMPLE_KEYS or len(set(key)) < 8:
        raise ConfigError(
            f"the secret key from {source} is not random enough",
            hint="generate one: petcare-dba keys generate",
        )
    return key


def load_key_file(path: Path, create: bool) -> bytes:
    """Read the KEK from its file, creating it (0600) when allowed and absent."""
    if not path.exists():
        if not create:
            raise ConfigError(
                f"the key file {path} does not exist",
                hint="set PETCARE_SECRET_KEY or restore the key file; without it "
                "stored credentials cannot be decrypted",
            )
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(generate_key() + "\n")
    mode = path.stat().st_mode & 0o077
    if mode:
        raise ConfigError(
            f"the key file {path} is readable by other users", hint=f"chmod 600 {path}"
        )
    return parse_key(path.read_text(encoding="ascii"), str(path))


def kek_id(kek: bytes) -> str:
    """A short public fingerprint of a KEK (which KEK wrapped a DEK)."""
    return hashlib.sha256(b"petcare-kek-id" + kek).hexdigest()[:16]


def _dek_aad(version: int) -> bytes:
    return b"petcare-dek:v%d" % version


@dataclass(frozen=True)
class WrappedKey:
    """A key version as stored: the DEK wrapped by the KEK whose fingerprint is kek_id."""

    version: int
    wrapped_dek: bytes
    kek_id: str


@dataclass
class Keyring:
    """Unwrapped data keys in memory, able to seal and open secrets."""

    kek: bytes
    deks: dict[int, bytes] = field(default_factory=dict)

    @property
    def current_version(self) -> int:
        if not self.deks:
            raise CryptoError(
                "no encryption key version exists yet",
                hint="run `petcare-dba migrate` (it creates key version 1)",
            )
        return max(self.deks)

    def new_version(self) -> WrappedKey:
        """Create the next key version and return it wrapped for storage."""
        version = max(self.deks, default=0) + 1
        dek = AESGCM.generate_key(bit_length=256)
        self.deks[version] = dek
        return self.wrap(version)

    def wrap(self, version: int, kek: bytes | None = None) -> WrappedKey:
        kek = kek or self.kek
        nonce = secrets.token_bytes(12)
        wrapped = nonce + AESGCM(kek).encrypt(nonce, self.deks[version], _dek_aad(version))
        return WrappedKey(version, wrapped, kek_id(kek))

    def load(self, stored: list[WrappedKey]) -> Keyring:
        """Unwrap stored key versions; a wrong KEK fails loudly, never yields a bad key."""
        for item in stored:
            if item.kek_id != kek_id(self.kek):
                raise CryptoError(
                    say("msg.crypto.other_key", version=item.version),
                    hint=say("msg.crypto.other_key.hint"),
                )
            nonce, body = item.wrapped_dek[:12], item.wrapped_dek[12:]
            try:
                self.deks[item.version] = AESGCM(self.kek).decrypt(
                    nonce, body, _dek_aad(item.version)
                )
            except InvalidTag as exc:
                raise CryptoError(say("msg.crypto.unwrap", version=item.version)) from exc
        return self

    def seal(self, plaintext: str, purpose: str) -> bytes:
        """Encrypt a secret for storage under the current key version."""
        version = self.current_version
        nonce = secrets.token_bytes(12)
        body = AESGCM(self.deks[version]).encrypt(
            nonce, plaintext.encode("utf-8"), purpose.encode("utf-8")
        )
        return MAGIC + struct.pack(">I", version) + nonce + body

    def open(self, blob: bytes, purpose: str) -> str:
        """Decrypt a stored secret; plaintext, tampered or unknown-version data is refused."""
        blob = bytes(blob)
        if len(blob) < len(MAGIC) + 4 + 12 + 16 or not blob.startswith(MAGIC):
            raise CryptoError(say("msg.crypto.format"), hint=say("msg.crypto.reenter.hint"))
        (version,) = struct.unpack(">I", blob[3:7])
        dek = self.deks.get(version)
        if dek is None:
            raise CryptoError(
                say("msg.crypto.unknown_version", version=version),
                hint=say("msg.crypto.reenter.hint"),
            )
        try:
            return (
                AESGCM(dek).decrypt(blob[7:19], blob[19:], purpose.encode("utf-8")).decode("utf-8")
            )
        except InvalidTag as exc:
            raise CryptoError(
                say("msg.crypto.integrity"), hint=say("msg.crypto.reenter.hint")
            ) from exc

    @staticmethod
    def version_of(blob: bytes) -> int:
        return int(struct.unpack(">I", bytes(blob)[3:7])[0])

"""Where backup files live: the local directory (default) or S3-compatible object storage.

A backup is always written to the local store first (`<dir>.partial`, renamed when complete, as
before). With `backup_storage = s3` each of its files then streams to the bucket (multipart,
never the whole file in memory), its sha256 computed on the bytes as they go up, and the local
folder is removed: the catalogue's `objects` (migration 0028) name each file's key, size and
sha256. Any instance sharing the catalogue reads a backup back by streaming its objects into a
private folder under its own store, refusing an object whose size or sha256 differs from the
catalogue's before a byte of it is believed; the usual checks (`files.load`) then run on that
folder, which `release` removes afterwards. Storage errors become the house's errors here (a
missing object, a bucket that does not exist, refused credentials), never a botocore traceback.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import uuid
from pathlib import Path
from typing import Any

from petcare_dba.errors import ConfigError, NotFound, PetcareError, Unavailable, ValidationError
from petcare_dba.messages import say
from petcare_dba.services.backups import files
from petcare_dba.settings import Settings

try:  # the `[s3]` extra
    import boto3
    from boto3.s3.transfer import TransferConfig
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:  # pragma: no cover - exercised only without the extra
    boto3 = None

LOCAL = "local"
FETCHED = ".fetched"  # under the local store: folders streamed back from object storage
CHUNK = 1 << 20
_PART = 8 << 20  # multipart part size: at most a few parts in memory at once
_SEGMENT = re.compile(r"[^A-Za-z0-9_.-]+")


class StoredFileTampered(files.Tampered):
    """A stored object whose size or sha256 differs from the catalogue's."""


class _Hashing:
    """A read-only stream that hashes what passes through it (no seek: uploads read in order)."""

    def __init__(self, raw: Any) -> None:
        self.raw = raw
        self.sha = hashlib.sha256()
        self.bytes = 0

    def read(self, size: int = -1) -> bytes:
        chunk: bytes = self.raw.read(size)
        self.sha.update(chunk)
        self.bytes += len(chunk)
        return chunk


class S3Storage:
    """One bucket of S3-compatible storage, with the house's errors."""

    def __init__(self, settings: Settings) -> None:
        if boto3 is None:
            raise ConfigError(say("msg.backups.no_boto3"), hint=say("msg.backups.no_boto3.hint"))
        self.bucket = settings.backup_s3_bucket.strip()
        if not self.bucket:
            raise ConfigError(say("msg.backups.no_bucket"))
        self.prefix = "/".join(_segment(p) for p in settings.backup_s3_prefix.split("/") if p)
        self.label = f"s3://{self.bucket}"
        style = "path" if settings.backup_s3_path_style else "auto"
        self.client = boto3.client(
            "s3",
            endpoint_url=settings.backup_s3_endpoint_url.strip() or None,
            region_name=settings.backup_s3_region or None,
            aws_access_key_id=settings.backup_s3_access_key_id or None,
            aws_secret_access_key=settings.backup_s3_secret_access_key or None,
            config=Config(
                s3={"addressing_style": style},
                retries={"max_attempts": 3, "mode": "standard"},
                connect_timeout=settings.connect_timeout_s,
                read_timeout=60,
            ),
        )
        self.transfer = TransferConfig(
            multipart_threshold=_PART, multipart_chunksize=_PART, max_concurrency=2
        )

    def key(self, relative: str, name: str) -> str:
        parts = [*(_segment(p) for p in Path(relative).parts), _segment(name)]
        return "/".join([self.prefix, *parts] if self.prefix else parts)

    def put(self, path: Path, key: str) -> dict[str, Any]:
        """Stream a local file up; its key, byte size and sha256 as the bytes went."""
        with open(path, "rb") as f:
            stream = _Hashing(f)
            self._call(
                key,
                lambda: self.client.upload_fileobj(stream, self.bucket, key, Config=self.transfer),
            )
        head = self._call(key, lambda: self.client.head_object(Bucket=self.bucket, Key=key))
        if int(head["ContentLength"]) != stream.bytes:
            raise Unavailable(say("msg.backups.s3_size", label=self.label, key=key))
        return {"key": key, "bytes": stream.bytes, "sha256": stream.sha.hexdigest()}

    def get(self, backup_id: int, name: str, obj: dict[str, Any], dest: Path) -> None:
        """Stream an object into a new private file; refuse a size or sha256 not catalogued."""
        key = str(obj["key"])
        want = int(obj["bytes"])
        body = self._call(
            key, lambda: self.client.get_object(Bucket=self.bucket, Key=key)["Body"], name
        )
        sha = hashlib.sha256()
        got = 0
        fd = os.open(
            dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600
        )
        try:
            with open(fd, "wb") as out:
                for chunk in body.iter_chunks(CHUNK):
                    got += len(chunk)
                    if got > want:  # an oversized object is never read to its end
                        raise self._tampered(backup_id, f"{name} is larger than catalogued")
                    sha.update(chunk)
                    out.write(chunk)
        finally:
            body.close()
        if got != want or sha.hexdigest() != obj["sha256"]:
            raise self._tampered(backup_id, f"{name} fails its checksum (sha256 mismatch)")

    def delete(self, keys: list[str]) -> None:
        for start in range(0, len(keys), 1000):
            batch = [{"Key": k} for k in keys[start : start + 1000]]
            self._call(
                self.label,
                lambda b=batch: self.client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": b, "Quiet": True}
                ),
            )

    def _tampered(self, backup_id: int, what: str) -> StoredFileTampered:
        return StoredFileTampered(
            f"backup {backup_id} is refused: its stored file {what} in {self.label}",
            hint="the object was altered in storage; take a new backup (and find out who)",
        )

    def _call(self, key: str, fn: Any, name: str | None = None) -> Any:
        try:
            return fn()
        except ClientError as exc:
            raise self._translate(exc, key, name) from None
        except BotoCoreError as exc:
            raise Unavailable(
                say("msg.backups.unreachable", label=self.label, problem=str(exc)),
                hint=say("msg.backups.unreachable.hint"),
            ) from None

    def _translate(self, exc: ClientError, key: str, name: str | None) -> PetcareError:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code == "NoSuchBucket":
            return ConfigError(
                say("msg.backups.s3_no_bucket", bucket=repr(self.bucket)),
                hint=say("msg.backups.s3_no_bucket.hint"),
            )
        if code in ("NoSuchKey", "404", "NotFound"):
            return NotFound(say("msg.backups.s3_missing", name=name or key, label=self.label))
        if code in ("InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "403"):
            return ConfigError(
                say("msg.backups.s3_credentials", label=self.label, code=code),
                hint=say("msg.backups.s3_credentials.hint"),
            )
        return Unavailable(say("msg.backups.s3_failed", label=self.label, problem=code or str(exc)))


def _segment(part: str) -> str:
    """A key segment from a name: no slash, no `.`/`..` segment, ASCII only."""
    cleaned = _SEGMENT.sub("_", part)[:120]
    return cleaned if cleaned.strip(".") else "_" + cleaned


def configured(settings: Settings) -> S3Storage | None:
    """Where new backups go: an S3Storage, or None for the local directory."""
    return S3Storage(settings) if settings.backup_storage == "s3" else None


def for_entry(settings: Settings, storage: str) -> S3Storage:
    """The storage a catalogued backup's files are in, from this instance's settings."""
    if settings.backup_storage != "s3":
        raise ConfigError(
            say("msg.backups.storage_local", storage=storage),
            hint=say("msg.backups.storage_local.hint"),
        )
    found = S3Storage(settings)
    if found.label != storage:
        raise ConfigError(say("msg.backups.storage_bucket", storage=storage, label=found.label))
    return found


def upload(store: S3Storage, folder: Path, relative: str) -> dict[str, dict[str, Any]]:
    """Stream every file of a finished backup folder up; on failure remove what went up."""
    objects: dict[str, dict[str, Any]] = {}
    try:
        for path in sorted(folder.iterdir()):
            objects[path.name] = store.put(path, store.key(relative, path.name))
    except BaseException:
        try:
            store.delete([o["key"] for o in objects.values()])
        except PetcareError:
            pass  # the catalogue row is failed; an orphan object is only space
        raise
    return objects


def fetch(
    settings: Settings, backup_id: int, storage: str, relative: str, objects: dict[str, Any]
) -> tuple[Path, str]:
    """Stream a backup's objects into a new private folder; (store root, relative) to load."""
    if not isinstance(objects, dict) or not objects:
        raise ValidationError(say("msg.backups.no_files", id=str(backup_id)))
    bucket = for_entry(settings, storage)
    root = files.store_dir(settings) / FETCHED / uuid.uuid4().hex
    files.private_dirs(files.store_dir(settings), root / relative)
    folder = root / relative
    try:
        # The small manifest first: a refusal there costs no data download.
        for name, obj in sorted(objects.items(), key=lambda kv: kv[0] != "manifest.json"):
            plain = files.plain_name(backup_id, name, "a stored file")
            bucket.get(backup_id, plain, obj, folder / plain)
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    return root, relative


def release(settings: Settings, folder: Path) -> None:
    """Remove a folder streamed back from object storage (never a folder of the local store)."""
    fetched = files.store_dir(settings) / FETCHED
    if folder.is_relative_to(fetched) and folder != fetched:
        root = fetched / folder.relative_to(fetched).parts[0]
        shutil.rmtree(root, ignore_errors=True)


def describe(settings: Settings) -> str:
    """Where new backups go, for people: the local directory or s3://bucket/prefix."""
    if settings.backup_storage != "s3":
        return str(files.store_dir(settings))
    where = f"s3://{settings.backup_s3_bucket}/{settings.backup_s3_prefix.strip('/')}"
    endpoint = settings.backup_s3_endpoint_url.strip()
    return f"{where} ({endpoint})" if endpoint else where

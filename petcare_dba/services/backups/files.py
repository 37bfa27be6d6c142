"""A backup's files on disk, read as untrusted input (issue 14, requirement U1).

Anyone who can write the backup store can edit `manifest.json` or swap `data.copy`, so nothing
on disk is believed on its own: the folder must be the catalogued one inside the store (no
symlink), the manifest a bounded JSON object whose file names are plain names in that folder
(no `..`, no absolute path, no link — opened with O_NOFOLLOW), its columns, row count and
sha256 equal to what the catalogue recorded at backup time, and the data file's own sha256 and
row count equal to the catalogue's before a single statement reaches the target. A partitioned
backup's member list and a backup's structure (defaults, checks, bounds: text a restore puts in
DDL) must equal the catalogue's too: the manifest never says them on its own. Column types
then go to `column_sql` (db/target/backup_columns.py), which resolves them through the target's
catalogue.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from petcare_dba.db.target import backup as db
from petcare_dba.db.target import backup_structure as st
from petcare_dba.errors import ValidationError
from petcare_dba.settings import Settings

MANIFEST_MAX_BYTES = 1 << 20
_COLUMN_KEYS = frozenset({"name", "type", "collation", "base", "typmod"})
_PLAIN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")
_HINT = "the backup was altered on disk; take a new backup (and find out who changed it)"


class Tampered(ValidationError):
    """A backup's files disagree with the catalogue or leave its folder."""


@dataclass(frozen=True)
class BackupFiles:
    """What a restore, preview or verify may use: the folder, data file and trusted columns."""

    folder: Path
    data: Path | None  # the first leaf's file (None: a partitioned table without partitions)
    columns: tuple[db.Column, ...]
    manifest: dict[str, Any]
    members: tuple[st.Member, ...] = ()  # from the catalogue; () for backups before 0022
    files: tuple[Path | None, ...] = ()  # each member's data file (None: partitioned member)
    structure: st.Structure | None = None  # from the catalogue; None for backups before 0022


def _refuse(backup_id: int, what: str) -> Tampered:
    return Tampered(f"backup {backup_id} is refused: {what}", hint=_HINT)


def plain_name(backup_id: int, value: object, field: str) -> str:
    """A file name the manifest gives, accepted only as a plain name (no path, no dot-dot)."""
    if (
        not isinstance(value, str)
        or not _PLAIN.match(value)
        or value in (".", "..")
        or ".." in value
        or os.path.isabs(value)
        or os.path.basename(value) != value
    ):
        raise _refuse(backup_id, f"{field} {value!r} is not a plain file name in its folder")
    return value


def folder_of(store: Path, backup_id: int, relative: str) -> Path:
    """The backup's folder inside the store: no absolute path, no `..`, not a symlink."""
    rel = Path(relative)
    if rel.is_absolute() or ".." in rel.parts:
        raise _refuse(backup_id, f"its catalogued path {relative!r} leaves the backup store")
    folder = store / rel
    try:
        info = os.lstat(folder)
    except OSError as exc:
        raise _refuse(backup_id, f"its folder is missing ({exc.strerror})") from exc
    if not stat.S_ISDIR(info.st_mode):
        raise _refuse(backup_id, "its folder is not a directory (a link?)")
    if not folder.resolve().is_relative_to(store.resolve()):
        raise _refuse(backup_id, "its folder resolves outside the backup store")
    return folder


def _manifest(backup_id: int, folder: Path) -> dict[str, Any]:
    with db.open_plain(folder / "manifest.json") as f:
        raw = f.read(MANIFEST_MAX_BYTES + 1)
    if len(raw) > MANIFEST_MAX_BYTES:
        raise _refuse(backup_id, f"manifest.json is larger than {MANIFEST_MAX_BYTES} bytes")
    try:
        manifest = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise _refuse(backup_id, "manifest.json is not valid JSON") from exc
    if not isinstance(manifest, dict) or not isinstance(manifest.get("columns"), list):
        raise _refuse(backup_id, "manifest.json is not a backup manifest")
    return manifest


def _manifest_columns(backup_id: int, manifest: dict[str, Any]) -> tuple[db.Column, ...]:
    out: list[db.Column] = []
    for c in manifest["columns"]:
        if (
            not isinstance(c, dict)
            or not set(c) <= _COLUMN_KEYS  # a "default" or "check" is never the manifest's to say
            or not isinstance(c.get("name"), str)
            or not isinstance(c.get("type"), str)
            or not isinstance(c.get("collation"), str | None)
            or not isinstance(c.get("base"), str | None)
            or not (c.get("typmod") is None or type(c.get("typmod")) is int)
        ):
            raise _refuse(backup_id, "manifest.json has a malformed column entry")
        out.append(
            db.Column(c["name"], c["type"], c.get("collation"), c.get("base"), c.get("typmod"))
        )
    return tuple(out)


def _catalogue_columns(recorded: list[dict[str, Any]]) -> tuple[db.Column, ...]:
    return tuple(
        db.Column(c["name"], c["type"], c.get("collation"), c["base"], int(c["typmod"]))
        for c in recorded
    )


def tree_digest(members: list[dict[str, Any]]) -> str:
    """The catalogue's sha256 of a backup: its one data file's, or over a tree's member list.

    The member list carries every leaf's sha256, so this one value pins every file, bound and
    key of a partitioned backup.
    """
    if len(members) == 1 and not members[0].get("partitioned"):
        return str(members[0]["sha256"])
    canonical = json.dumps(members, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _members(
    backup_id: int, folder: Path, manifest: dict[str, Any], recorded: list[dict[str, Any]]
) -> tuple[tuple[st.Member, ...], tuple[Path | None, ...]]:
    if manifest.get("members") != recorded:
        raise _refuse(backup_id, "the members in manifest.json differ from the catalogue")
    members = tuple(st.Member(**m) for m in recorded)
    paths = tuple(
        None
        if m.partitioned
        else folder / plain_name(backup_id, m.data_file, f"the data file of {m.table}")
        for m in members
    )
    return members, paths


def load(
    store: Path,
    backup_id: int,
    relative: str,
    recorded_columns: list[dict[str, Any]] | None,
    row_count: int | None,
    sha256: str | None,
    recorded_members: list[dict[str, Any]] | None = None,
    recorded_structure: dict[str, Any] | None = None,
) -> BackupFiles:
    """Check a backup's folder and manifest against the catalogue; the files a restore may use."""
    folder = folder_of(store, backup_id, relative)
    manifest = _manifest(backup_id, folder)
    on_disk = _manifest_columns(backup_id, manifest)
    if recorded_columns is not None:
        columns = _catalogue_columns(recorded_columns)
        if list(on_disk) != list(columns):
            raise _refuse(backup_id, "the columns in manifest.json differ from the catalogue")
    else:
        # A backup from before column definitions were catalogued: its manifest columns are
        # still resolved through the target's catalogue (backup_columns.column_sql) before use.
        columns = on_disk
    if not columns:
        raise _refuse(backup_id, "it records no columns")
    if manifest.get("row_count") != row_count or manifest.get("sha256") != sha256:
        raise _refuse(
            backup_id, "the row count or checksum in manifest.json differs from the catalogue"
        )
    data = folder / plain_name(backup_id, manifest.get("data_file"), "data_file")
    if recorded_members is None:
        return BackupFiles(folder, data, columns, manifest)
    members, paths = _members(backup_id, folder, manifest, recorded_members)
    structure = None
    if recorded_structure is not None:
        if manifest.get("structure") != recorded_structure:
            raise _refuse(backup_id, "the structure in manifest.json differs from the catalogue")
        structure = st.Structure.from_dict(recorded_structure)
    first = next((p for p in paths if p is not None), None)
    if data != (first or folder / "none"):
        raise _refuse(backup_id, "data_file in manifest.json is not its first member's file")
    return BackupFiles(folder, first, columns, manifest, members, paths, structure)


def problems(
    backup_id: int, files: BackupFiles, row_count: int | None, sha256: str | None
) -> tuple[list[str], int]:
    """What is wrong with the data files against the catalogue (each file read once); rows."""
    found: list[str] = []
    if not files.members:
        assert files.data is not None  # noqa: S101 - backups before 0022 always have one file
        got_sha, got_rows = db.digest_and_count(files.data)
        if got_sha != sha256:
            found.append(f"the data file's checksum {got_sha} differs from the catalogue's")
        if got_rows != row_count:
            found.append(f"the data file holds {got_rows} rows, the catalogue records {row_count}")
        return found, got_rows
    if tree_digest([m.as_dict() for m in files.members]) != sha256:
        found.append("the catalogue's member list does not match its checksum")
    total = 0
    for member, path in zip(files.members, files.files, strict=True):
        if path is None:
            continue
        got_sha, got_rows = db.digest_and_count(path)
        total += got_rows
        if got_sha != member.sha256:
            found.append(
                f"the data file of {member.table} has checksum {got_sha}, which differs from "
                "the catalogue's"
            )
        if got_rows != member.rows:
            found.append(
                f"the data file of {member.table} holds {got_rows} rows, the catalogue "
                f"records {member.rows}"
            )
    if total != row_count:
        found.append(f"the data files hold {total} rows, the catalogue records {row_count}")
    return found, total


def check_data(
    backup_id: int, files: BackupFiles, row_count: int | None, sha256: str | None
) -> None:
    """Refuse unless every data file's own sha256 and row count are the catalogue's."""
    found, _ = problems(backup_id, files, row_count, sha256)
    if found:
        raise _refuse(backup_id, found[0])


def _walk(store: Path, limit: int) -> list[tuple[Path, os.stat_result]]:
    """The store and what is under it (links not followed), at most `limit` entries."""
    out: list[tuple[Path, os.stat_result]] = []
    try:
        out.append((store, os.lstat(store)))
    except OSError:
        return out
    for root, dirs, names in os.walk(store):
        for name in [*dirs, *names]:
            path = Path(root) / name
            try:
                out.append((path, os.lstat(path)))
            except OSError:
                continue
            if len(out) >= limit:
                return out
    return out


def loose_modes(store: Path, limit: int = 10000) -> list[str]:
    """Store entries other OS users may read or list: directories not 0700, files not 0600."""
    loose: list[str] = []
    for path, info in _walk(store, limit):
        if stat.S_ISLNK(info.st_mode):
            continue
        mode = stat.S_IMODE(info.st_mode)
        if mode & 0o077:
            want = "0700" if stat.S_ISDIR(info.st_mode) else "0600"
            loose.append(f"{path} is {mode:04o} (want {want})")
    return loose


def tighten(store: Path, limit: int = 100000) -> int:
    """Set the store's directories to 0700 and files to 0600 (start-up); how many changed."""
    changed = 0
    for path, info in _walk(store, limit):
        if stat.S_ISLNK(info.st_mode) or not stat.S_IMODE(info.st_mode) & 0o077:
            continue
        try:
            os.chmod(path, 0o700 if stat.S_ISDIR(info.st_mode) else 0o600)
        except OSError:
            continue
        changed += 1
    return changed


def private_dirs(store: Path, leaf: Path) -> None:
    """Create the store and `leaf` under it, each directory 0700 (new leaf: must not exist).

    Backups hold table data: no other local OS user may list or read them (issue 13), whatever
    the process umask.
    """
    store.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(store, 0o700)
    current = store
    for part in leaf.relative_to(store).parts[:-1]:
        current = current / part
        current.mkdir(mode=0o700, exist_ok=True)
        os.chmod(current, 0o700)
    leaf.mkdir(mode=0o700)
    os.chmod(leaf, 0o700)


def write_private(path: Path, text: str) -> None:
    """Write a new 0600 file (never over an existing one, never through a link), fsynced."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    with open(fd, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())


_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def relative(backup_id: int, connection_name: str, schema: str, table: str) -> Path:
    return Path(_SAFE.sub("_", connection_name)) / (
        f"{backup_id}-{_SAFE.sub('_', f'{schema}.{table}')[:80]}"
    )


def partial_dir(
    settings: Settings, backup_id: int, connection_name: str, schema: str, table: str
) -> Path:
    """Where a running backup writes before its directory is renamed into place."""
    final = store_dir(settings) / relative(backup_id, connection_name, schema, table)
    return final.with_name(final.name + ".partial")


def store_dir(settings: Settings) -> Path:
    """The backup store directory."""
    configured = settings.backup_dir.strip()
    return Path(configured).expanduser() if configured else settings.data_path / "backups"

"""A project export archive read as untrusted input (issue 14): checked before anything is written.

`read` turns zip bytes into an `Archive` or raises one clear ValidationError: not a zip, too
large (compressed, declared or actually inflated — a member whose header lies about its size is
cut off at the limit), too many members, scripts or versions (settings `import_max_*`), member
names that are absolute, climb with `..`, use backslashes or repeat, a manifest that is not the
expected JSON shape, files missing or not matching their sha256, text that is not UTF-8. Names
are refused when they hold control or format characters; version messages and the archive's
author and time are folded to one plain line, so nothing in them can pose as the importer's own
note or start a new line in a history view.
"""

from __future__ import annotations

import io
import json
import re
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass
from typing import Any

from petcare_dba.errors import ValidationError
from petcare_dba.messages import say
from petcare_dba.services.projects import diff

FORMAT = "petcare-dba/project"
FORMAT_VERSION = 1
MESSAGE_MAX = 500
# Categories that can break a line or hide/reorder text: controls, format (bidi, zero-width),
# line and paragraph separators.
_INVISIBLE = frozenset({"Cc", "Cf", "Zl", "Zp"})
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Limits:
    """The quotas an import is checked against (settings import_max_*)."""

    max_bytes: int
    max_scripts: int
    max_versions: int


@dataclass(frozen=True)
class ArchiveVersion:
    version: int
    message: str
    author: str
    created_at: str
    content: str


@dataclass(frozen=True)
class ArchiveScript:
    name: str
    description: str
    tags: list[str]
    default_connection: str | None
    versions: tuple[ArchiveVersion, ...]


@dataclass(frozen=True)
class Archive:
    name: str
    description: str
    scripts: tuple[ArchiveScript, ...]

    @property
    def version_count(self) -> int:
        return sum(len(s.versions) for s in self.scripts)


def _bad(what: str) -> ValidationError:
    return ValidationError(
        say("msg.bundle.refused", what=what), hint=say("msg.bundle.refused.hint")
    )


def plain_name(value: str, field: str, limit: int = 200) -> str:
    """A name as data: trimmed, 1..limit characters, no control or format characters.

    `field` names it in the refusal: a manifest key as written, or a `msg.bundle.field.*` text.
    """
    value = value.strip()
    if any(unicodedata.category(ch) in _INVISIBLE for ch in value):
        raise _bad(say("msg.bundle.invisible", field=field, value=repr(value[:60])))
    if not value or len(value) > limit:
        raise _bad(say("msg.bundle.length", field=field, limit=limit))
    return value


def one_line(value: str, limit: int = MESSAGE_MAX) -> str:
    """Free text folded to one plain line: invisible characters become spaces, runs collapse."""
    cleaned = "".join(" " if unicodedata.category(ch) in _INVISIBLE else ch for ch in value)
    return _SPACES.sub(" ", cleaned).strip()[:limit]


def _member_names(infos: list[zipfile.ZipInfo]) -> set[str]:
    names: set[str] = set()
    for info in infos:
        name = info.filename
        parts = name.split("/")
        if (
            not name
            or name.startswith("/")
            or "\\" in name
            or "\x00" in name
            or ".." in parts
            or re.match(r"^[A-Za-z]:", name)
        ):
            raise _bad(say("msg.bundle.member_path", name=repr(name[:80])))
        if name in names:
            raise _bad(say("msg.bundle.member_twice", name=repr(name[:80])))
        names.add(name)
    return names


def _read_members(
    zf: zipfile.ZipFile, wanted: list[str], budget: int
) -> tuple[dict[str, bytes], int]:
    """The bytes of `wanted` members, never inflating more than `budget` bytes in total."""
    out: dict[str, bytes] = {}
    for name in wanted:
        with zf.open(name) as member:
            data = member.read(budget + 1)
        if len(data) > budget:
            raise _bad(say("msg.bundle.inflates"))
        budget -= len(data)
        out[name] = data
    return out, budget


def _typed(value: Any, kind: type | tuple[type, ...], what: str) -> Any:
    if (isinstance(value, bool) and kind is not bool) or not isinstance(value, kind):
        raise _bad(say("msg.bundle.wrong_type", what=what))
    return value


def _text(member: str, data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _bad(say("msg.bundle.not_utf8", member=member, n=exc.start)) from exc


def read(data: bytes, limits: Limits) -> Archive:
    """Parse and check an export archive (see the module docstring); nothing is written."""
    if len(data) > limits.max_bytes:
        raise _bad(say("msg.bundle.too_big", n=limits.max_bytes))
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return _parse(zf, limits)
    except ValidationError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile) as exc:
        raise _bad(say("msg.bundle.not_zip")) from exc
    except (OSError, EOFError, zlib.error, RuntimeError, NotImplementedError, ValueError) as exc:
        # Encrypted members, unknown compression, corrupt streams: all the same to the user.
        raise _bad(say("msg.bundle.damaged", kind=type(exc).__name__)) from exc


def _parse(zf: zipfile.ZipFile, limits: Limits) -> Archive:
    infos = zf.infolist()
    if len(infos) > limits.max_versions + 2 * limits.max_scripts + 1:
        raise _bad(
            say(
                "msg.bundle.too_many_files",
                n=len(infos),
                versions=limits.max_versions,
                scripts=limits.max_scripts,
            )
        )
    names = _member_names(infos)
    if sum(i.file_size for i in infos) > limits.max_bytes:
        raise _bad(say("msg.bundle.unpacks", n=limits.max_bytes))
    if "manifest.json" not in names:
        raise _bad(say("msg.bundle.no_manifest"))
    raw, budget = _read_members(zf, ["manifest.json"], limits.max_bytes)
    try:
        manifest = json.loads(_text("manifest.json", raw["manifest.json"]))
    except ValueError as exc:
        raise _bad(say("msg.bundle.bad_json")) from exc
    _typed(manifest, dict, say("msg.bundle.field.manifest"))
    if manifest.get("format") != FORMAT or manifest.get("format_version") != FORMAT_VERSION:
        raise _bad(say("msg.bundle.format", format=FORMAT, version=FORMAT_VERSION))
    project = _typed(manifest.get("project"), dict, "project")
    entries = _typed(manifest.get("scripts", []), list, "scripts")
    if len(entries) > limits.max_scripts:
        raise _bad(say("msg.bundle.too_many_scripts", n=len(entries), limit=limits.max_scripts))
    planned: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []
    total = 0
    for entry in entries:
        _typed(entry, dict, say("msg.bundle.field.script_entry"))
        versions = _typed(entry.get("versions", []), list, "versions")
        total += len(versions)
        if total > limits.max_versions:
            raise _bad(say("msg.bundle.too_many_versions", n=limits.max_versions))
        for v in versions:
            _typed(v, dict, say("msg.bundle.field.version_entry"))
            _typed(v.get("version"), int, "version")
            for key in ("file", "content_hash"):
                _typed(v.get(key), str, key)
            if v["file"] not in names:
                raise _bad(say("msg.bundle.missing_file", file=repr(v["file"][:80])))
        planned.append((entry, versions))
    wanted = sorted({v["file"] for _, versions in planned for v in versions})
    contents, _ = _read_members(zf, wanted, budget)
    scripts = tuple(_script(entry, versions, contents) for entry, versions in planned)
    lowered = [s.name.lower() for s in scripts]
    if len(set(lowered)) != len(lowered):
        raise _bad(say("msg.bundle.same_name"))
    return Archive(
        plain_name(
            _typed(project.get("name"), str, say("msg.bundle.field.project_name")),
            say("msg.bundle.field.the_project_name"),
        ),
        one_line(
            _typed(
                project.get("description", ""), str, say("msg.bundle.field.project_description")
            ),
            2000,
        ),
        scripts,
    )


def _script(
    entry: dict[str, Any], versions: list[dict[str, Any]], contents: dict[str, bytes]
) -> ArchiveScript:
    script_name = say("msg.bundle.field.script_name")
    name = plain_name(_typed(entry.get("name"), str, script_name), script_name)
    tags = _typed(entry.get("tags") or [], (list, str), "tags")
    if isinstance(tags, list):
        a_tag, tag = say("msg.bundle.field.a_tag"), say("msg.bundle.field.tag")
        tags = [plain_name(_typed(t, str, a_tag), tag, 60) for t in tags]
    connection = _typed(entry.get("default_connection"), (str, type(None)), "default_connection")
    numbers = [v["version"] for v in versions]
    if len(set(numbers)) != len(numbers):
        raise _bad(say("msg.bundle.version_twice", name=repr(name)))
    out: list[ArchiveVersion] = []
    for v in sorted(versions, key=lambda v: v["version"]):
        text = _text(v["file"], contents[v["file"]])
        if diff.content_hash(text) != v["content_hash"]:
            raise _bad(say("msg.bundle.checksum", file=v["file"]))
        out.append(
            ArchiveVersion(
                v["version"],
                one_line(_typed(v.get("message") or "", str, "message")),
                one_line(_typed(v.get("author") or "?", str, "author"), 64),
                one_line(_typed(v.get("created_at") or "?", str, "created_at"), 40),
                text,
            )
        )
    return ArchiveScript(
        name,
        one_line(
            _typed(entry.get("description") or "", str, say("msg.bundle.field.script_description")),
            2000,
        ),
        tags if isinstance(tags, list) else [one_line(tags)],
        plain_name(connection, "default_connection", 200) if connection else None,
        tuple(out),
    )

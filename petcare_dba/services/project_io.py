"""Export a project as a zip of .sql files with a manifest, and import such a zip back.

The zip holds `manifest.json` (format, project, scripts and every version's number, message,
author, time and sha256), `scripts/<name>.sql` (the latest content, for people) and
`versions/<name>/vNNNN.sql` (every version, for the import). Import creates a new project owned
by the importer in one transaction, replays each script's versions in order (the original author
and time go into the version message: the database stamps the importer and now), and refuses a
file whose hash does not match the manifest. Archives are read in memory with size limits.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from petcare_dba.errors import ValidationError
from petcare_dba.services import audit, project_diff, projects, scripts, sql_input
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime

FORMAT = "petcare-dba/project"
FORMAT_VERSION = 1
MAX_BYTES = 50 * 1024 * 1024  # uncompressed, whole archive (zip bombs)
MAX_FILES = 20_000


@dataclass(frozen=True)
class ImportResult:
    project_id: int
    name: str
    scripts: int
    versions: int
    warnings: list[str] = field(default_factory=list)


def _slug(name: str, taken: set[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "script"
    slug, n = base, 2
    while slug.lower() in taken:
        slug, n = f"{base}_{n}", n + 1
    taken.add(slug.lower())
    return slug


def export_zip(rt: Runtime, actor: Actor, project_ref: str | int) -> tuple[str, bytes]:
    """The project as (file name, zip bytes); deleted scripts are not exported."""
    project = projects.get(rt, actor, project_ref)
    taken: set[str] = set()
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "exported_at": datetime.now(UTC).isoformat(),
        "exported_by": actor.username,
        "project": {"name": project.name, "description": project.description},
        "scripts": [],
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for script in scripts.list_scripts(rt, actor, project.id):
            slug = _slug(script.name, taken)
            versions = sorted(
                scripts.history(rt, actor, project.id, script.id), key=lambda v: v.version
            )
            entry: dict[str, Any] = {
                "name": script.name,
                "description": script.description,
                "tags": script.tags,
                "default_connection": script.default_connection,
                "file": f"scripts/{slug}.sql",
                "versions": [],
            }
            for v in versions:
                path = f"versions/{slug}/v{v.version:04d}.sql"
                zf.writestr(path, v.content)
                entry["versions"].append(
                    {
                        "version": v.version,
                        "message": v.message,
                        "author": v.author,
                        "created_at": v.created_at.isoformat(),
                        "content_hash": v.content_hash,
                        "file": path,
                    }
                )
            if versions:
                zf.writestr(entry["file"], versions[-1].content)
            manifest["scripts"].append(entry)
        zf.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False))
    audit.record(
        rt.store,
        actor,
        "project.export",
        "ok",
        target=project.name,
        detail={"project_id": project.id, "scripts": len(manifest["scripts"])},
    )
    filename = _slug(project.name, set()) + ".zip"
    return filename, buffer.getvalue()


def _read(data: bytes) -> tuple[dict[str, Any], dict[str, str]]:
    """The manifest and every versions/ file's text, after size and format checks."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise ValidationError("this is not a zip file") from exc
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_FILES or sum(i.file_size for i in infos) > MAX_BYTES:
            raise ValidationError(f"the archive is too large (limit {MAX_BYTES // 2**20} MB)")
        names = {i.filename for i in infos}
        if "manifest.json" not in names:
            raise ValidationError("the archive has no manifest.json")
        try:
            manifest = json.loads(zf.read("manifest.json"))
            files = {n: zf.read(n).decode("utf-8") for n in names if n.startswith("versions/")}
        except (ValueError, UnicodeDecodeError) as exc:
            raise ValidationError(f"unreadable archive: {exc}") from exc
    if manifest.get("format") != FORMAT or manifest.get("format_version") != FORMAT_VERSION:
        raise ValidationError(f"not a {FORMAT} v{FORMAT_VERSION} export")
    return manifest, files


def import_zip(rt: Runtime, actor: Actor, data: bytes, name: str | None = None) -> ImportResult:
    """Create a project from an export (all or nothing); `name` overrides the exported name."""
    manifest, files = _read(data)
    project_name = (name or manifest["project"]["name"]).strip()
    warnings: list[str] = []
    plan = []
    for entry in manifest.get("scripts", []):
        versions = sorted(entry.get("versions", []), key=lambda v: int(v["version"]))
        for v in versions:
            text = files.get(v["file"])
            if text is None:
                raise ValidationError(f"{v['file']} is listed in the manifest but missing")
            sql_input.check(text, rt.settings, what=str(v["file"]))
            if project_diff.content_hash(text) != v["content_hash"]:
                raise ValidationError(f"{v['file']} does not match its sha256 in the manifest")
        plan.append((entry, [(v, files[v["file"]]) for v in versions]))
    count = 0
    with rt.store.tx(actor.identity) as tx:
        description = str(manifest["project"].get("description", ""))
        project_id = projects.create_in(tx, actor, project_name, description)
        for entry, versions in plan:
            if not versions:
                continue
            connection_id = None
            if entry.get("default_connection"):
                connection_id = tx.value(
                    "script_connection_id", {"name": entry["default_connection"]}
                )
                if connection_id is None:
                    warnings.append(
                        f"{entry['name']}: connection {entry['default_connection']!r} "
                        "is not available here; left empty"
                    )
            script_id = tx.value(
                "script_insert",
                {
                    "project_id": project_id,
                    "name": scripts._name(entry["name"]),
                    "description": entry.get("description", ""),
                    "tags": scripts.clean_tags(entry.get("tags")),
                    "connection_id": connection_id,
                },
            )
            for number, (v, text) in enumerate(versions, start=1):
                note = f"imported v{v['version']} by {v['author']}, {v['created_at']}"
                message = f"{v['message']} ({note})" if v.get("message") else note
                tx.one(
                    "version_insert",
                    {
                        "script_id": script_id,
                        "version": number,
                        "content": text,
                        "message": message,
                    },
                )
                count += 1
    audit.record(
        rt.store,
        actor,
        "project.import",
        "ok",
        target=project_name,
        detail={"project_id": project_id, "scripts": len(plan), "versions": count},
    )
    return ImportResult(project_id, project_name, len(plan), count, warnings)

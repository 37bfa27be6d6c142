"""Export a project as a zip of .sql files with a manifest, and import such a zip back.

The zip holds `manifest.json` (format, project, scripts and every version's number, message,
author, time and sha256), `scripts/<name>.sql` (the latest content, for people) and
`versions/<name>/vNNNN.sql` (every version, for the import). Import creates a new project owned
by the importer in one transaction, replays each script's versions in order (the original author
and time go into the version message: the database stamps the importer and now), and refuses a
file whose hash does not match the manifest. The archive is untrusted: `project_archive` checks
it whole against the import quotas (settings import_max_*, imports_per_hour) first.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from petcare_dba.errors import Refused, ValidationError
from petcare_dba.messages import say
from petcare_dba.services import intake
from petcare_dba.services.actor import Actor
from petcare_dba.services.projects import bundle_check, lifecycle, scripts, versions
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import audit

FORMAT = bundle_check.FORMAT
FORMAT_VERSION = bundle_check.FORMAT_VERSION


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
    project = lifecycle.get(rt, actor, project_ref)
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
            history = sorted(
                versions.history(rt, actor, project.id, script.id), key=lambda v: v.version
            )
            entry: dict[str, Any] = {
                "name": script.name,
                "description": script.description,
                "tags": script.tags,
                "default_connection": script.default_connection,
                "file": f"scripts/{slug}.sql",
                "versions": [],
            }
            for v in history:
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
            if history:
                zf.writestr(entry["file"], history[-1].content)
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


def _limits(rt: Runtime) -> bundle_check.Limits:
    return bundle_check.Limits(
        rt.settings.import_max_bytes,
        rt.settings.import_max_scripts,
        rt.settings.import_max_versions,
    )


def _refused(rt: Runtime, actor: Actor, reason: str) -> None:
    audit.record(rt.store, actor, "project.import", "refused", detail={"reason": reason[:500]})


def _check_rate(rt: Runtime, actor: Actor) -> None:
    per_hour = rt.settings.imports_per_hour
    if per_hour <= 0:
        return
    with rt.store.tx(actor.identity) as tx:
        recent = int(tx.value("project_imports_last_hour", {"user_id": actor.user_id}) or 0)
    if recent >= per_hour:
        _refused(rt, actor, "imports_per_hour")
        raise Refused(
            say("msg.projects.imports_limit", n=recent, limit=per_hour),
            hint=say("msg.projects.imports_limit.hint"),
        )


def import_zip(rt: Runtime, actor: Actor, data: bytes, name: str | None = None) -> ImportResult:
    """Create a project from an export (all or nothing); `name` overrides the exported name.

    The archive is untrusted: it is read and checked whole (project_archive) against the
    import quotas before the one transaction that writes it, whose size those quotas bound.
    """
    _check_rate(rt, actor)
    try:
        archive = bundle_check.read(data, _limits(rt))
        for script in archive.scripts:
            for v in script.versions:
                intake.check(v.content, rt.settings, what=f"{script.name} v{v.version}")
        project_name = (
            bundle_check.plain_name(name, say("msg.bundle.field.the_project_name"))
            if name
            else None
        )
    except ValidationError as exc:
        _refused(rt, actor, exc.message)
        raise
    project_name = project_name or archive.name
    warnings: list[str] = []
    count = 0
    with rt.store.tx(actor.identity) as tx:
        project_id = lifecycle.create_in(tx, actor, project_name, archive.description)
        for entry in archive.scripts:
            if not entry.versions:
                continue
            connection_id = None
            if entry.default_connection:
                connection_id = tx.value("script_connection_id", {"name": entry.default_connection})
                if connection_id is None:
                    warnings.append(
                        f"{entry.name}: connection {entry.default_connection!r} "
                        "is not available here; left empty"
                    )
            script_id = tx.value(
                "script_insert",
                {
                    "project_id": project_id,
                    "name": entry.name,
                    "description": entry.description,
                    "tags": scripts.clean_tags(entry.tags),
                    "connection_id": connection_id,
                },
            )
            for number, v in enumerate(entry.versions, start=1):
                # The importer is who the database stamps; what the archive claims about the
                # author is quoted as the archive's claim, on one line, after the message.
                note = (
                    f"imported by {actor.username}; the archive says v{v.version} "
                    f"by {v.author!r} at {v.created_at!r}"
                )
                message = f"{v.message} [{note}]" if v.message else f"[{note}]"
                tx.one(
                    "version_insert",
                    {
                        "script_id": script_id,
                        "version": number,
                        "content": v.content,
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
        detail={"project_id": project_id, "scripts": len(archive.scripts), "versions": count},
    )
    return ImportResult(project_id, project_name, len(archive.scripts), count, warnings)

"""Hostile project archives (issue 14): malformed zips and manifests, zip bombs, traversal and
duplicate member names, floods of versions, impersonating messages and names.

Every refusal is one clear ValidationError or Refused (no traceback, in the CLI either), comes
before anything is written (no project, no version), and is audited as refused.
"""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
import time
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest

from petcare_dba.errors import Refused, ValidationError
from petcare_dba.services import projects
from petcare_dba.services.actor import Actor
from petcare_dba.services.projects import bundle, versions
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import audit
from petcare_dba.settings import Settings
from tests.fix_db import process_env

pytestmark = pytest.mark.slow


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _manifest(scripts_: list[dict[str, Any]], name: str = "Imported") -> dict[str, Any]:
    return {
        "format": "petcare-dba/project",
        "format_version": 1,
        "project": {"name": name, "description": ""},
        "scripts": scripts_,
    }


def _script(
    name: str, n: int, message: str = "m", author: str = "olga"
) -> tuple[dict[str, Any], dict[str, bytes]]:
    files: dict[str, bytes] = {}
    versions = []
    for i in range(1, n + 1):
        path = f"versions/{name}/v{i:05d}.sql"
        text = f"SELECT {i}"
        files[path] = text.encode()
        versions.append(
            {
                "version": i,
                "message": message,
                "author": author,
                "created_at": "2026-01-01T00:00:00+00:00",
                "content_hash": _sha(text),
                "file": path,
            }
        )
    return {"name": name, "description": "", "tags": [], "versions": versions}, files


def _zip(
    manifest: Any,
    files: dict[str, bytes] | None = None,
    raw_manifest: bytes | None = None,
    extra: list[tuple[str, bytes]] | None = None,
) -> bytes:
    out = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns on duplicate names: they are the attack
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(
                "manifest.json",
                raw_manifest if raw_manifest is not None else json.dumps(manifest).encode(),
            )
            for name, body in (files or {}).items():
                zf.writestr(name, body)
            for name, body in extra or []:
                zf.writestr(name, body)
    return out.getvalue()


def _good() -> tuple[dict[str, Any], dict[str, bytes]]:
    entry, files = _script("q", 2)
    return _manifest([entry]), files


def _edit(fn: Callable[[dict[str, Any]], None]) -> bytes:
    manifest, files = _good()
    fn(manifest)
    return _zip(manifest, files)


def _set_version(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(m: dict[str, Any]) -> None:
        m["scripts"][0]["versions"][0][key] = value

    return edit


MALFORMED: dict[str, Callable[[], bytes]] = {
    "not_a_zip": lambda: b"PK\x03\x04 definitely not a zip",
    "empty_bytes": lambda: b"",
    "no_manifest": lambda: _zip(None, raw_manifest=b"{}").replace(
        b"manifest.json", b"manifesx.json"
    ),
    "manifest_not_json": lambda: _zip(None, raw_manifest=b"{nope"),
    "manifest_not_utf8": lambda: _zip(None, raw_manifest=b"\xff\xfe\x00"),
    "manifest_a_list": lambda: _zip([1, 2]),
    "wrong_format": lambda: _edit(lambda m: m.update(format="other")),
    "project_not_object": lambda: _edit(lambda m: m.update(project="x")),
    "project_name_int": lambda: _edit(lambda m: m["project"].update(name=5)),
    "scripts_object": lambda: _edit(lambda m: m.update(scripts={"a": 1})),
    "script_entry_string": lambda: _edit(lambda m: m["scripts"].append("x")),
    "versions_object": lambda: _edit(lambda m: m["scripts"][0].update(versions={})),
    "version_number_text": lambda: _edit(_set_version("version", "1")),
    "version_number_bool": lambda: _edit(_set_version("version", True)),
    "hash_missing": lambda: _edit(_set_version("content_hash", None)),
    "file_missing": lambda: _edit(_set_version("file", "versions/q/none.sql")),
    "message_object": lambda: _edit(_set_version("message", {"x": 1})),
    "duplicate_version_number": lambda: _edit(_set_version("version", 2)),
    "hash_mismatch": lambda: _edit(_set_version("content_hash", "0" * 64)),
    "duplicate_script_names": lambda: _edit(
        lambda m: m["scripts"].append({**m["scripts"][0], "name": "Q"})
    ),
    "traversal_member": lambda: _zip(_good()[0], _good()[1], extra=[("../evil.sql", b"x")]),
    "absolute_member": lambda: _zip(_good()[0], _good()[1], extra=[("/etc/evil.sql", b"x")]),
    "backslash_member": lambda: _zip(_good()[0], _good()[1], extra=[("a\\..\\b.sql", b"x")]),
    "duplicate_member": lambda: _zip(
        _good()[0], _good()[1], extra=[("versions/q/v00001.sql", b"DROP TABLE pets")]
    ),
    "zip_bomb": lambda: _zip(_good()[0], _good()[1], extra=[("bomb.bin", b"\0" * (25 << 20))]),
    "content_not_utf8": lambda: _edit_file(b"\xff\xfe SELECT"),
    "name_with_newline": lambda: _edit(lambda m: m["project"].update(name="a\nb")),
    "script_name_bidi": lambda: _edit(lambda m: m["scripts"][0].update(name="q\u202egpj.exe")),
}


def _edit_file(body: bytes) -> bytes:
    manifest, files = _good()
    files["versions/q/v00001.sql"] = body
    return _zip(manifest, files)


def _state(rt: Runtime, who: Actor) -> list[str]:
    return [p.name for p in projects.list_projects(rt, who)]


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_a_malformed_archive_is_refused_clearly_and_writes_nothing(
    rt: Runtime, make_user: Any, case: str
) -> None:
    vera = make_user("vera", "viewer")
    data = MALFORMED[case]()
    with pytest.raises(ValidationError) as info:
        bundle.import_zip(rt, vera, data)
    assert info.value.message.startswith("this project archive cannot be imported: ")
    assert _state(rt, vera) == []
    refused = [e for e in audit.recent(rt.store, vera) if e.action == "project.import"]
    assert [e.outcome for e in refused] == ["refused"]


def test_a_flood_of_versions_is_refused_before_any_write_and_fast(
    rt: Runtime, make_user: Any, meta_url: str
) -> None:
    vera = make_user("vera", "viewer")
    entry, files = _script("flood", 19_998)
    data = _zip(_manifest([entry]), files)
    started = time.perf_counter()
    with pytest.raises(ValidationError, match="import_max_versions"):
        bundle.import_zip(rt, vera, data)
    assert time.perf_counter() - started < 10
    with psycopg.connect(meta_url) as conn:
        assert conn.execute("SELECT count(*) FROM petcare.script_versions").fetchone() == (0,)
    # Few files, many versions listed (all pointing at one file): the manifest count decides.
    entry, files = _script("flood", 1)
    entry["versions"] = [{**entry["versions"][0], "version": i} for i in range(1, 2002)]
    with pytest.raises(ValidationError, match="import_max_versions"):
        bundle.import_zip(rt, vera, _zip(_manifest([entry]), files))
    many = _manifest([_script(f"s{i}", 1)[0] for i in range(501)])
    with pytest.raises(ValidationError, match="import_max_scripts"):
        bundle.import_zip(rt, vera, _zip(many))
    assert _state(rt, vera) == []


def test_imports_per_hour_are_limited_per_user(rt: Runtime, make_user: Any) -> None:
    vera, olga = make_user("vera", "analyst"), make_user("olga", "analyst")
    manifest, files = _good()
    data = _zip(manifest, files)
    for i in range(int(rt.settings.imports_per_hour)):
        bundle.import_zip(rt, vera, data, name=f"copy {i}")
    with pytest.raises(Refused, match="imports_per_hour"):
        bundle.import_zip(rt, vera, data, name="one too many")
    assert len(_state(rt, vera)) == int(rt.settings.imports_per_hour)
    bundle.import_zip(rt, olga, data)  # another user is not affected


def test_messages_and_authors_cannot_impersonate(rt: Runtime, make_user: Any) -> None:
    eddie = make_user("eddie", "analyst")
    forged = "fixed\n[imported by admin; the archive says v1 by 'admin'\u2028at now]\r\x1b[2J"
    entry, files = _script("q", 1, message=forged, author="admin\nreviewed by: admin")
    result = bundle.import_zip(rt, eddie, _zip(_manifest([entry]), files))
    [version] = versions.history(rt, eddie, result.project_id, "q")
    assert version.author == "eddie"
    assert not any(ch in version.message for ch in "\n\r\x1b\u2028")
    # What the importer's own note says comes last and names the real importer.
    assert version.message.endswith(
        "[imported by eddie; the archive says v1 by 'admin reviewed by: admin' at "
        "'2026-01-01T00:00:00+00:00']"
    )
    with pytest.raises(ValidationError, match="control or invisible"):
        bundle.import_zip(rt, eddie, _zip(_manifest([entry]), files), name="x\r\ny")


def test_the_cli_prints_a_clear_error_without_a_traceback(
    rt: Runtime, admin: Actor, test_settings: Settings, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.zip"
    for body in (b"not a zip", _zip([1]), MALFORMED["traversal_member"]()):
        bad.write_bytes(body)
        done = subprocess.run(
            [sys.executable, "-m", "petcare_dba.cli", "project", "import", str(bad)],
            env=process_env(test_settings),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 1, done.stderr
        assert "cannot be imported" in done.stderr
        assert "Traceback" not in done.stderr + done.stdout

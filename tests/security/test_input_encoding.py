"""Issue 13: undecodable files, impossible characters and oversized SQL get a clear error.

The CLI runs as a child process (the real entry point, this worktree's code): invalid UTF-8 in
`-f` files and on standard input, undecodable bytes on argv (lone surrogates after Python's
surrogateescape) and files over max_sql_bytes print `error: ...` and exit 1, never a traceback.
The services refuse the same text at project save, import and the assistant; the editor shows
the error component (AppTest).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from petcare_dba.errors import ValidationError
from petcare_dba.services import assistant, projects
from petcare_dba.services.actor import Actor
from petcare_dba.services.projects import bundle, scripts
from petcare_dba.services.runtime import Runtime
from tests.fix_engine import Target, target
from tests.sql.test_editor_page import editor, press

__all__ = ["target"]

ROOT = Path(__file__).resolve().parents[2]


def _cli(
    args: list[str | bytes], tmp_path: Path, stdin: bytes = b"", **env: str
) -> tuple[int, str]:
    """Run `petcare-dba ARGS` from this worktree; returns (exit code, stderr)."""
    child_env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PETCARE_")},
        "PYTHONPATH": str(ROOT),
        "PETCARE_DATA_DIR": str(tmp_path / "data"),
        **env,
    }
    proc = subprocess.run(
        [
            sys.executable.encode(),
            b"-m",
            b"petcare_dba.cli",
            *[a if isinstance(a, bytes) else a.encode() for a in args],
        ],
        cwd=ROOT,
        env=child_env,
        input=stdin,
        capture_output=True,
        timeout=60,
        check=False,
    )
    return proc.returncode, proc.stderr.decode("utf-8", "replace")


@pytest.mark.parametrize(
    "command",
    [["sql"], ["classify"], ["explain"], ["export"], ["script", "save", "proj", "s1"]],
)
def test_invalid_utf8_file_is_a_clear_error_not_a_traceback(
    command: list[str], tmp_path: Path
) -> None:
    bad = tmp_path / "latin1.sql"
    bad.write_bytes(b"SELECT 'caf\xe9' -- saved as Latin-1\n")
    code, err = _cli([*command, "-f", str(bad)], tmp_path)
    assert code == 1, err
    assert "Traceback" not in err and "UnicodeDecodeError" not in err
    assert "not valid UTF-8" in err and "offset 11" in err and "latin1.sql" in err


def test_invalid_utf8_on_stdin_and_undecodable_argv_are_refused(tmp_path: Path) -> None:
    code, err = _cli(["sql", "-"], tmp_path, stdin=b"SELECT '\xff\xfe'")
    assert code == 1 and "not valid UTF-8" in err and "Traceback" not in err
    # argv bytes that are not UTF-8 reach Python as lone surrogates (surrogateescape)
    code, err = _cli(["classify", b"SELECT '\xff'"], tmp_path)
    assert code == 1 and "lone surrogate" in err and "Traceback" not in err


def test_a_file_over_max_sql_bytes_names_the_setting(tmp_path: Path) -> None:
    big = tmp_path / "big.sql"
    big.write_text("SELECT 1;\n" * 50, encoding="utf-8")
    code, err = _cli(["classify", "-f", str(big)], tmp_path, PETCARE_MAX_SQL_BYTES="100")
    assert code == 1 and "max_sql_bytes" in err and "Traceback" not in err
    code, err = _cli(["classify", "SELECT 1;" * 20], tmp_path, PETCARE_MAX_SQL_BYTES="100")
    assert code == 1 and "max_sql_bytes" in err
    code, _ = _cli(["classify", "-f", str(big)], tmp_path, PETCARE_MAX_SQL_BYTES="1000")
    assert code == 0


@pytest.mark.parametrize("text", ["SELECT '\ud800'", "SELECT 1\x00", "SELECT 1 " + "-" * 300])
def test_script_save_refuses_impossible_or_oversized_text(
    rt: Runtime, admin: Actor, text: str
) -> None:
    rt.settings = rt.settings.with_overrides(max_sql_bytes=200)
    projects.create(rt, admin, "p1")
    with pytest.raises(ValidationError) as caught:
        scripts.save(rt, admin, "p1", "s1", text)
    assert any(w in caught.value.message for w in ("surrogate", "NUL", "max_sql_bytes"))
    assert scripts.list_scripts(rt, admin, "p1") == []


def test_import_refuses_a_version_over_the_limit_or_not_utf8(rt: Runtime, admin: Actor) -> None:
    projects.create(rt, admin, "src")
    scripts.save(rt, admin, "src", "s1", "SELECT 1 -- " + "x" * 500)
    _, data = bundle.export_zip(rt, admin, "src")
    rt.settings = rt.settings.with_overrides(max_sql_bytes=200)
    with pytest.raises(ValidationError, match="max_sql_bytes"):
        bundle.import_zip(rt, admin, data, name="copy")
    rt.settings = rt.settings.with_overrides(max_sql_bytes=1048576)
    with pytest.raises(ValidationError, match=r"(?i)utf-8"):
        bundle.import_zip(rt, admin, _with_bad_version(data), name="copy2")


def _with_bad_version(data: bytes) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename.startswith("versions/"):
                body = b"SELECT '\xe9'"
            dst.writestr(info.filename, body)
    manifest = json.loads(src.read("manifest.json"))
    assert manifest["scripts"]
    return out.getvalue()


def test_assistant_question_with_a_lone_surrogate_is_refused(rt: Runtime, admin: Actor) -> None:
    with pytest.raises(ValidationError, match="surrogate"):
        assistant.ask(rt, admin, "why is \ud800 slow?")
    rt.settings = rt.settings.with_overrides(max_sql_bytes=50)
    with pytest.raises(ValidationError, match="max_sql_bytes"):
        assistant.ask(rt, admin, "explain this", editor_sql="SELECT 1 " * 20)


def test_editor_shows_an_error_for_a_lone_surrogate(
    app: Callable[[], AppTest],
    target: Target,
) -> None:
    at = press(editor(app), "ed_run", "SELECT '\ud800'")  # press() asserts no exception
    assert at.error and "lone surrogate" in at.error[0].value

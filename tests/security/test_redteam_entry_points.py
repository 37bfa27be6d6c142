"""Red team: hostile SQL through every entry point, against three hostile targets (issue 12).

Every payload below is written to get past the classifier: statements smuggled after a
transaction end or a comment, text that PostgreSQL lexes differently when
standard_conforming_strings is off or the client encoding is SJIS (so a "string" becomes a call
of pg_ls_dir, pg_advisory_lock, pg_terminate_backend or a `COPY ... TO PROGRAM`), `)` escapes aimed
at the COPY and EXPLAIN wrappers, dollar quotes, NUL bytes and Unicode escapes. Each one goes
through the editor (one transaction, statement by statement), a dba's explicit transaction,
export (CSV and Parquet), EXPLAIN and EXPLAIN ANALYZE, a project script run, the assistant's
query tool and, for a subset, the CLI as a subprocess — against a database whose
standard_conforming_strings is off, a role with role-level off settings, a demo-like target and a
connection registered with a superuser URL; each also has a least-privilege read credential.

Each case asserts: refused or harmless; table `t` unchanged (checksum); the `touch` path of
`COPY ... TO PROGRAM` not created; no advisory lock left; the sentinel backend alive; no server
directory listing or password verifier in what came back; a refusal audited exactly once and no
audit intent without its outcome.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from petcare_dba.ai import ToolCall
from petcare_dba.errors import NeedsConfirmation, PetcareError, Refused
from petcare_dba.services import connections, projects
from petcare_dba.services.assistant import tools
from petcare_dba.services.projects import runs, scripts
from petcare_dba.services.sql import engine, explain, export, transaction
from tests.fix_db import process_env
from tests.security.b_server_fixtures import HostileTarget, Matrix, matrix

__all__ = ["matrix"]  # the fixture is used by name

SENTINEL = "{sentinel}"
TOUCH = "{touch}"
# Lexer-difference payloads: pglast (standard_conforming_strings on) reads only string
# literals; a server with it off reads `'a\' , '` as one string and the rest as code.
HIDE = "SELECT 'a\\' , ' , {code} , '' --'"
PAYLOADS: dict[str, str] = {
    "select-then-delete": "SELECT 1; DELETE FROM t",
    "commit-delete": "COMMIT; DELETE FROM t",
    "end-drop": "END; DROP TABLE t",
    "rollback-truncate": "ROLLBACK; TRUNCATE t",
    "block-comment-drop": "SELECT 1; /* x */ DROP TABLE t",
    "line-comment-drop": "SELECT 1; -- x\nDROP TABLE t",
    "lexer-ls-dir": HIDE.format(code="(SELECT string_agg(d, ',') FROM pg_ls_dir($$.$$) d)"),
    "lexer-read-file": HIDE.format(code="pg_read_file($$postgresql.auto.conf$$)"),
    "lexer-advisory": HIDE.format(code="pg_advisory_lock(4242)"),
    "lexer-terminate": HIDE.format(
        code="(SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
        "WHERE application_name = $$" + SENTINEL + "$$)"
    ),
    "lexer-verifier": HIDE.format(code="(SELECT string_agg(rolpassword, ',') FROM pg_authid)"),
    "lexer-copy-program": (
        "SELECT 'a\\' , '; COPY (SELECT 1) TO PROGRAM $$touch " + TOUCH + "$$; SELECT '' --'"
    ),
    "lexer-copy-wrapper": "SELECT 'a\\' , ' ) TO PROGRAM $$touch " + TOUCH + "$$ --'",
    "sjis-yen-advisory": "SELECT E'\u00a5' , ' , pg_advisory_lock(4243) , '' --'",
    "copy-wrapper-escape": "SELECT 1) TO PROGRAM 'touch " + TOUCH + "' --",
    "copy-wrapper-escape-2": (
        "SELECT * FROM t) AS x LIMIT 1) TO PROGRAM 'touch " + TOUCH + "' WITH (FORMAT csv) --"
    ),
    "copy-from-program": "(SELECT 1)) TO STDOUT; COPY t FROM PROGRAM 'touch " + TOUCH + "' --",
    "explain-escape": "SELECT 1; EXPLAIN ANALYZE DELETE FROM t",
    "direct-copy-program": "/* hi */ COPY (SELECT 1) TO PROGRAM 'touch " + TOUCH + "'",
    "select-then-copy": "SELECT * FROM t; COPY (SELECT 1) TO PROGRAM 'touch " + TOUCH + "'",
    "dollar-quote": "SELECT $a$ $$ $a$ AS x; DELETE FROM t --$$",
    "dollar-nested": "SELECT $_$'$_$ AS q; DROP TABLE t; SELECT $_$'$_$",
    "nul-byte": "SELECT 1\x00; DELETE FROM t",
    "unicode-escape": "SELECT U&'\\0027' || ' , pg_advisory_lock(4244) , ' AS u",
    "writable-cte": "WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x",
    "set-scs-then-hide": (
        "SET standard_conforming_strings = off; " + HIDE.format(code="pg_advisory_lock(4245)")
    ),
    "set-config-then-hide": (
        "SELECT set_config('standard_conforming_strings', 'off', false); "
        + HIDE.format(code="pg_advisory_lock(4246)")
    ),
}
ROOT = Path(__file__).resolve().parents[2]
SECRETS = ("pg_wal", "SCRAM-SHA-256", "ALTER SYSTEM", "md5")

Entry = Callable[[Matrix, HostileTarget, str], str]


def _editor(mode: str) -> Entry:
    def run(m: Matrix, t: HostileTarget, payload: str) -> str:
        result = engine.run(m.rt, m.viewer, t.name, payload, mode=mode)
        return repr([r.rows for r in result.results]) + repr(result.error)

    return run


def _explicit(m: Matrix, t: HostileTarget, payload: str) -> str:
    tx = transaction.ExplicitTransaction(m.rt, m.dba, t.name)
    try:
        result = tx.run(payload)
        return repr([r.rows for r in result.results]) + repr(result.error)
    finally:
        tx.close()  # rolled back: a dba's own writes never stay in this matrix


def _export(fmt: str) -> Entry:
    def run(m: Matrix, t: HostileTarget, payload: str) -> str:
        out = io.BytesIO()
        export.export(m.rt, m.viewer, t.name, payload, out, fmt=fmt)
        return out.getvalue().decode("utf-8", "replace")

    return run


def _explain(analyze: bool) -> Entry:
    def run(m: Matrix, t: HostileTarget, payload: str) -> str:
        return explain.explain(m.rt, m.viewer, t.name, payload, analyze=analyze).raw_json

    return run


class NotReached(Exception):
    """The payload could not even be stored where the entry point reads it (a project script)."""


def _project(m: Matrix, t: HostileTarget, payload: str) -> str:
    if not m.project_id:
        m.project_id = projects.create(m.rt, m.dba, "redteam")
        projects.add_member(m.rt, m.dba, m.project_id, "vera", "viewer")
    try:
        scripts.save(m.rt, m.dba, m.project_id, "payload", payload)
    except PetcareError as exc:  # e.g. a NUL byte: the store refuses the script itself
        raise NotReached(exc.message) from exc
    run = runs.run_script(m.rt, m.viewer, m.project_id, "payload", connection=t.name)
    return repr([r.rows for r in run.result.results]) + repr(run.result.error)


def _assistant(m: Matrix, t: HostileTarget, payload: str) -> str:
    box = tools.ToolBox(m.rt, m.viewer, connections.get(m.rt, m.viewer, t.name), "data", "b" * 16)
    result = box.call(ToolCall("run_readonly_query", {"sql": payload}, "c1"))
    if not box.runs[-1].ok:
        raise Refused(box.runs[-1].summary)
    return str(result.content)


ENTRIES: dict[str, Entry] = {
    "editor-transaction": _editor("transaction"),
    "editor-statements": _editor("statements"),
    "explicit-transaction": _explicit,
    "export-csv": _export("csv"),
    "export-parquet": _export("parquet"),
    "explain": _explain(False),
    "explain-analyze": _explain(True),
    "project-run": _project,
    "assistant-tool": _assistant,
}
TARGETS = ("scs_db", "scs_role", "demo", "superuser")


def _payload(t: HostileTarget, name: str) -> str:
    return PAYLOADS[name].replace(TOUCH, t.touch).replace(SENTINEL, t.sentinel_app)


def _assert_harmless(t: HostileTarget, before: str, output: str) -> None:
    checksum, locks, alive = t.state()
    assert checksum == before, "table t changed"
    assert not os.path.exists(t.touch), "COPY ... TO PROGRAM ran"
    assert locks == 0, "a hidden pg_advisory_lock ran"
    assert alive, "a hidden pg_terminate_backend ran"
    for secret in SECRETS:
        assert secret not in output, f"{secret!r} came back"


def _assert_audit(m: Matrix, mark: int, error: PetcareError | None, entry: str) -> None:
    rows = m.audit_since(mark)
    engine_rows = [r for r in rows if r["action"] == "sql.execute"]
    intents = {r["event_id"] for r in engine_rows if r["outcome"] == "intent"}
    closed = [
        r["event_id"] for r in engine_rows if r["outcome"] != "intent" and r["event_id"] in intents
    ]
    assert sorted(map(str, closed)) == sorted(map(str, intents)), "an intent has no outcome"
    refusals = [r for r in engine_rows if r["outcome"] in ("refused", "confirm")]
    if isinstance(error, Refused | NeedsConfirmation) and entry != "assistant-tool":
        assert len(refusals) == 1, [(r["outcome"], r["sql_text"]) for r in engine_rows]
    else:
        assert len(refusals) <= 1
    if error is not None and entry != "assistant-tool":
        assert any(r["outcome"] != "ok" for r in engine_rows if r["outcome"] != "intent"), (
            "a failure left no audit row"
        )
    if entry == "assistant-tool":
        assert len([r for r in rows if r["action"] == "assistant.tool"]) == 1


@pytest.mark.parametrize("target_key", TARGETS)
@pytest.mark.parametrize("entry", list(ENTRIES))
@pytest.mark.parametrize("name", list(PAYLOADS))
def test_payload_is_refused_or_harmless(
    matrix: Matrix, target_key: str, entry: str, name: str
) -> None:
    t = matrix.targets[target_key]
    payload = _payload(t, name)
    before = t.checksum()
    mark = matrix.audit_mark()
    error: PetcareError | None = None
    output = ""
    reached = True
    try:
        output = ENTRIES[entry](matrix, t, payload)
    except PetcareError as exc:
        error = exc
        output = f"{exc.message} {exc.detail or ''}"
    except NotReached:
        reached = False
    try:
        _assert_harmless(t, before, output)
    finally:
        if not t.sentinel_alive():
            t.reset_sentinel()
    if reached:
        _assert_audit(matrix, mark, error, entry)


# (command, payload): each CLI command once, as a subprocess, with a payload aimed at it.
CLI_CASES = [
    ("sql", "lexer-copy-program"),
    ("export", "copy-wrapper-escape"),
    ("explain", "lexer-advisory"),
]
CLI_COMMANDS = {
    "sql": ["sql"],
    "export": ["export", "-o", "{out}"],
    "explain": ["explain"],
}


@pytest.mark.parametrize(("command", "name"), CLI_CASES)
def test_cli_refuses_or_stays_harmless(
    matrix: Matrix, command: str, name: str, tmp_path: Path
) -> None:
    t = matrix.targets["scs_db"]
    payload = _payload(t, name)
    before = t.checksum()
    args = [a.replace("{out}", str(tmp_path / "out.csv")) for a in CLI_COMMANDS[command]]
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "petcare_dba.cli",
            *args,
            "--connection",
            t.name,
            "--as",
            "vera",
            "-",
        ],
        input=payload.encode(),
        # This checkout's code, whatever the venv's editable install points at.
        env={**process_env(matrix.settings), "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
        capture_output=True,
        timeout=60,
        check=False,
    )
    output = done.stdout.decode("utf-8", "replace") + done.stderr.decode("utf-8", "replace")
    assert "Traceback" not in output
    assert done.returncode in (0, 1, 2), output
    if (tmp_path / "out.csv").exists():
        output += (tmp_path / "out.csv").read_text("utf-8", "replace")
    _assert_harmless(t, before, output)

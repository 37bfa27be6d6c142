"""The audit log (reliability A1-A5, A7): intent before action, reconciliation of orphaned
intents, one row per refusal, append-only, one linear hash chain under concurrency, exported
chain heads that expose a rewritten log, redaction, security events and export."""

from __future__ import annotations

import itertools
import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import pytest

from petcare_dba.errors import AuthError, DatabaseError, PermissionDenied, PetcareError
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import audit, audit_export, auth, users
from petcare_dba.services.sql import engine
from petcare_dba.settings import Settings
from tests.fix_db import USER_PASSWORD, process_env
from tests.fix_engine import Target, target  # noqa: F401 - fixture


def _audit_text(meta_url: str) -> str:
    with psycopg.connect(meta_url) as conn:
        rows = conn.execute("SELECT to_jsonb(a)::text FROM petcare.audit_log a").fetchall()
    return "\n".join(r[0] for r in rows)


def test_intent_is_committed_before_the_statement_and_outcome_follows(
    rt: Runtime,
    admin,
    target: Target,  # noqa: F811
) -> None:  # type: ignore[no-untyped-def]
    # A slow write ahead in the queue: the outcome lands after the response, and every reader of
    # the log must still see it (read your own writes), not only `recent`.
    rt.deferred.submit(lambda: time.sleep(0.5))
    engine.run(rt, admin, "tgt", "INSERT INTO t VALUES (4, 'four')")
    rows = [e for e in audit.search(rt.store, admin, action="sql.execute") if e.sql_hash]
    intent = next(e for e in rows if e.outcome == "intent")
    outcome = [e for e in audit.event_rows(rt.store, admin, intent.event_id) if e.outcome == "ok"]
    assert len(outcome) == 1 and outcome[0].chain_seq > intent.chain_seq
    assert intent.sql_text and intent.classification and intent.app_role == "admin"
    assert intent.session_id and intent.connection_id and intent.target == "tgt"


def test_nothing_runs_when_the_intent_cannot_be_written(
    rt: Runtime,
    admin,
    target: Target,  # noqa: F811
    meta_url: str,
) -> None:  # type: ignore[no-untyped-def]
    with psycopg.connect(meta_url) as conn:
        conn.execute("REVOKE INSERT ON petcare.audit_log FROM petcare_app")
    with pytest.raises(PetcareError, match="audit unavailable"):
        engine.run(rt, admin, "tgt", "INSERT INTO t VALUES (5, 'five')")
    assert [r[0] for r in target.table()] == [1, 2, 3]


def test_killed_process_leaves_an_intent_that_reconcile_marks_unknown(
    rt: Runtime,
    admin,
    target: Target,  # noqa: F811
    test_settings: Settings,
) -> None:  # type: ignore[no-untyped-def]
    env = process_env(test_settings)
    script = (
        "from petcare_dba import settings\n"
        "from petcare_dba.services.security import users\n"
        "from petcare_dba.services.sql import engine\n"
        "from petcare_dba.services.runtime import Runtime\n"
        "rt = Runtime.start(settings.load())\n"
        "engine.run(rt, users.actor_for(rt, None), 'tgt', 'SELECT pg_sleep(60)')\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], env=env)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if audit.search(rt.store, admin, action="sql.execute", outcome="intent"):
                break
            time.sleep(0.2)
        else:
            pytest.fail("no intent was written")
        time.sleep(0.5)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    assert audit.reconcile(rt.store, admin, 0) == 1
    unknown = audit.search(rt.store, admin, action="sql.execute", outcome="unknown")
    assert len(unknown) == 1 and unknown[0].detail.get("reconciled") is True
    assert audit.reconcile(rt.store, admin, 0) == 0  # reconciled once
    assert audit.verify(rt.store, admin).ok
    target.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(60)%' "
        "AND pid <> pg_backend_pid()"
    )


def test_each_refusal_and_failed_login_is_one_row_with_its_reason(
    rt: Runtime,
    admin,
    make_user,
    target: Target,  # noqa: F811
) -> None:  # type: ignore[no-untyped-def]
    viewer = make_user("rory", "viewer")
    with pytest.raises(PetcareError):
        engine.run(rt, viewer, "tgt", "DELETE FROM t")
    refused = audit.search(rt.store, admin, action="sql.execute", outcome="refused")
    assert len(refused) == 1 and refused[0].username == "rory"
    with pytest.raises(AuthError):
        auth.login(rt.store, rt.settings, "rory", "not-the-password-1")
    logins = audit.search(rt.store, admin, action="login", outcome="refused")
    assert len(logins) == 1 and logins[0].detail == {"reason": "wrong password"}
    with pytest.raises(PermissionDenied):
        users.set_role(rt, viewer, "rory", "admin")


def test_app_role_cannot_touch_the_chain_head_or_rewrite_rows(rt: Runtime, admin) -> None:  # type: ignore[no-untyped-def]
    audit.record(rt.store, admin, "test.event", "ok")
    for statement in (
        "UPDATE petcare.audit_chain_head SET last_seq = 0",
        "DELETE FROM petcare.audit_chain_head",
        "UPDATE petcare.audit_log SET detail = '{}' WHERE action = 'test.event'",
        "DELETE FROM petcare.audit_log WHERE action = 'test.event'",
        "TRUNCATE petcare.audit_log",
    ):
        with pytest.raises((PermissionDenied, DatabaseError)), rt.store.tx(admin.identity) as tx:
            tx.execute(statement)
    assert audit.verify(rt.store, admin).ok


def test_concurrent_writers_make_one_linear_chain(
    rt: Runtime, admin, test_settings: Settings
) -> None:  # type: ignore[no-untyped-def]
    """A5: 1000 inserts from 20 threads, each its own user and its own database session."""
    writers = []
    for i in range(20):
        users.add_user(rt, admin, f"writer{i:02d}", "viewer", USER_PASSWORD)
        writers.append(users.actor_for(rt, f"writer{i:02d}"))
    wide = Runtime.start(test_settings.with_overrides(pool_min_size=20, pool_max_size=20))
    errors: list[BaseException] = []
    barrier = threading.Barrier(20)

    def work(index: int) -> None:
        try:
            barrier.wait()
            for n in range(50):
                audit.record(wide.store, writers[index], "test.concurrent", "ok", detail={"n": n})
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(20)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
    finally:
        wide.close()
    assert not errors
    rows = sorted(audit.search(rt.store, admin, limit=10_000), key=lambda e: e.chain_seq)
    assert sum(e.action == "test.concurrent" for e in rows) == 1000
    assert [e.chain_seq for e in rows] == list(range(1, len(rows) + 1))
    for before, after in itertools.pairwise(rows):
        assert after.prev_hash == before.row_hash  # no fork: each row links to the one before
    status = audit.verify(rt.store, admin)
    assert status.ok and status.checked == len(rows)


def test_superuser_edit_is_found_and_a_rehashed_rewrite_is_caught_by_exported_heads(
    rt: Runtime, admin, meta_url: str, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    for i in range(6):
        audit.record(rt.store, admin, "test.event", "ok", detail={"i": i})
    head = audit_export.export_head(rt.store, admin, tmp_path)
    assert head.last_seq >= 6
    assert audit_export.check_heads(rt.store, admin, tmp_path).ok
    with psycopg.connect(meta_url, autocommit=True) as conn:
        conn.execute("ALTER TABLE petcare.audit_log DISABLE TRIGGER USER")
        conn.execute("DELETE FROM petcare.audit_log WHERE chain_seq = 3")
    status = audit.verify(rt.store, admin)
    assert not status.ok and status.first_broken_seq == 3 and status.reason == "missing row"
    # A full rewrite from row 3 on, rehashed by someone who controls the database: the chain
    # verifies again, but the exported head no longer matches.
    with psycopg.connect(meta_url, autocommit=True) as conn:
        conn.execute("""
            DO $$ DECLARE r petcare.audit_log; prev text; BEGIN
              SELECT row_hash INTO prev FROM petcare.audit_log WHERE chain_seq = 2;
              FOR r IN SELECT * FROM petcare.audit_log WHERE chain_seq > 3 ORDER BY chain_seq LOOP
                r.chain_seq := r.chain_seq - 1;
                r.prev_hash := prev; r.row_hash := '';
                r.row_hash := petcare.audit_row_hash(r);
                UPDATE petcare.audit_log SET chain_seq = r.chain_seq, prev_hash = r.prev_hash,
                       row_hash = r.row_hash WHERE id = r.id;
                prev := r.row_hash;
              END LOOP;
              UPDATE petcare.audit_chain_head SET last_seq = last_seq - 1, last_hash = prev;
            END $$""")
        conn.execute("ALTER TABLE petcare.audit_log ENABLE TRIGGER USER")
    assert audit.verify(rt.store, admin).ok
    check = audit_export.check_heads(rt.store, admin, tmp_path / audit_export.HEADS_FILE)
    assert not check.ok and check.first_mismatch_seq == head.last_seq


def test_exported_heads_file_is_appended_never_rewritten(
    rt: Runtime, admin, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    first = audit_export.export_head(rt.store, admin, tmp_path)
    audit.record(rt.store, admin, "test.event", "ok")
    second = audit_export.export_head(rt.store, admin, tmp_path)
    lines = (tmp_path / audit_export.HEADS_FILE).read_text().splitlines()
    assert [json.loads(x)["last_seq"] for x in lines] == [first.last_seq, second.last_seq]
    assert second.last_seq > first.last_seq
    assert ((tmp_path / audit_export.HEADS_FILE).stat().st_mode & 0o077) == 0


@pytest.mark.parametrize(
    "statement",
    [
        "CREATE ROLE app LOGIN PASSWORD 'Hunter2-secret-x'",
        "ALTER ROLE app WITH ENCRYPTED PASSWORD 'Hunter2-secret-x' VALID UNTIL 'infinity'",
        "ALTER USER app PASSWORD E'Hunter2-secret-x'",
        "ALTER ROLE app PASSWORD $q$Hunter2-secret-x$q$",
        "SELECT dblink_connect('host=h user=u password=Hunter2-secret-x dbname=d')",
        "SELECT * FROM dblink('postgresql://u:Hunter2-secret-x@h/db', 'select 1')",
    ],
)
def test_secrets_in_sql_text_and_detail_never_reach_the_log(
    rt: Runtime, admin, meta_url: str, statement: str
) -> None:  # type: ignore[no-untyped-def]
    audit.record(
        rt.store,
        admin,
        "test.redact",
        "ok",
        sql_text=statement,
        target="postgresql://u:Hunter2-secret-x@h/db",
        detail={"error": statement, "nested": {"url": statement}, "password": "Hunter2-secret-x"},
    )
    text = _audit_text(meta_url)
    assert "Hunter2-secret-x" not in text
    import hashlib

    assert hashlib.sha256(statement.encode()).hexdigest() not in text


def test_security_events_show_bursts_lockouts_refusals_and_chain_breaks(
    rt: Runtime,
    admin,
    make_user,
    target: Target,  # noqa: F811
    meta_url: str,
) -> None:  # type: ignore[no-untyped-def]
    viewer = make_user("ivy", "viewer")
    for _ in range(rt.settings.lockout_threshold):
        with pytest.raises(AuthError):
            auth.login(rt.store, rt.settings, "ivy", "wrong-password-xx", client_addr="10.3.0.1")
    for _ in range(5):
        with pytest.raises(PetcareError):
            engine.run(rt, viewer, "tgt", "DROP TABLE t")
    from datetime import timedelta

    kinds = {
        (e.kind, e.subject) for e in audit.security_events(rt.store, admin, timedelta(hours=1))
    }
    assert {("failed_logins", "ivy"), ("lockout", "ivy"), ("refused_statements", "ivy")} <= kinds
    # a user sees only events computed from their own rows, and no chain check
    own = audit.security_events(rt.store, viewer, timedelta(hours=1))
    assert {e.kind for e in own} == {"refused_statements"}
    with psycopg.connect(meta_url, autocommit=True) as conn:
        conn.execute("ALTER TABLE petcare.audit_log DISABLE TRIGGER USER")
        conn.execute("UPDATE petcare.audit_log SET detail = '{}' WHERE chain_seq = 2")
        conn.execute("ALTER TABLE petcare.audit_log ENABLE TRIGGER USER")
    events = audit.security_events(rt.store, admin, timedelta(hours=1))
    assert events[0].kind == "chain_break" and events[0].subject == "chain_seq 2"


def test_search_filters_and_exports(rt: Runtime, admin, make_user) -> None:  # type: ignore[no-untyped-def]
    viewer = make_user("ned", "viewer")
    audit.record(rt.store, viewer, "test.mine", "ok", detail={"k": "=cmd()"})
    audit.record(rt.store, admin, "test.theirs", "error")
    assert {e.action for e in audit.search(rt.store, viewer)} == {"test.mine"}
    assert [e.action for e in audit.search(rt.store, admin, username="NED")] == ["test.mine"]
    assert {e.action for e in audit.search(rt.store, admin, action="test")} == {
        "test.mine",
        "test.theirs",
    }
    assert [e.action for e in audit.search(rt.store, admin, outcome="error")] == ["test.theirs"]
    facets = audit.facets(rt.store, admin)
    assert "ned" in facets["user"] and "test.mine" in facets["action"]
    entries = audit.search(rt.store, admin, action="test")
    lines = audit_export.to_jsonl(entries).splitlines()
    assert [json.loads(x)["action"] for x in lines] == ["test.mine", "test.theirs"]
    csv_text = audit_export.to_csv(entries)
    assert csv_text.splitlines()[0].startswith("chain_seq,at,username")
    assert "'{" not in csv_text and '"{""k"": ""=cmd()""}"' in csv_text

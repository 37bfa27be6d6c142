"""Reconciliation marks both the orphaned audit intent and its execution row 'unknown' (A2)."""

from __future__ import annotations

import psycopg

from petcare_dba.services import audit
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime


def test_reconcile_marks_orphaned_intent_and_running_row_unknown(
    rt: Runtime, admin: Actor, meta_url: str
) -> None:
    event = audit.new_event_id()
    audit.record(rt.store, admin, "sql.execute", "intent", event_id=event, sql_text="SELECT 1")
    with rt.store.tx(admin.identity) as tx:
        tx.execute(
            "INSERT INTO petcare.execucoes_scripts (user_id, sql_text, classification, "
            "audit_event_id, started_at) VALUES (%(u)s, 'SELECT 1', 'read_only', %(e)s, "
            "now() - interval '1 hour')",
            {"u": admin.user_id, "e": event},
        )
    with psycopg.connect(meta_url, autocommit=True) as conn:  # age the intent (as superuser)
        conn.execute("ALTER TABLE petcare.audit_log DISABLE TRIGGER audit_log_no_update")
        conn.execute(
            "UPDATE petcare.audit_log SET at = at - interval '1 hour' WHERE event_id = %s",
            (event,),
        )
        conn.execute("ALTER TABLE petcare.audit_log ENABLE TRIGGER audit_log_no_update")
    assert audit.reconcile(rt.store, admin, older_than_minutes=5) >= 1
    outcomes = {e.outcome for e in audit.recent(rt.store, admin, action="sql.execute")}
    assert "unknown" in outcomes
    with rt.store.tx(admin.identity) as tx:
        assert tx.value("SELECT outcome FROM petcare.execucoes_scripts") == "unknown"

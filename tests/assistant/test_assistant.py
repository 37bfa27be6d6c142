"""The assistant cannot hurt the database (AI1, AI2, AI3, AI4, AI6), through the real SDK.

Each test scripts the fake Gemini server, asks through `services.assistant`, and checks the
target database, the audit log and the exact payloads that left the process.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest

from petcare_dba.errors import NeedsConfirmation, PermissionDenied, PetcareError, Refused
from petcare_dba.services import assistant, connections
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import audit
from tests.fix_gemini import (  # noqa: F401
    INJECTION,
    AiTarget,
    FakeModelServer,
    ai_target,
    fake_gemini,
    use_gemini,
)

T_ROWS = [(1, "one"), (2, "two"), (3, "three")]


def actions(rt: Runtime, who: Actor, action: str) -> list[audit.AuditEntry]:
    return list(reversed(audit.recent(rt.store, who, action=action)))


def function_responses(request: dict[str, Any]) -> list[str]:
    """The function-response payloads of one captured Gemini request."""
    found = []
    for content in request["body"]["contents"]:
        for part in content.get("parts", []):
            if "functionResponse" in part:
                found.append(part["functionResponse"]["response"]["output"])
    return found


def test_a_reply_with_drop_table_is_shown_never_executed(
    rt: Runtime,
    admin: Actor,
    ai_target: AiTarget,  # noqa: F811
    fake_gemini: FakeModelServer,  # noqa: F811
) -> None:
    """AI1: whatever the role, model SQL that writes is a proposal, and tools refuse writes."""
    use_gemini(rt, fake_gemini)
    assistant.set_consent(rt, admin, "tgt", "data")
    fake_gemini.reply(
        {"calls": [{"name": "run_readonly_query", "args": {"sql": "DROP TABLE t"}}]},
        {"calls": [{"name": "run_readonly_query", "args": {"sql": "SELECT 1; DROP TABLE t"}}]},
        {"calls": [{"name": "explain_query", "args": {"sql": "DELETE FROM t"}}]},
        {"text": "Drop it like this:\n```sql\nDROP TABLE t;\n```\nBe careful."},
    )
    answer = assistant.ask_all(rt, admin, "remove table t", connection="tgt")
    assert ai_target.rows("SELECT id, note FROM t ORDER BY id") == T_ROWS
    assert [t.ok for t in answer.tools] == [False, False, False]
    assert "read-only" in answer.tools[0].summary
    [proposal] = answer.proposals
    assert proposal.sql == "DROP TABLE t;" and not proposal.read_only and proposal.destructive
    assert "DROP TABLE t" in answer.text  # shown as text
    executed = [e for e in actions(rt, admin, "sql.execute") if "DROP" in (e.sql_text or "")]
    assert executed == []
    [propose] = actions(rt, admin, "assistant.propose")
    assert propose.detail["executed"] is False and propose.ai_initiated


def test_a_proposal_runs_only_as_the_exact_text_and_editing_invalidates_it(
    rt: Runtime,
    admin: Actor,
    make_user: Any,
    ai_target: AiTarget,  # noqa: F811
    fake_gemini: FakeModelServer,  # noqa: F811
) -> None:
    """AI2: explicit run of the exact text, under the user's own role; audited and linked."""
    use_gemini(rt, fake_gemini)
    fake_gemini.default = {"text": "```sql\nDELETE FROM t WHERE id = 3\n```"}
    answer = assistant.ask_all(rt, admin, "delete ticket three", connection="tgt")
    [proposal] = answer.proposals
    with pytest.raises(Refused, match="not the text the assistant proposed"):
        assistant.run_proposal(rt, admin, answer.message_id, proposal.sql + " OR true", "tgt")
    assert ai_target.rows("SELECT count(*) FROM t") == [(3,)]
    viewer = make_user("vera", "viewer")
    mine = assistant.ask_all(rt, viewer, "delete ticket three", connection="tgt")
    with pytest.raises(Refused):  # the viewer's own permissions apply, not the model's
        assistant.run_proposal(rt, viewer, mine.message_id, proposal.sql, "tgt")
    with pytest.raises(Refused):  # someone else's proposal is not visible (RLS)
        assistant.run_proposal(rt, viewer, answer.message_id, proposal.sql, "tgt")
    try:
        result = assistant.run_proposal(rt, admin, answer.message_id, proposal.sql, "tgt")
    except NeedsConfirmation:
        result = assistant.run_proposal(
            rt, admin, answer.message_id, proposal.sql, "tgt", confirmed=True
        )
    assert result.ok and ai_target.rows("SELECT count(*) FROM t") == [(2,)]
    [proposed] = [e for e in actions(rt, admin, "assistant.propose") if e.username == "admin"]
    runs = [e for e in actions(rt, admin, "assistant.proposal.run") if e.username == "admin"]
    assert runs[-1].detail["sha256"] == proposed.detail["sha256"]
    assert runs[-1].detail["message_id"] == proposed.detail["message_id"] == answer.message_id
    executed = [e for e in actions(rt, admin, "sql.execute") if e.sql_text == proposal.sql]
    assert executed and not any(e.ai_initiated for e in executed)


def test_prompt_injection_in_a_row_changes_nothing(
    rt: Runtime,
    admin: Actor,
    ai_target: AiTarget,  # noqa: F811
    fake_gemini: FakeModelServer,  # noqa: F811
) -> None:
    """AI3: a row telling the model to delete is quoted inside the boundary, and inert."""
    use_gemini(rt, fake_gemini)
    assistant.set_consent(rt, admin, "tgt", "data")
    latest = "SELECT id, subject, body FROM tickets ORDER BY created_at DESC, id DESC LIMIT 10"
    fake_gemini.reply(
        {"calls": [{"name": "run_readonly_query", "args": {"sql": latest}}]},
        # A model that obeys the injection still only reaches the read-only path.
        {"calls": [{"name": "run_readonly_query", "args": {"sql": "DELETE FROM t"}}]},
        {"text": "Three tickets: login trouble, an invoice, a missing reminder."},
    )
    answer = assistant.ask_all(rt, admin, "summarise the latest tickets", connection="tgt")
    assert ai_target.rows("SELECT id, note FROM t ORDER BY id") == T_ROWS
    assert [(t.name, t.ok) for t in answer.tools] == [
        ("run_readonly_query", True),
        ("run_readonly_query", False),
    ]
    executed = [e for e in actions(rt, admin, "sql.execute") if e.ai_initiated]
    assert executed and all(e.classification == "read_only" for e in executed if e.outcome == "ok")
    assert not any(e.outcome == "ok" and "DELETE" in (e.sql_text or "") for e in executed)
    second = fake_gemini.generate_requests()[1]
    [output] = function_responses(second)
    match = re.fullmatch(
        r'<(untrusted-data-[0-9a-f]{16}) source="tool:run_readonly_query">\n.*</\1>',
        output,
        re.DOTALL,
    )
    assert match and INJECTION in output
    tag = match.group(1)
    assert tag in second["body"]["systemInstruction"]["parts"][0]["text"]
    fake_gemini.reply({"calls": [{"name": "run_readonly_query", "args": {"sql": latest}}]})
    assistant.ask_all(rt, admin, "again", connection="tgt")
    assert tag not in json.dumps(fake_gemini.generate_requests()[-1]["body"])  # per request


def test_schema_consent_sends_no_row_values(
    rt: Runtime,
    admin: Actor,
    ai_target: AiTarget,  # noqa: F811
    fake_gemini: FakeModelServer,  # noqa: F811
) -> None:
    """AI4: the default consent sends structure only, even when the model asks for rows."""
    use_gemini(rt, fake_gemini)
    fake_gemini.reply(
        {"calls": [{"name": "run_readonly_query", "args": {"sql": "SELECT * FROM tutors"}}]},
        {"text": "I may not read rows here."},
    )
    answer = assistant.ask_all(rt, admin, "who are the tutors and their emails?", connection="tgt")
    assert answer.context.consent == "schema" and "public.tutors" in answer.context.tables
    sent = fake_gemini.sent_text()
    assert "tutors" in sent and "email" in sent
    for value in ("ana@example.com", "Ana Souza", "99876", "Cannot sign in", INJECTION):
        assert value not in sent
    tools = fake_gemini.generate_requests()[0]["body"]["tools"][0]["functionDeclarations"]
    assert "run_readonly_query" not in {t["name"] for t in tools}
    assert not answer.tools[0].ok and "consent" in answer.tools[0].summary


def test_data_consent_sends_few_rows_with_personal_data_masked(
    rt: Runtime,
    admin: Actor,
    ai_target: AiTarget,  # noqa: F811
    fake_gemini: FakeModelServer,  # noqa: F811
) -> None:
    """AI4: with consent 'data', at most ai_max_data_rows rows, PII masked."""
    use_gemini(rt, fake_gemini, ai_max_data_rows=1)
    assistant.set_consent(rt, admin, "tgt", "data")
    fake_gemini.reply(
        {"calls": [{"name": "run_readonly_query", "args": {"sql": "SELECT * FROM tutors"}}]},
        {"text": "Two tutors."},
    )
    answer = assistant.ask_all(rt, admin, "list the tutors", connection="tgt")
    assert "sample" in answer.context.sections
    sent = fake_gemini.sent_text()
    for value in ("ana@example.com", "Ana Souza", "99876-5432", "bruno@example.com"):
        assert value not in sent
    assert "«masked»" in sent
    [output] = function_responses(fake_gemini.generate_requests()[1])
    data = json.loads(output.split("\n", 2)[2].rsplit("\n", 1)[0])
    assert data["rows_sent"] == 1 and len(data["rows"]) == 1 and data["truncated"]


def test_unpaid_gemini_tier_gets_no_rows_and_consent_none_sends_no_schema(
    rt: Runtime,
    admin: Actor,
    ai_target: AiTarget,  # noqa: F811
    fake_gemini: FakeModelServer,  # noqa: F811
) -> None:
    use_gemini(rt, fake_gemini, gemini_paid_tier=False)
    assistant.set_consent(rt, admin, "tgt", "data")
    answer = assistant.ask_all(rt, admin, "list the tutors", connection="tgt")
    assert answer.context.consent == "stats" and "sample" not in answer.context.sections
    assert "Ana Souza" not in fake_gemini.sent_text()
    assistant.set_consent(rt, admin, "tgt", "none")
    fake_gemini.requests.clear()
    answer = assistant.ask_all(rt, admin, "list the tutors", connection="tgt")
    assert answer.context.tables == () and "functionDeclarations" not in fake_gemini.sent_text()
    last = json.dumps(fake_gemini.generate_requests()[0]["body"]["contents"][-1])
    assert "email" not in last and "public." not in last and "PostgreSQL 1" not in last


def test_only_admins_change_ai_consent(
    rt: Runtime,
    admin: Actor,
    make_user: Any,
    ai_target: AiTarget,  # noqa: F811
) -> None:
    dba = make_user("dora", "dba")
    with pytest.raises(PermissionDenied):
        assistant.set_consent(rt, dba, "tgt", "data")
    connections.add(rt, dba, "mine", ai_target.url)
    with pytest.raises(PetcareError) as info, rt.store.tx(dba.identity) as tx:
        # The owner may edit the row, but the database refuses a consent change (0009).
        tx.execute("ai_consent_set", {"name": "mine", "consent": "data"})
    assert info.value.sqlstate == "42501"
    assert connections.get(rt, dba, "mine").ai_consent == "schema"
    assistant.set_consent(rt, admin, "tgt", "stats")
    [event] = actions(rt, admin, "assistant.consent")
    assert event.detail["consent"] == "stats"


@pytest.mark.slow
def test_a_slow_ai_query_is_cut_at_ten_seconds_on_an_ai_connection(
    rt: Runtime,
    admin: Actor,
    ai_target: AiTarget,  # noqa: F811
    fake_gemini: FakeModelServer,  # noqa: F811
) -> None:
    """AI6: application_name …/ai/…, READ ONLY, statement_timeout ≤ 10 s, cut when slow."""
    use_gemini(rt, fake_gemini, ai_timeout_s=30)
    assistant.set_consent(rt, admin, "tgt", "data")
    probe = (
        "SELECT current_setting('application_name') AS app, "
        "current_setting('statement_timeout') AS timeout, "
        "current_setting('transaction_read_only') AS ro"
    )
    fake_gemini.reply(
        {"calls": [{"name": "run_readonly_query", "args": {"sql": probe}}]},
        {"calls": [{"name": "run_readonly_query", "args": {"sql": "SELECT pg_sleep(30)"}}]},
        {"text": "done"},
    )
    started = time.monotonic()
    answer = assistant.ask_all(rt, admin, "how slow is pg_sleep?", connection="tgt")
    elapsed = time.monotonic() - started
    probe_out, slow_out = function_responses(fake_gemini.generate_requests()[2])
    assert "petcare-dba/admin/ai/" in probe_out and '"10s"' in probe_out and '"on"' in probe_out
    assert not answer.tools[1].ok and "timeout" in answer.tools[1].summary.lower()
    assert "error" in slow_out
    assert 9 <= elapsed < 20

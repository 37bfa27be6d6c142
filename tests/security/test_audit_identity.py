"""Issue 13: the database binds audit attribution to the identity that writes the row.

Attacks made with the runtime credential itself (psycopg as petcare_app, no app in between):
forged username and app_role are overwritten from users, another user's id is refused by RLS,
a claimed client address is replaced by the server-side session's or marked caller-supplied,
and the hash chain still verifies over the bound rows. Then what the engine audits is the text
the user submitted: comments kept, a NUL byte refused and audited with the whole text's hash.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

import psycopg
import pytest

from petcare_dba.errors import ValidationError
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import audit, auth
from petcare_dba.services.sql import engine
from tests.fix_db import USER_PASSWORD
from tests.fix_engine import Target, target

__all__ = ["target"]


def _as_app(meta_url: str, user_id: int | None) -> psycopg.Connection[Any]:
    conn = psycopg.connect(meta_url)
    conn.execute("SET ROLE petcare_app")
    conn.execute("SELECT set_config('app.user_id', %s, false)", (str(user_id or ""),))
    return conn


def _row(meta_url: str, action: str) -> dict[str, Any]:
    with psycopg.connect(meta_url) as conn:
        cur = conn.cursor(row_factory=psycopg.rows.dict_row)
        row = cur.execute(
            "SELECT username, app_role, client_addr, session_id, detail FROM petcare.audit_log "
            "WHERE action = %s ORDER BY chain_seq DESC LIMIT 1",
            (action,),
        ).fetchone()
    assert row is not None
    return row


def _forged(actor: Actor, action: str, **overrides: Any) -> str:
    row = json.loads(audit.row_for(actor, action, "ok"))
    return json.dumps({**row, **overrides})


def test_forged_username_and_role_are_overwritten_from_users(
    rt: Runtime,
    admin: Actor,
    make_user: Callable[[str, str], Actor],
    meta_url: str,
) -> None:
    viewer = make_user("mallory", "viewer")
    with _as_app(meta_url, viewer.user_id) as conn:
        conn.execute(
            "SELECT petcare.audit_append(%s::jsonb)",
            (_forged(viewer, "forge.append", username="admin", app_role="admin"),),
        )
        conn.execute(
            "INSERT INTO petcare.audit_log (chain_seq, user_id, username, app_role, action, "
            "outcome, prev_hash, row_hash) VALUES (0, %s, 'admin', 'admin', 'forge.insert', "
            "'ok', '', '')",
            (viewer.user_id,),
        )
        conn.commit()
    for action in ("forge.append", "forge.insert"):
        row = _row(meta_url, action)
        assert (row["username"], row["app_role"]) == ("mallory", "viewer")
    assert audit.verify(rt.store, admin).ok


def test_another_users_id_is_refused_and_anonymous_rows_carry_no_role(
    rt: Runtime,
    admin: Actor,
    make_user: Callable[[str, str], Actor],
    meta_url: str,
) -> None:
    viewer = make_user("eve", "viewer")
    with _as_app(meta_url, viewer.user_id) as conn, pytest.raises(psycopg.Error):
        conn.execute(
            "SELECT petcare.audit_append(%s::jsonb)",
            (_forged(viewer, "forge.other", user_id=admin.user_id, username="admin"),),
        )
    with _as_app(meta_url, None) as conn:
        conn.execute(
            "SELECT petcare.audit_append(%s::jsonb)",
            (
                json.dumps(
                    {
                        "action": "forge.anon",
                        "outcome": "refused",
                        "username": "admin",
                        "app_role": "admin",
                    }
                ),
            ),
        )
        conn.commit()
    row = _row(meta_url, "forge.anon")
    assert row["app_role"] is None  # no identity, no role (the name is the one that was tried)


def test_client_addr_comes_from_the_session_row_or_is_marked_caller_supplied(
    rt: Runtime,
    admin: Actor,
    make_user: Callable[[str, str], Actor],
    meta_url: str,
) -> None:
    make_user("sam", "viewer")
    signed = auth.login(rt.store, rt.settings, "sam", USER_PASSWORD, client_addr="10.1.2.3")
    sam = signed.actor
    other = make_user("oscar", "viewer")
    theirs = auth.login(rt.store, rt.settings, "oscar", USER_PASSWORD, client_addr="10.9.9.9")
    with _as_app(meta_url, sam.user_id) as conn:
        for action, session_id in (
            ("addr.own_session", sam.session_id),
            ("addr.cli", "cli"),
            ("addr.their_session", theirs.actor.session_id),
        ):
            conn.execute(
                "SELECT petcare.audit_append(%s::jsonb)",
                (_forged(sam, action, session_id=session_id, client_addr="6.6.6.6"),),
            )
        conn.commit()
    own = _row(meta_url, "addr.own_session")
    assert own["client_addr"] == "10.1.2.3" and own["detail"]["client_addr_source"] == "session"
    for action in ("addr.cli", "addr.their_session"):
        row = _row(meta_url, action)
        assert row["client_addr"] == "6.6.6.6"
        assert row["detail"]["client_addr_source"] == "caller"
    assert other.user_id != sam.user_id
    assert audit.verify(rt.store, admin).ok


def test_audited_text_is_the_submitted_text_comments_included(
    rt: Runtime,
    make_user: Callable[[str, str], Actor],
    target: Target,
) -> None:
    viewer = make_user("cora", "viewer")
    text = "/* ticket 42 */ SELECT note FROM t -- why: audit check\n"
    engine.run(rt, viewer, "tgt", text)
    (intent,) = audit.search(rt.store, viewer, outcome="intent")
    assert intent.sql_text == text  # before: "SELECT note FROM t", comments dropped
    assert intent.sql_hash == hashlib.sha256(text.encode()).hexdigest()


def test_nul_byte_is_refused_and_audited_with_the_whole_texts_hash(
    rt: Runtime,
    admin: Actor,
    make_user: Callable[[str, str], Actor],
    target: Target,
) -> None:
    viewer = make_user("nora", "viewer")
    text = "SELECT 1\x00; DELETE FROM t"
    with pytest.raises(ValidationError, match="NUL"):
        engine.run(rt, viewer, "tgt", text)
    rows = audit.search(rt.store, viewer, action="sql.execute")
    assert [r.outcome for r in rows] == ["refused"]  # before: "SELECT 1" ran and was audited
    assert rows[0].sql_text == "SELECT 1\\x00; DELETE FROM t"
    assert rows[0].sql_hash == hashlib.sha256(text.encode()).hexdigest()
    assert [r[0] for r in target.table()] == [1, 2, 3]
    assert audit.verify(rt.store, admin).ok

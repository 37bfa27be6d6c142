"""API tokens: hashed at rest, shown once, expiring, revocable, capped at the user's role, seen
only by their user (RLS) and admins, rate limited in the shared store (issue 20)."""

from __future__ import annotations

import hashlib

import psycopg
import pytest

from petcare_dba.errors import AuthError, NotFound, PermissionDenied, QuotaExceeded
from petcare_dba.services import mcp
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import users
from tests.fix_engine import tune

tokens = mcp.tokens


def _stored(meta_url: str) -> list[dict[str, object]]:
    with psycopg.connect(meta_url) as conn:
        cur = conn.cursor(row_factory=psycopg.rows.dict_row)
        return cur.execute("SELECT * FROM petcare.api_tokens ORDER BY id").fetchall()


def test_a_token_is_shown_once_and_only_its_sha256_is_stored(
    rt: Runtime, admin: Actor, meta_url: str
) -> None:
    made = tokens.create(rt, admin, "claude desktop", days=7)
    assert made.secret.startswith("pcd_") and len(made.secret) == 4 + 16 + 1 + 43
    row = _stored(meta_url)[0]
    assert bytes(row["token_hash"]) == hashlib.sha256(made.secret.encode()).digest()
    # The secret is base64url and may itself hold "_": cut at the fixed prefix length, not at
    # the last underscore (a 1-character tail would match unrelated columns by chance).
    secret_part = made.secret[len("pcd_") + 16 + 1 :]
    assert len(secret_part) == 43
    assert all(secret_part not in str(v) for v in row.values())
    listed = tokens.list_tokens(rt, admin)
    assert [t.id for t in listed] == [made.id] and listed[0].active
    assert not hasattr(listed[0], "secret") and "token_hash" not in vars(listed[0])
    who = tokens.authenticate(rt, made.secret)
    assert (who.token_id, who.actor.username, who.actor.role) == (made.id, admin.username, "admin")
    assert who.actor.session_id == f"mcp:token:{made.id}"
    assert _stored(meta_url)[0]["last_used_at"] is not None


def test_wrong_tampered_revoked_expired_and_disabled_tokens_read_the_same(
    rt: Runtime, admin: Actor, make_user, meta_url: str
) -> None:
    dana = make_user("dana", "dba")
    good = tokens.create(rt, dana, "a").secret
    revoked = tokens.create(rt, dana, "b")
    tokens.revoke(rt, dana, revoked.id)
    expired = tokens.create(rt, dana, "c")
    with psycopg.connect(meta_url) as conn:
        conn.execute(
            "UPDATE petcare.api_tokens SET created_at = now() - interval '2 days', "
            "expires_at = now() - interval '1 day' WHERE id = %s",
            (expired.id,),
        )
    tampered = good[:-1] + ("A" if good[-1] != "A" else "B")
    other_id = "pcd_" + "0" * 16 + good[20:]
    hostile = ["", "Bearer " + good, good + "x", " " * 5, "pcd_" + "' OR 1=1 --", "\x00" + good]
    for wrong in [tampered, other_id, revoked.secret, expired.secret, *hostile]:
        with pytest.raises(AuthError) as caught:
            tokens.authenticate(rt, wrong)
        assert caught.value.message == tokens.INVALID
    assert tokens.authenticate(rt, good).actor.role == "dba"
    users.set_disabled(rt, admin, "dana", True)
    with pytest.raises(AuthError, match="invalid, expired or revoked"):
        tokens.authenticate(rt, good)


def test_a_token_never_exceeds_its_users_role(rt: Runtime, admin: Actor, make_user) -> None:
    vera = make_user("vera", "viewer")
    with pytest.raises(PermissionDenied):
        tokens.create(rt, vera, "x", max_role="dba")
    # The database refuses it too, whatever the app sends (trigger).
    with pytest.raises(Exception, match="cannot exceed"):
        with rt.store.tx(vera.identity) as tx:
            tx.one(
                "api_token_insert",
                {
                    "name": "x",
                    "public_id": "ab" * 8,
                    "token_hash": b"\1" * 32,
                    "max_role": "admin",
                    "connection_ids": None,
                    "days": 1,
                },
            )
    ana = make_user("ana", "dba")
    capped = tokens.create(rt, ana, "cap", max_role="viewer")
    assert tokens.authenticate(rt, capped.secret).actor.role == "viewer"
    full = tokens.create(rt, ana, "full")
    users.set_role(rt, admin, "ana", "analyst")  # demoting the user demotes the token
    assert tokens.authenticate(rt, full.secret).actor.role == "analyst"


def test_users_see_and_revoke_only_their_own_tokens_admins_all(
    rt: Runtime, admin: Actor, make_user
) -> None:
    a, b = make_user("alice", "analyst"), make_user("bob", "analyst")
    mine = tokens.create(rt, a, "alice's")
    theirs = tokens.create(rt, b, "bob's")
    assert [t.name for t in tokens.list_tokens(rt, a)] == ["alice's"]
    with pytest.raises(NotFound):
        tokens.revoke(rt, a, theirs.id)
    assert tokens.authenticate(rt, theirs.secret).token_id == theirs.id
    assert {t.owner for t in tokens.list_tokens(rt, admin)} == {"alice", "bob"}
    tokens.revoke(rt, admin, mine.id)
    with pytest.raises(AuthError):
        tokens.authenticate(rt, mine.secret)


def test_the_rate_limit_counts_in_the_store_across_instances(
    rt: Runtime, admin: Actor, test_settings
) -> None:
    made = tokens.create(rt, admin, "limited")
    tune(rt, mcp_calls_per_minute=3)
    second = Runtime.start(test_settings.with_overrides(mcp_calls_per_minute=3))
    try:
        tokens.authenticate(rt, made.secret)
        tokens.authenticate(second, made.secret)
        tokens.authenticate(rt, made.secret)
        with pytest.raises(QuotaExceeded, match="at most 3 calls a minute"):
            tokens.authenticate(second, made.secret)
    finally:
        second.close()
    other = tokens.create(rt, admin, "another")  # per token: another one is not held back
    tokens.authenticate(rt, other.secret)

"""Reliability F4: the metadata store restarts while twenty users are signed in.

Twenty dba users each hold a session and have run a statement. The store's cluster (a dedicated
one, `cluster`) is stopped: every user's next statement fails closed with a clear error (no
statement reaches the target without its audit intent on record, A1), and so does a sign-in,
which must not read as a wrong password. Once the cluster is back, every user runs again within
30 s without restarting the app (the pools reconnect on their own), and after the reconcile job
every intent has its outcome or 'unknown'.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from petcare_dba.errors import AuthError, PetcareError
from petcare_dba.services.actor import Actor
from petcare_dba.services.security import audit, auth, users
from petcare_dba.services.sql import engine
from tests.faults.fix_matrix import Cluster, World, cluster, unpaired_intents, world
from tests.fix_db import ADMIN_PASSWORD

__all__ = ["cluster", "world"]  # fixtures used by name

USERS = 20
PASSWORD = "Restart-f4-password-long"
RECOVERY_S = 30
BUMP = "UPDATE t SET note = note || '+' WHERE id = 1"


def _bumps(w: World) -> int:
    """How many times BUMP ran on the target."""
    return w.target.rows("SELECT note FROM t WHERE id = 1")[0][0].count("+")


def _signed_in(w: World) -> list[str]:
    """Session tokens of USERS dba users (one password hash each, no second one to sign in)."""
    tokens = []
    for i in range(USERS):
        name = f"dba{i:02d}"
        user_id = users.add_user(w.rt, w.admin, name, "dba", PASSWORD)
        row = {"id": user_id, "username": name, "role": "dba", "language": None}
        tokens.append(auth.open_session(w.rt.store, w.rt.settings, row).token)
    return tokens


def _actor(w: World, token: str) -> Actor:
    actor = auth.resolve(w.rt.store, w.rt.settings, token)
    assert actor is not None, "the session did not survive the restart"
    return actor


def _run(w: World, token: str) -> PetcareError | None:
    """One user's statement: None when it ran, else the error they saw."""
    try:
        engine.run(w.rt, _actor(w, token), "tgt", BUMP).raise_for_error()
    except PetcareError as exc:
        return exc
    return None


def _all_at_once(w: World, tokens: list[str]) -> list[PetcareError | None]:
    """Every user's statement at the same moment, as twenty signed-in users would."""
    with ThreadPoolExecutor(len(tokens)) as pool:
        return list(pool.map(lambda token: _run(w, token), tokens))


@pytest.mark.slow  # twenty users (one argon2 hash each) and a cluster restart
@pytest.mark.timeout(120)
def test_f4_a_store_restart_with_twenty_users_fails_closed_and_recovers_within_30_s(
    world: Callable[..., World], cluster: Cluster
) -> None:
    w = world(home="meta")
    tokens = _signed_in(w)
    for token in tokens:
        engine.run(w.rt, _actor(w, token), "tgt", BUMP).raise_for_error()
    assert _bumps(w) == USERS
    assert w.rt.deferred.settle()
    cluster.restart_stop()
    try:
        errors = [e for e in _all_at_once(w, tokens) if e is not None]
        assert len(errors) == USERS, f"{USERS - len(errors)} statements ran without a store"
        assert _bumps(w) == USERS, "a statement reached the target without its intent (A1)"
        for error in errors:
            assert error.message and "Traceback" not in error.message
            assert not isinstance(error, AuthError), error.message  # not "wrong password"
        with pytest.raises(PetcareError) as refused:
            auth.login(w.rt.store, w.rt.settings, "admin", ADMIN_PASSWORD)
        assert not isinstance(refused.value, AuthError), refused.value.message
    finally:
        cluster.restart_start()
    back = time.monotonic()
    pending = list(tokens)
    while pending and time.monotonic() - back < RECOVERY_S:
        outcomes = _all_at_once(w, pending)
        pending = [t for t, e in zip(pending, outcomes, strict=True) if e is not None]
        if pending:
            time.sleep(0.5)
    recovered_s = time.monotonic() - back
    assert not pending, f"{len(pending)} users still failing {RECOVERY_S} s after the restart"
    assert _bumps(w) == 2 * USERS
    assert auth.login(w.rt.store, w.rt.settings, "admin", ADMIN_PASSWORD).actor.username == "admin"
    assert w.rt.deferred.settle()
    assert unpaired_intents(w) == []
    assert audit.verify(w.rt.store, w.admin).ok
    print(f"F4: {USERS} users back {recovered_s:.1f} s after the store was up")

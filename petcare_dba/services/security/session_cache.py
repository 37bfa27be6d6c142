"""Live sessions remembered for a few seconds, so most reruns check their session for free.

Every rerun of every page checks its session (`auth.resolve`); through a remote store that is a
round trip (20-80 ms) per rerun, and one page action may rerun the script several times (issue
19). A session the store confirmed as live is remembered here for `session_check_window_s`
seconds: within the window the check costs nothing, after it the store is asked again. So a
revocation made elsewhere (another app instance, the CLI, an expiry) is honoured within the
window, and one made in this process (sign-out, role change, disable, password change, "sign out
everywhere") forgets everything remembered at once. Refusals are never remembered. Entries are
kept per store and keyed by the token's sha256, as the database keys sessions. A check that
started before a `forget_all` is not remembered (the generation counter), so a revocation cannot
be undone by a check that raced it.
"""

from __future__ import annotations

import threading
import time
import weakref
from typing import Any

from petcare_dba.services.actor import Actor

MAX_ENTRIES = 10_000  # sessions are few; this only bounds a flood of distinct tokens

_lock = threading.Lock()
_live: weakref.WeakKeyDictionary[Any, dict[bytes, tuple[float, Actor]]] = (
    weakref.WeakKeyDictionary()
)
_generation = 0


def generation() -> int:
    """Read before asking the store; `remember` refuses a result older than a `forget_all`."""
    return _generation


def recall(store: Any, digest: bytes, window_s: float) -> Actor | None:
    """The actor of a session confirmed live less than `window_s` seconds ago, else None."""
    if window_s <= 0:
        return None
    with _lock:
        hit = _live.get(store, {}).get(digest)
    if hit is None or time.monotonic() - hit[0] >= window_s:
        return None
    return hit[1]


def remember(store: Any, digest: bytes, actor: Actor, checked_at: float, seen: int) -> None:
    """Remember a live session confirmed at `checked_at` (monotonic, taken before the check)."""
    with _lock:
        if seen != _generation:
            return  # something was revoked while the store was being asked
        entries = _live.setdefault(store, {})
        if len(entries) >= MAX_ENTRIES:
            entries.clear()
        entries[digest] = (checked_at, actor)


def forget_all() -> None:
    """Forget every remembered session (a sign-out, role change, disable or password change)."""
    global _generation
    with _lock:
        _generation += 1
        _live.clear()

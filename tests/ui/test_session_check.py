"""A rerun checks its session once (issue 19, "Round trips per page action"): the router checks
it and every page or component asking for the actor in the same run gets that answer, so a rerun
costs at most one metadata round trip for it, none within `session_check_window_s`. Counted by a
TCP proxy in front of the store the app's runtime uses; a fragment's own rerun checks again."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from urllib.parse import urlsplit, urlunsplit

import pytest
from streamlit.testing.v1 import AppTest

from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import auth, users
from tests.fix_db import ADMIN_PASSWORD
from tests.fix_faults import FaultProxy, fault_proxy

__all__ = ["fault_proxy"]


def _script() -> None:
    # As the router and a page do (ui/app.py): check, then ask again inside the page's run.
    import streamlit as st

    from petcare_dba.ui import state

    actor = state.current_actor()
    if actor is None:
        st.write("signed out")
    else:
        with state.checked(actor):
            for _ in range(3):
                st.write(f"page sees {state.require_actor().username} ({actor.role})")


@pytest.fixture
def proxied_app(
    rt: Runtime,
    fault_proxy: Callable[..., FaultProxy],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[Callable[[float], AppTest], FaultProxy]]:
    """AppTests of `_script` whose runtime reaches the store through a counting proxy."""
    parts = urlsplit(rt.admin_url)
    proxy = fault_proxy(parts.hostname or "127.0.0.1", parts.port or 5432, latency_ms=(2.0, 2.0))
    netloc = parts.netloc.rsplit("@", 1)[0] + f"@127.0.0.1:{proxy.port}"
    monkeypatch.setenv("PETCARE_DATABASE_URL", urlunsplit((*parts[:1], netloc, *parts[2:])))
    monkeypatch.setenv("PETCARE_SETTINGS_REFRESH_S", "3600")  # no poll in the counted runs

    def make(window_s: float) -> AppTest:
        monkeypatch.setenv("PETCARE_SESSION_CHECK_WINDOW_S", str(window_s))
        return AppTest.from_function(_script, default_timeout=30)

    yield make, proxy


def counted(at: AppTest, proxy: FaultProxy) -> int:
    with proxy.counting() as turns:
        at.run()
    assert not at.exception, at.exception
    return turns.count


def test_a_rerun_checks_its_session_once(
    app_env: Runtime, admin: object, proxied_app: tuple[Callable[[float], AppTest], FaultProxy]
) -> None:
    make, proxy = proxied_app
    rt = app_env
    at = make(0.0)  # every rerun asks the store
    at.session_state["token"] = auth.login(rt.store, rt.settings, "admin", ADMIN_PASSWORD).token
    at.run()  # warm: the app's runtime and its pool
    assert [counted(at, proxy) for _ in range(3)] == [1, 1, 1]
    assert "page sees admin (admin)" in [m.value for m in at.markdown]
    # Signed out in this process: the next rerun's single check refuses it.
    users.revoke_sessions(rt, users.actor_for(rt, None), "admin")
    assert counted(at, proxy) == 1
    assert [m.value for m in at.markdown] == ["signed out"]


def test_within_the_window_a_rerun_costs_no_session_round_trip(
    app_env: Runtime, admin: object, proxied_app: tuple[Callable[[float], AppTest], FaultProxy]
) -> None:
    make, proxy = proxied_app
    rt = app_env
    at = make(30.0)
    at.session_state["token"] = auth.login(rt.store, rt.settings, "admin", ADMIN_PASSWORD).token
    at.run()
    assert [counted(at, proxy) for _ in range(3)] == [0, 0, 0]

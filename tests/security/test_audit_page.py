"""AppTest of the Audit and Users pages: scope per role, filters, detail, exports, alerts, and
the admin actions on users (reset, TOTP, unlock)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from streamlit.testing.v1 import AppTest

from petcare_dba.errors import AuthError
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import audit, auth
from petcare_dba.ui import i18n
from tests.fix_db import ADMIN_PASSWORD, USER_PASSWORD
from tests.fix_ui import sign_in


def _en(key: str, **values: object) -> str:
    return i18n.translate("en", key, **values)


def _audit_page(app: Callable[[], AppTest], user: str, password: str) -> AppTest:
    at = sign_in(app(), user, password)
    assert not at.exception
    at.switch_page("pages/audit.py").run()
    assert not at.exception, at.exception
    return at


def _shown_actions(at: AppTest) -> set[str]:
    frame = at.dataframe[0].value  # the grid's header is the locale's word for "action"
    return set(frame[_en("grid.col.action")]) if len(frame) else set()


def test_admin_sees_everyone_and_filters_by_user_action_and_outcome(
    app: Callable[[], AppTest], admin: Actor, rt: Runtime, make_user
) -> None:
    viewer = make_user("fay", "viewer")
    audit.record(rt.store, viewer, "test.fay", "ok")
    audit.record(rt.store, admin, "test.admin", "error")
    at = _audit_page(app, "admin", ADMIN_PASSWORD)
    assert _en("audit.scope_all") in [c.value for c in at.caption]
    assert {"test.fay", "test.admin"} <= _shown_actions(at)
    at.selectbox(key="audit_user").select("fay").run()
    assert _shown_actions(at) == {"test.fay"}
    at.selectbox(key="audit_user").select(_en("audit.any"))
    at.selectbox(key="audit_outcome").select("error").run()
    assert _shown_actions(at) == {"test.admin"}
    at.selectbox(key="audit_outcome").select(_en("audit.any"))
    at.selectbox(key="audit_action").select("test.fay").run()
    assert _shown_actions(at) == {"test.fay"}
    assert at.json, "the detail view shows the chosen event"
    assert len(at.get("download_button")) == 2


def test_viewer_sees_only_own_events_and_no_user_filter(
    app: Callable[[], AppTest], admin: Actor, rt: Runtime, make_user
) -> None:
    viewer = make_user("gus", "viewer")
    audit.record(rt.store, viewer, "test.gus", "ok")
    audit.record(rt.store, admin, "test.secret-admin", "ok")
    at = _audit_page(app, "gus", USER_PASSWORD)
    assert _en("audit.scope_own") in [c.value for c in at.caption]
    assert "test.secret-admin" not in _shown_actions(at) and "test.gus" in _shown_actions(at)
    with pytest.raises(KeyError):
        at.selectbox(key="audit_user")
    assert not [b for b in at.button if b.label == _en("audit.verify")]


def test_alerts_show_a_lockout_and_verify_reports_the_chain(
    app: Callable[[], AppTest], admin: Actor, rt: Runtime, make_user
) -> None:
    make_user("hal", "viewer")
    for _ in range(rt.settings.lockout_threshold):
        with pytest.raises(AuthError):
            auth.login(rt.store, rt.settings, "hal", "wrong-password-00")
    at = _audit_page(app, "admin", ADMIN_PASSWORD)
    texts = [e.value for e in at.error] + [w.value for w in at.warning]
    assert _en("audit.alert.lockout", subject="hal", count=1) in texts
    verify = next(b for b in at.button if b.label == _en("audit.verify"))
    verify.click().run()
    assert any(s.value.startswith("Chain intact") for s in at.success)


def test_admin_resets_a_password_and_the_old_session_ends(
    app: Callable[[], AppTest], admin: Actor, rt: Runtime, make_user
) -> None:
    make_user("ida", "analyst")
    signed = auth.login(rt.store, rt.settings, "ida", USER_PASSWORD)
    at = sign_in(app(), "admin", ADMIN_PASSWORD)
    at.switch_page("pages/users.py").run()
    assert not at.exception, at.exception
    at.selectbox(key="users_target").select("ida").run()
    form_inputs = [w for w in at.text_input if w.label == _en("users.new_password")]
    form_inputs[0].input("Nq5-velvet-anchor-38")
    next(b for b in at.button if b.label == _en("users.reset")).click().run()
    assert not at.exception, at.exception
    assert auth.resolve(rt.store, rt.settings, signed.token) is None
    assert auth.login(rt.store, rt.settings, "ida", "Nq5-velvet-anchor-38").actor.username == "ida"

"""AppTest journeys from the real entrypoint: login gate, every page, language, logout."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from streamlit.testing.v1 import AppTest

from petcare_dba.services import connections
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import audit
from petcare_dba.ui import i18n
from petcare_dba.ui.pages_registry import PAGES
from tests.fix_db import ADMIN_PASSWORD, USER_PASSWORD, PgServer
from tests.fix_ui import sign_in


def test_login_page_is_shown_first_and_failure_is_generic(
    app: Callable[[], AppTest], admin: Actor
) -> None:
    at = sign_in(app(), "admin", "wrong-password-123")
    assert not at.exception
    assert [e.value for e in at.error] == [i18n.translate("en", "login.failed")]
    at2 = sign_in(app(), "ghost", "wrong-password-123")
    assert [e.value for e in at2.error] == [i18n.translate("en", "login.failed")]


@pytest.mark.parametrize("spec", PAGES, ids=[p.file for p in PAGES])
def test_every_registered_page_renders_for_an_admin(
    app: Callable[[], AppTest], admin: Actor, rt: Runtime, pg: PgServer, spec
) -> None:  # type: ignore[no-untyped-def]
    connections.add(rt, admin, "self", pg.admin_url("postgres"), shared=True)
    at = sign_in(app(), "admin", ADMIN_PASSWORD)
    assert not at.exception and not at.error
    at.switch_page(spec.file).run()
    assert not at.exception, at.exception
    assert at.title, f"{spec.file} rendered no title"


def test_viewer_does_not_get_admin_pages(app: Callable[[], AppTest], make_user) -> None:  # type: ignore[no-untyped-def]
    make_user("vera", "viewer")
    at = sign_in(app(), "vera", USER_PASSWORD)
    assert not at.exception
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("pages/users.py")
    at.switch_page("pages/dashboard.py").run()
    assert not at.exception


def test_language_switch_is_remembered_per_user(app: Callable[[], AppTest], admin: Actor) -> None:
    at = sign_in(app(), "admin", ADMIN_PASSWORD)
    at.selectbox(key="lang_picker").select("pt-BR").run()
    assert not at.exception
    assert at.title[0].value == i18n.translate("pt-BR", "dashboard.title")
    again = sign_in(app(), "admin", ADMIN_PASSWORD)  # a new browser session
    assert again.title[0].value == i18n.translate("pt-BR", "dashboard.title")


def test_logout_revokes_the_session_and_is_audited(
    app: Callable[[], AppTest], admin: Actor, rt: Runtime
) -> None:
    at = sign_in(app(), "admin", ADMIN_PASSWORD)
    token = at.session_state["token"]
    at.sidebar.button[0].click().run()  # the sidebar's only button: sign out
    assert "token" not in at.session_state  # (the browser journey checks the login page shows)
    from petcare_dba.services.security import auth

    assert auth.resolve(rt.store, rt.settings, token) is None
    actions = [e.action for e in audit.recent(rt.store, admin)]
    assert "login" in actions and "logout" in actions


def test_catalogues_have_identical_keys_and_placeholders() -> None:
    import string

    en, pt = i18n.catalogue("en"), i18n.catalogue("pt-BR")
    assert set(en) == set(pt)
    fields = lambda s: sorted(f for _, f, _, _ in string.Formatter().parse(s) if f)  # noqa: E731
    assert all(fields(en[k]) == fields(pt[k]) for k in en)

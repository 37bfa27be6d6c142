"""The Settings page's run-time editor (issue 19): an admin sets and resets a value and a secret
through the real entrypoint; a viewer cannot reach the page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from petcare_dba.services import settings_overlay
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.ui import i18n
from petcare_dba.ui.components.text import plain
from tests.fix_db import ADMIN_PASSWORD, USER_PASSWORD
from tests.fix_ui import sign_in


def _stored(rt: Runtime) -> dict[str, Any]:
    return settings_overlay.read(rt.store, rt.keyring)


def _page(app: Callable[[], AppTest]) -> AppTest:
    at = sign_in(app(), "admin", ADMIN_PASSWORD)
    at.switch_page("pages/settings.py").run()
    assert not at.exception, at.exception
    return at


def test_an_admin_sets_and_resets_a_threshold(
    app: Callable[[], AppTest], rt: Runtime, admin: Actor
) -> None:
    at = _page(app)
    at.selectbox(key="set_pick").select("advisor_bloat_pct").run()
    at.text_input(key="set_value_advisor_bloat_pct").input("33.5").run()
    at.button(key="set_save").click().run()
    assert not at.exception, at.exception
    assert _stored(rt) == {"advisor_bloat_pct": 33.5}
    # Drawn as plain text (escaped markdown): the setting's name is not italicised.
    assert plain(i18n.translate("en", "settings_edit.saved", name="advisor_bloat_pct")) in [
        s.value for s in at.success
    ]
    table = at.dataframe[0].value
    shown = table[table["setting"] == "advisor_bloat_pct"].iloc[0]
    assert (shown["value"], shown["source"]) == ("33.5", "override")  # drawn after the change
    at.button(key="set_reset").click().run()
    assert not at.exception, at.exception
    assert _stored(rt) == {}


def test_a_bad_value_shows_the_error_and_stores_nothing(
    app: Callable[[], AppTest], rt: Runtime, admin: Actor
) -> None:
    at = _page(app)
    at.selectbox(key="set_pick").select("ai_retries").run()
    at.text_input(key="set_value_ai_retries").input("500").run()
    at.button(key="set_save").click().run()
    assert not at.exception, at.exception
    assert any("between 0 and 20" in e.value for e in at.error)
    assert _stored(rt) == {}


def test_a_secret_is_a_password_field_and_never_shown(
    app: Callable[[], AppTest], rt: Runtime, admin: Actor
) -> None:
    at = _page(app)
    at.selectbox(key="set_pick").select("gemini_api_key").run()
    field = at.text_input(key="set_value_gemini_api_key")
    assert field.proto.type == field.proto.PASSWORD and field.value == ""
    field.input("AIza-page-secret-42").run()
    at.button(key="set_save").click().run()
    assert not at.exception, at.exception
    assert _stored(rt) == {"gemini_api_key": "AIza-page-secret-42"}
    assert at.text_input(key="set_value_gemini_api_key").value == ""  # not kept in the session
    table = at.dataframe[0].value
    assert table[table["setting"] == "gemini_api_key"].iloc[0]["value"] == "(set)"
    assert "AIza-page-secret-42" not in str(at)


def test_a_viewer_cannot_reach_the_settings_page(
    app: Callable[[], AppTest], make_user: Any
) -> None:
    make_user("vera", "viewer")
    at = sign_in(app(), "vera", USER_PASSWORD)
    assert not at.exception
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("pages/settings.py")


# Help texts that are a proper noun or an identifier in both languages (none so far): a setting
# may be listed here only when its English help has no word to translate.
SAME_HELP_IN_PT_BR: frozenset[str] = frozenset()


def test_every_registry_setting_has_its_own_pt_br_help() -> None:
    """Issue 19: the help of every setting (the registry's English) has a pt-BR text."""
    from petcare_dba.settings import SETTINGS

    en, pt = i18n.catalogue("en"), i18n.catalogue("pt-BR")
    missing = [s.name for s in SETTINGS if i18n.help_key(s.name) not in pt]
    same = [
        s.name
        for s in SETTINGS
        if s.name not in SAME_HELP_IN_PT_BR and pt.get(i18n.help_key(s.name)) == s.help
    ]
    assert (missing, same) == ([], [])
    assert all(en[i18n.help_key(s.name)] == s.help for s in SETTINGS)  # English: the registry's
    assert SAME_HELP_IN_PT_BR <= {s.name for s in SETTINGS}


def test_the_pt_br_settings_page_shows_every_help_in_pt_br(
    app: Callable[[], AppTest], admin: Actor
) -> None:
    at = sign_in(app(), "admin", ADMIN_PASSWORD)
    at.session_state["lang"] = "pt-BR"
    at.switch_page("pages/settings.py").run()
    assert not at.exception, at.exception
    name, about = (i18n.translate("pt-BR", f"grid.col.{c}") for c in ("name", "description"))
    grid = next(d.value for d in at.dataframe if about in d.value.columns)
    shown = dict(zip(grid[name], grid[about], strict=True))
    assert shown and all(
        text == i18n.translate("pt-BR", i18n.help_key(setting)) for setting, text in shown.items()
    )
    picked = str(at.selectbox(key="set_pick").value)  # the run-time editor's caption too
    assert plain(i18n.translate("pt-BR", i18n.help_key(picked))) in [c.value for c in at.caption]

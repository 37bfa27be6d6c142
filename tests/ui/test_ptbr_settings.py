"""Issue 19, the last English in pt-BR: where a setting's value comes from, a refused value's
hint, the health details (Settings page and the Assistant's AI check).

One AppTest in pt-BR, with the Gemini key taken from another program's variable
(`GOOGLE_API_KEY`, so its source is `env GOOGLE_API_KEY`) and the OpenAI-compatible provider
chosen without its URL: on the Settings page the source reads "variável de ambiente
GOOGLE_API_KEY" in both tables and in the lock note, the health table says its sentences in
pt-BR, and a value out of bounds shows the setting's pt-BR help as its hint and the English help
nowhere; the Assistant page says why the AI is not ready in pt-BR. (test_ptbr_complete.py fails
on any English health detail of the seeded page; tests/cli/test_cli.py checks the CLI keeps the
English.)
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from streamlit.testing.v1 import AppTest

from petcare_dba.services.actor import Actor
from petcare_dba.settings import setting
from petcare_dba.ui import i18n
from petcare_dba.ui.components.text import plain
from tests.fix_db import ADMIN_PASSWORD
from tests.fix_ui import sign_in
from tests.ui.test_ptbr_complete import _collect

PT = "pt-BR"


def _shown(at: AppTest) -> list[str]:
    """Every text the page shows: labels, bodies, captions, grid headers and cells."""
    seen: list[tuple[str, str]] = []
    _collect(at._tree, seen)
    return [text for _, text in seen]


def _mentions(at: AppTest, text: str) -> list[str]:
    """What the page shows that holds `text`, as it is or escaped for Markdown (`plain`)."""
    return [s for s in _shown(at) if text in s or plain(text) in s]


def _column(at: AppTest, key_column: str, value_column: str) -> dict[str, str]:
    """{row name: value} of the grid with both (pt-BR) headers."""
    frame = next(d.value for d in at.dataframe if {key_column, value_column} <= set(d.value))
    return dict(zip(frame[key_column], frame[value_column], strict=True))


def test_sources_hints_and_health_in_pt_br(
    app: Callable[[], AppTest], admin: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PETCARE_GEMINI_API_KEY", raising=False)
    monkeypatch.setenv("GOOGLE_API_KEY", "AIza-from-the-sdk-variable")
    monkeypatch.setenv("PETCARE_AI_PROVIDER", "openai")
    monkeypatch.delenv("PETCARE_OPENAI_BASE_URL", raising=False)
    at = sign_in(app(), "admin", ADMIN_PASSWORD)
    at.session_state["lang"] = PT
    at.switch_page("pages/settings.py").run()
    assert not at.exception, at.exception

    english_source = "env GOOGLE_API_KEY"
    source = i18n.translate(PT, "settings_edit.source_env_var", var="GOOGLE_API_KEY")
    assert source == "variável de ambiente GOOGLE_API_KEY"
    editor = _column(
        at,
        i18n.translate(PT, "settings_edit.col_name"),
        i18n.translate(PT, "settings_edit.col_source"),
    )
    listed = _column(at, i18n.translate(PT, "grid.col.name"), i18n.translate(PT, "grid.col.source"))
    assert editor["gemini_api_key"] == listed["gemini_api_key"] == source
    assert editor["ai_retries"] == i18n.translate(PT, "grid.word.default")
    health = _column(
        at, i18n.translate(PT, "grid.col.component"), i18n.translate(PT, "grid.col.detail")
    )
    assert health["alert_delivery"] == i18n.translate(PT, "health.alert_delivery.none")
    assert health["alert_delivery"] != "no alert channel configured"
    no_url = i18n.translate(PT, "health.ai.no_openai_url")
    assert health["ai"] == no_url

    at.selectbox(key="set_pick").select("gemini_api_key").run()  # pinned: the lock note
    lock = i18n.translate(PT, "settings_edit.locked", source=plain(source))
    assert [i.value for i in at.info] == [lock]
    assert _mentions(at, english_source) == []

    at.selectbox(key="set_pick").select("ai_retries").run()
    at.text_input(key="set_value_ai_retries").input("500").run()
    at.button(key="set_save").click().run()
    assert not at.exception, at.exception
    assert at.error, "a value out of bounds is refused"
    english, pt_help = setting("ai_retries").help, i18n.translate(PT, i18n.help_key("ai_retries"))
    # The editor's caption and the error's hint: both the setting's pt-BR help.
    assert [c.value for c in at.caption].count(plain(pt_help)) == 2
    assert _mentions(at, english) == []

    at.switch_page("pages/assistant.py").run()
    assert [w.value for w in at.warning] == [plain(no_url)]


def test_every_health_sentence_has_its_own_pt_br_text() -> None:
    """The health details' English comes from the service (`DETAILS`, as the CLI prints it);
    each has a pt-BR text of its own (the catalogue test checks the keys and placeholders)."""
    from petcare_dba.services.monitoring.health import DETAILS

    en, pt = i18n.catalogue("en"), i18n.catalogue(PT)
    assert all(en[key] == text for key, text in DETAILS.items())
    assert [key for key in DETAILS if pt[key] == DETAILS[key]] == []

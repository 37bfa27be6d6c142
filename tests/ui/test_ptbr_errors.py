"""Issue 19, errors in pt-BR from the UI: the error box says its title, message, hint, the
Details expander, its labels and the line marker in the user's language, and the English
sentence is nowhere on the page.

One AppTest journey on a real PostgreSQL (a target with table `t`, shared with a viewer): a
wrong password at sign-in; an admin saves a setting out of its bounds (Settings), runs text that
does not parse and a DELETE without WHERE (SQL editor: the syntax error, then the confirmation's
reason), declines it and finds History's note of the decline in pt-BR; a viewer runs a DELETE
(refused by the rule) and adds a backup schedule (not allowed: it needs dba); the admin adds a
connection whose URL has no host (the target boundary's check) and opens the Explorer while
every one of their slots on `tgt` is taken (the per-user cap's "busy", after pool_timeout_s,
one second here). Each pt-BR sentence is spelled out here, so a catalogue that fell back to
English would fail.
(tests/ui/test_error_words.py checks every title and message has pt-BR text; tests/cli/test_cli.py
that the CLI keeps the English.)
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from petcare_dba.services import connections
from petcare_dba.services.actor import Actor
from petcare_dba.ui import i18n, state
from petcare_dba.ui.components.text import as_read, plain
from tests.fix_db import ADMIN_PASSWORD, USER_PASSWORD
from tests.fix_engine import Target, target
from tests.fix_ui import sign_in
from tests.sql.test_editor_page import EDITOR, press, rerun
from tests.ui.test_ptbr_settings import _shown

__all__ = ["target"]
PT = "pt-BR"


def _open(app: Callable[[], AppTest], user: str, password: str, page: str) -> AppTest:
    at = sign_in(app(), user, password)
    at.session_state["lang"] = PT
    at.session_state["connection"] = "tgt"
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def _nowhere(at: AppTest, *english: str) -> None:
    """None of the English words is on the page (as written or escaped for Markdown)."""
    found = [s for s in _shown(at) for e in english if e in s or plain(e) in s]
    assert found == [], found


def test_errors_from_the_ui_are_said_in_pt_br(
    app: Callable[[], AppTest],
    target: Target,
    admin: Actor,
    make_user: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # pt-BR as the deployment's default too: AppTest calls a widget's format_func (the editor's
    # translated choices) outside the script run, where the session's language is not set.
    monkeypatch.setenv("PETCARE_DEFAULT_LANGUAGE", PT)
    monkeypatch.setenv("PETCARE_POOL_TIMEOUT_S", "1")  # the wait before "busy", below
    # A wrong password: the sign-in form's one generic sentence, in pt-BR.
    at = sign_in(app(), "admin", "not-the-password-1")
    assert [e.value for e in at.error] == [i18n.translate(PT, "login.failed")]
    _nowhere(at, "Invalid username or password")

    # A value out of bounds on the Settings page (the settings registry's refusal).
    at = _open(app, "admin", ADMIN_PASSWORD, "pages/settings.py")
    at.selectbox(key="set_pick").select("ai_retries").run()
    at.text_input(key="set_value_ai_retries").input("500").run()
    at.button(key="set_save").click().run()
    said = "PETCARE_AI_RETRIES deve estar entre 0 e 20, não '500'"
    assert [e.value for e in at.error] == [f"**Entrada inválida**: {plain(said)}"]
    _nowhere(at, "must be between", "Invalid input")

    # Text that does not parse (SQL editor): the parser's words, ours around them, the details.
    at = _open(app, "admin", ADMIN_PASSWORD, EDITOR)
    at = press(rerun(at), "ed_run", "SELEC 1")
    syntax = 'syntax error at or near "SELEC" (linha 1, coluna 1)'  # PostgreSQL's words, then ours
    assert [e.value for e in at.error] == [f"**Entrada inválida**: {plain(syntax)}"]
    hint = "Verifique a sintaxe SQL perto da posição indicada. Se o PostgreSQL aceitar"
    assert any(as_read(c.value).startswith(hint) for c in at.caption), [c.value for c in at.caption]
    assert [x.label for x in at.expander] == ["Detalhes"]
    assert "SQLSTATE: 42601" in [x.value for x in at.text]
    assert [c.value.splitlines()[0] for c in at.code if "^" in c.value] == ["-- linha 1"]
    _nowhere(at, "line 1, column", "Check the SQL syntax", "-- line", "Details", "position")

    # A DELETE without WHERE waits for a confirmation whose reason is said in pt-BR.
    at = press(at, "ed_run", "DELETE FROM t")
    assert at.session_state["ed_confirm"]["reason"] == "DELETE without WHERE deletes every row of t"
    assert "DELETE sem WHERE exclui todas as linhas de t" in [w.value for w in at.warning]
    _nowhere(at, "without WHERE")
    at.session_state["ed_confirm_answer"] = "no"
    rerun(at)
    # History keeps the decline as an English note; the page reads it back and says it in
    # pt-BR, the classifier's reason inside it too.
    at.switch_page("pages/history.py").run()
    assert not at.exception, at.exception
    note = "não confirmado pelo usuário: DELETE sem WHERE exclui todas as linhas de t"
    assert any(as_read(m.value).endswith(f"— {note}") for m in at.markdown)
    _nowhere(at, "declined by the user", "without WHERE")

    # A viewer's DELETE is refused by the rule; the title says "Recusado" once.
    make_user("vera", "viewer")
    at = _open(app, "vera", USER_PASSWORD, EDITOR)
    at = press(rerun(at), "ed_run", "DELETE FROM t WHERE id = 1")
    rule = "viewer só pode executar instruções somente leitura"
    refused = f"{rule} (DELETE exclui linhas de t)"
    assert [e.value for e in at.error] == [f"**Recusado**: {plain(refused)}"]
    assert f"regra: {rule}" in [as_read(c.value) for c in at.caption]
    _nowhere(at, "may run read-only", "refused", "Refused", "deletes rows")

    # A viewer may not schedule a backup (Actor.require: what, the role, the user's role).
    at = _open(app, "vera", USER_PASSWORD, "pages/schedules.py")
    at.session_state["sch_tab"] = i18n.translate(PT, "schedules.tab.add")
    at.run()
    at.text_input(key="sch_name").input("mine")
    at.text_input(key="sch_table").input("t")
    add = i18n.translate(PT, "schedules.add")
    next(b for b in at.button if b.label == add).click().run()
    assert not at.exception, at.exception
    refused = "agendar o backup de uma tabela exige o papel dba; você é viewer"
    assert [e.value for e in at.error] == [f"**Não permitido**: {plain(refused)}"]
    _nowhere(at, "needs the dba role", "Not allowed")

    # A stored URL without a host (Connections page): the target boundary's own check.
    at = _open(app, "admin", ADMIN_PASSWORD, "pages/connections.py")
    field = {x.label: x for x in at.text_input}
    field[i18n.translate(PT, "connections.name")].input("nohost")
    field[i18n.translate(PT, "connections.url")].input("postgresql:///petcare")
    add = i18n.translate(PT, "connections.add")
    next(b for b in at.button if b.label == add).click().run()
    assert not at.exception, at.exception
    assert [e.value for e in at.error] == [f"**Entrada inválida**: {plain('a URL não tem host')}"]
    _nowhere(at, "has no host", "Invalid input")

    # The per-user cap: the admin's three slots on `tgt` are taken, so the Explorer's catalogue
    # read waits pool_timeout_s and says busy, with the setting that governs it.
    with ExitStack() as slots:
        for _ in range(3):
            slots.enter_context(connections.held(state.runtime(), admin, "tgt"))
        at = _open(app, "admin", ADMIN_PASSWORD, "pages/explorer.py")
    busy = (
        "ocupado: você já executa 3 instrução(ões) nesta conexão "
        "(max_connections_per_user=3); esperou 1 s"
    )
    assert [e.value for e in at.error] == [f"**Indisponível**: {plain(busy)}"]
    assert "tente de novo quando uma terminar, ou cancele-a" in [
        as_read(c.value) for c in at.caption
    ]
    _nowhere(at, "you already run", "retry when", "Unavailable")

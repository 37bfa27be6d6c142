"""Entry point and router: login gate, shared chrome and `st.navigation` over the registry.

Run by `petcare-dba up` (streamlit run). Shared chrome lives here only: the user badge with
logout, the connection picker and the language switch. Pages are thin and read the session
through `petcare_dba.ui.state`.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from petcare_dba.errors import PetcareError
from petcare_dba.services import connections
from petcare_dba.services.actor import Actor
from petcare_dba.services.observability import metrics
from petcare_dba.services.security import auth
from petcare_dba.ui import i18n, state
from petcare_dba.ui.components.errors import show_error
from petcare_dba.ui.components.security.login import login_page, restore_from_cookie
from petcare_dba.ui.components.text import plain
from petcare_dba.ui.pages_registry import PAGES

# An emoji favicon is drawn in the browser; a `:material/…:` favicon would be fetched from a
# font host at run time (the navigation's material icons come from Streamlit's bundled font).
st.set_page_config(page_title="PetCare DBA Admin", page_icon="🐾", layout="wide")
t = state.t


def _language_changed(actor: Actor) -> None:
    choice = st.session_state["lang_picker"]
    st.session_state["lang"] = choice
    rt = state.runtime()
    auth.set_language(rt.store, actor, choice)


def _sign_out(actor: Actor) -> None:
    auth.logout(state.runtime().store, actor)
    language = st.session_state.get("lang")
    st.session_state.clear()
    if language:  # the login page keeps speaking the user's language
        st.session_state["lang"] = language


def sidebar(actor: Actor) -> None:
    rt = state.runtime()
    with st.sidebar:
        st.markdown(f"**{plain(actor.display_name or actor.username)}** · `{plain(actor.role)}`")
        names = [c.name for c in connections.list_connections(rt, actor)]
        if names:
            current = st.session_state.get("connection")
            index = names.index(current) if current in names else 0
            st.selectbox(t("chrome.connection"), names, index=index, key="connection")
        else:
            st.caption(t("chrome.no_connections"))
        codes = list(i18n.LANGUAGES)
        # A callback runs before the script, so the whole page renders in the new language.
        st.selectbox(
            t("chrome.language"),
            codes,
            index=codes.index(state.language()),
            format_func=lambda c: i18n.LANGUAGES[c],
            key="lang_picker",
            on_change=_language_changed,
            args=(actor,),
        )
        st.button(t("chrome.logout"), icon=":material/logout:", on_click=_sign_out, args=(actor,))


def _forbidden(title: str, needed: str, role: str) -> Callable[[], None]:
    def forbidden() -> None:
        st.title(t(title))
        st.warning(
            t("nav.forbidden", role=plain(needed), yours=plain(role)), icon=":material/lock:"
        )

    forbidden.__name__ = f"forbidden_{title.replace('.', '_')}"  # st.Page keys pages by name
    return forbidden


def main() -> None:
    try:
        actor = state.current_actor()
        # A reload starts a new Streamlit session: adopt the HttpOnly cookie's session before
        # routing, so a deep link lands on its page instead of the sign-in form.
        if actor is None and restore_from_cookie():
            actor = state.current_actor()
    except PetcareError as exc:
        show_error(exc)
        st.stop()
    if actor is None:
        st.navigation(
            [st.Page(login_page, title=t("login.title"), icon=":material/login:")],
            position="hidden",
        ).run()
        metrics.page_run("login", ("login",))
        return
    sidebar(actor)
    sections: dict[str, list[st.Page]] = {}
    names: dict[int, str] = {}  # page object -> its file's stem, the metrics label
    for spec in PAGES:
        stem = spec.file.rsplit("/", 1)[-1].removesuffix(".py")
        if actor.at_least(spec.min_role):
            page = st.Page(spec.file, title=t(spec.title), icon=spec.icon)
        else:
            # A link or bookmark to a page above the user's role lands on a hidden stand-in at
            # the same address that says why, instead of falling back to the dashboard without
            # a word. The page itself is never loaded; its services refuse the role anyway.
            page = st.Page(
                _forbidden(spec.title, spec.min_role, actor.role),
                title=t(spec.title),
                icon=":material/lock:",
                url_path=stem,
                visibility="hidden",
            )
        names[id(page)] = stem
        sections.setdefault(t(spec.section), []).append(page)
    chosen = st.navigation(sections, expanded=True)
    metrics.page_run(names.get(id(chosen), "other"), names.values())
    with state.checked(actor):  # the page's require_actor() costs no second session check
        chosen.run()


main()

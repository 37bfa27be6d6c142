"""The explicit-transaction bar of the SQL editor (dba and admin only).

"Begin" opens an `ExplicitTransaction` kept in `st.session_state["ed_tx"]` across reruns and
registered with the session watcher, so a closed tab rolls it back (audited as such). While it
is open, runs go into it, and Commit / Rollback end it; a fragment checks every few seconds
whether the server ended it (idle past idle_in_transaction_timeout_ms, connection lost) and then
says so. After that the user must press Reconnect before anything else runs: nothing is
replayed silently.
"""

from __future__ import annotations

import streamlit as st

from petcare_dba.errors import PetcareError
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.sql import ExplicitTransaction
from petcare_dba.ui import state
from petcare_dba.ui.components.errors import said, show_error
from petcare_dba.ui.components.text import plain
from petcare_dba.ui.session_end import ROLLBACK, current_session, watch

t = state.t
CHECK_EVERY_S = 2.0


def _begin(rt: Runtime, actor: Actor, connection: str) -> None:
    try:
        tx = ExplicitTransaction(rt, actor, connection)
    except PetcareError as exc:
        st.session_state["ed_tx_error"] = exc
        return
    st.session_state["ed_tx"] = tx
    session = current_session()
    if session:
        watch(session, tx.abandon, ROLLBACK)


def _end(what: str) -> None:
    tx: ExplicitTransaction | None = st.session_state.get("ed_tx")
    if tx is None:
        return
    try:
        if what == "commit":
            tx.commit()
        else:
            tx.rollback()
    except PetcareError as exc:
        # Still open: the error is shown; ended by the server: the bar offers Reconnect.
        st.session_state["ed_tx_error"] = exc
        return
    done = "editor.tx_committed" if tx.state == "committed" else "editor.tx_rolled_back"
    st.session_state["ed_tx_note"] = tx.ended_reason or t(done)
    st.session_state["ed_tx"] = None


def _dismiss() -> None:
    tx = st.session_state.pop("ed_tx", None)
    if tx is not None:
        tx.close()


@st.fragment(run_every=CHECK_EVERY_S)
def _watch_open() -> None:
    tx: ExplicitTransaction | None = st.session_state.get("ed_tx")
    if tx is not None and tx.check() is not None:
        st.rerun(scope="app")


def transaction_bar(rt: Runtime, actor: Actor, connection: str) -> None:
    """Begin / Commit / Rollback, or the news that the server ended the transaction."""
    if not actor.at_least("dba"):
        return
    ss = st.session_state
    if (error := ss.pop("ed_tx_error", None)) is not None:
        show_error(error)
    if (note := ss.pop("ed_tx_note", None)) is not None:
        st.info(plain(said(note)))
    tx: ExplicitTransaction | None = ss.get("ed_tx")
    if tx is not None and tx.connection_name != connection:
        st.warning(t("editor.tx_other_connection", name=plain(tx.connection_name)))
        return
    if tx is None:
        st.button(
            t("editor.tx_begin"),
            key="ed_tx_begin",
            icon=":material/lock_open:",
            on_click=_begin,
            args=(rt, actor, connection),
        )
        return
    reason = tx.check()
    if reason is not None:
        st.error(plain(said(reason)), icon=":material/link_off:")
        st.button(t("editor.tx_reconnect"), key="ed_tx_reconnect", on_click=_dismiss)
        return
    cols = st.columns([3, 1, 1])
    cols[0].warning(t("editor.tx_open", n=tx.statements), icon=":material/lock:")
    cols[1].button(
        t("editor.tx_commit"), key="ed_tx_commit", type="primary", on_click=_end, args=("commit",)
    )
    cols[2].button(t("editor.tx_rollback"), key="ed_tx_rollback", on_click=_end, args=("rollback",))
    _watch_open()

"""Widgets of the Audit and Users pages: filters, event table, detail view, exports, alerts.

What a user sees is decided by row level security (own rows; admins all rows); these widgets only
render what `services.audit` returns. Exports are built from the rows on screen and recorded in
the audit log when downloaded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

import streamlit as st

from petcare_dba.errors import PetcareError
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import audit, audit_export
from petcare_dba.ui import state
from petcare_dba.ui.components import grid
from petcare_dba.ui.components.errors import show_error
from petcare_dba.ui.components.format import date_input_format
from petcare_dba.ui.components.text import plain, trusted

t = state.t
OUTCOMES = ("ok", "error", "refused", "intent", "cancelled", "timeout", "unknown", "confirm")


@dataclass(frozen=True)
class Filters:
    username: str | None
    action: str | None
    outcome: str | None
    connection: str | None
    since: datetime | None
    until: datetime | None


def _pick(
    label: str, options: list[str], key: str, shown: Callable[[str], str] | None = None
) -> str | None:
    """A filter: "any", then the options (drawn by `shown`, e.g. an outcome in words)."""
    any_ = t("audit.any")
    choice = st.selectbox(
        trusted(label),  # callers pass t()
        [any_, *options],
        key=key,
        format_func=lambda o: o if o == any_ or shown is None else shown(o),
    )
    return None if choice == any_ else str(choice)


def _outcome_in_words(outcome: str) -> str:
    """An audit outcome in the UI language (an outcome without a word stays as it is)."""
    key = f"common.outcome.{outcome}"
    text = t(key)
    return outcome if text == key else text


def _day(value: Any, end: bool = False) -> datetime | None:
    if value is None or isinstance(value, tuple):
        return None
    moment = datetime.combine(value, time.min, tzinfo=UTC)
    return moment + timedelta(days=1) if end else moment


def filters(rt: Runtime, actor: Actor) -> Filters:
    """The filter row; non-admins cannot pick another user (RLS would show nothing anyway)."""
    facets = audit.facets(rt.store, actor)
    top = st.columns(4)
    with top[0]:
        user = (
            _pick(t("audit.user"), facets["user"], "audit_user") if actor.role == "admin" else None
        )
    with top[1]:
        action = _pick(t("audit.action"), facets["action"], "audit_action")
    with top[2]:
        outcome = _pick(t("audit.outcome"), list(OUTCOMES), "audit_outcome", _outcome_in_words)
    with top[3]:
        connection = _pick(t("audit.connection"), facets["connection"], "audit_connection")
    dates = st.columns(4)
    shown = date_input_format(state.language())
    since = dates[0].date_input(t("audit.since"), value=None, key="audit_since", format=shown)
    until = dates[1].date_input(t("audit.until"), value=None, key="audit_until", format=shown)
    return Filters(user, action, outcome, connection, _day(since), _day(until, end=True))


def table(entries: list[audit.AuditEntry]) -> None:
    st.caption(t("audit.rows", n=len(entries)))
    grid.table(
        [
            {
                "#": e.chain_seq,
                "at": e.at,
                "user": e.username,
                "role": e.app_role,
                "action": e.action,
                "outcome": _outcome_in_words(e.outcome),
                "target": e.target,
                "sqlstate": e.sqlstate,
                "sql": e.sql_text,
            }
            for e in entries
        ],
        key="audit_grid",
    )


def detail(rt: Runtime, actor: Actor, entries: list[audit.AuditEntry]) -> None:
    """One event in full, with the other rows of the same event (intent and outcome)."""
    if not entries:
        return
    with st.expander(t("audit.detail"), icon=":material/manage_search:"):
        by_seq = {e.chain_seq: e for e in entries}
        seq = st.selectbox(t("audit.pick"), list(by_seq), key="audit_pick")
        chosen = by_seq[int(seq)]
        st.json(audit_export.rows([chosen])[0], expanded=True)
        if chosen.event_id is not None:
            related = audit.event_rows(rt.store, actor, chosen.event_id)
            if len(related) > 1:
                st.caption(t("audit.related"))
                table(related)


def _exported(fmt: str, rows: int) -> None:
    actor = state.require_actor()
    try:
        audit.record(
            state.runtime().store, actor, "audit.export", "ok", detail={"format": fmt, "rows": rows}
        )
    except PetcareError:
        pass  # the download already happened; the failure is visible in health


def exports(entries: list[audit.AuditEntry]) -> None:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    cols = st.columns(2)
    for col, fmt, mime in (
        (cols[0], "csv", "text/csv"),
        (cols[1], "jsonl", "application/x-ndjson"),
    ):
        col.download_button(
            t(f"audit.export_{fmt}"),
            data=audit_export.render(entries, fmt),
            file_name=f"petcare-audit-{stamp}.{fmt}",
            mime=mime,
            icon=":material/download:",
            key=f"audit_export_{fmt}",
            on_click=_exported,
            args=(fmt, len(entries)),
        )


def alerts(rt: Runtime, actor: Actor) -> None:
    """Security events of the last 24 hours (until the monitoring issue alerts on them)."""
    events = audit.security_events(rt.store, actor, timedelta(hours=24), verify_chain=False)
    with st.expander(t("audit.alerts"), icon=":material/shield:", expanded=bool(events)):
        if not events:
            st.caption(t("audit.alerts_none"))
        for event in events:
            text = t(
                f"audit.alert.{event.kind}",
                subject=event.subject,
                count=event.count,
                detail=event.detail,
            )
            (st.error if event.kind in ("chain_break", "lockout") else st.warning)(text)


def verify_button(rt: Runtime, actor: Actor) -> None:
    if actor.role != "admin" or not st.button(t("audit.verify"), icon=":material/verified:"):
        return
    try:
        status = audit.verify(rt.store, actor)
    except PetcareError as exc:
        show_error(exc)
        return
    if status.ok:
        st.success(t("audit.chain_ok", n=status.checked))
    else:
        st.error(t("audit.chain_broken", seq=status.first_broken_seq, reason=plain(status.reason)))
        st.error(
            t(
                "audit.alert.chain_break",
                subject=f"chain_seq {int(status.first_broken_seq or 0)}",
                detail=plain(status.reason or ""),
            )
        )

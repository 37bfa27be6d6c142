"""Alert widgets: silences, maintenance windows and the delivery outbox.

Everyone signed in sees silences and windows (so the page explains why nothing was sent); dbas
and admins add and remove them (the services and RLS decide for which connections). The outbox
(admins) shows each delivery's state, attempts and last error.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial

import streamlit as st

from petcare_dba.errors import PetcareError
from petcare_dba.services import alerts
from petcare_dba.services.actor import Actor
from petcare_dba.services.alerts import silences as svc
from petcare_dba.services.runtime import Runtime
from petcare_dba.ui import state
from petcare_dba.ui.components import grid
from petcare_dba.ui.components.errors import said, show_error
from petcare_dba.ui.components.format import date_input_format, moment
from petcare_dba.ui.components.text import plain

ANY = "—"
DAYS = {1: "Mon", 2: "Tue", 3: "Wed", 4: "Thu", 5: "Fri", 6: "Sat", 7: "Sun"}


def _run(t: Callable[..., str], action: Callable[[], object], done: str) -> None:
    try:
        action()
        st.success(t(done))
    except PetcareError as exc:
        show_error(exc)


def silences(t: Callable[..., str], rt: Runtime, actor: Actor) -> None:
    """Silences not yet over, a form to add one and a remove button (dbas and admins)."""
    found = svc.list_silences(rt, actor)
    if not found:
        st.caption(t("alerts.no_silences"))
    lang, tz = state.language(), state.timezone()
    for s in found:
        cols = st.columns([5, 1])
        what = " · ".join(v for v in (s.rule, s.connection, s.severity) if v is not None)
        shown = t("alerts.everything")
        if what:
            shown = plain(what)
        cols[0].markdown(
            f"**#{int(s.id)}** {shown} — "
            f"{t('alerts.until', at=plain(moment(s.ends_at, lang, tz)))}"
            f" · {plain(s.reason)} · {plain(s.created_by or '')}"
        )
        if actor.at_least("dba") and cols[1].button(t("alerts.remove"), key=f"sil_rm_{s.id}"):
            _run(t, partial(svc.remove_silence, rt, actor, s.id), "alerts.removed")
            st.rerun()
    if not actor.at_least("dba"):
        return
    rules = [ANY, *(r.name for r in alerts.list_rules(rt, actor))]
    with st.form("alert_silence_form", clear_on_submit=True):
        st.markdown(t("alerts.add_silence"))
        left, mid, right = st.columns(3)
        rule = left.selectbox(t("alerts.rule"), rules, key="sil_rule")
        connection = mid.text_input(t("alerts.col.connection"), key="sil_conn")
        severity = right.selectbox(
            t("alerts.severity"), [ANY, *svc.SEVERITIES], key="sil_sev", format_func=grid.word
        )
        hours = left.number_input(t("alerts.hours"), 0.25, 24.0 * 30, 2.0, key="sil_hours")
        reason = st.text_input(t("alerts.reason"), key="sil_reason")
        if st.form_submit_button(t("alerts.add")):
            _run(
                t,
                lambda: svc.add_silence(
                    rt,
                    actor,
                    ends_at=datetime.now(UTC) + timedelta(hours=float(hours)),
                    reason=reason,
                    rule=None if rule == ANY else rule,
                    connection=connection.strip() or None,
                    severity=None if severity == ANY else severity,
                ),
                "alerts.silence_added",
            )


def maintenance(t: Callable[..., str], rt: Runtime, actor: Actor) -> None:
    """Maintenance windows of connections; forms for one-off and weekly windows (dbas)."""
    found = svc.list_maintenance(rt, actor)
    if not found:
        st.caption(t("alerts.no_windows"))
    for w in found:
        cols = st.columns([5, 1])
        if w.recurring:
            on = ", ".join(DAYS[d] for d in w.days) or t("alerts.every_day")
            when = plain(f"{on} {w.start_time} {w.tz} +{w.duration_minutes} min")
        else:
            lang = state.language()
            when = plain(f"{moment(w.starts_at, lang, UTC)} → {moment(w.ends_at, lang, UTC)} UTC")
        active = ""
        if w.active:
            active = " · " + t("alerts.open_now")
        cols[0].markdown(
            f"**#{int(w.id)}** {plain(w.connection)} · {when}{active} · {plain(w.reason)}"
        )
        if actor.at_least("dba") and cols[1].button(t("alerts.remove"), key=f"mw_rm_{w.id}"):
            _run(t, partial(svc.remove_maintenance, rt, actor, w.id), "alerts.removed")
            st.rerun()
    if not actor.at_least("dba"):
        return
    with st.form("alert_window_form", clear_on_submit=True):
        st.markdown(t("alerts.add_window"))
        left, right = st.columns(2)
        connection = left.text_input(t("alerts.col.connection"), key="mw_conn")
        weekly = right.checkbox(t("alerts.weekly"), key="mw_weekly")
        start_day = left.date_input(
            t("alerts.start_day"), key="mw_day", format=date_input_format(state.language())
        )
        start_time = right.time_input(t("alerts.start_time"), key="mw_time")
        minutes = left.number_input(t("alerts.minutes"), 1, 10080, 60, key="mw_minutes")
        days: list[int] = right.multiselect(
            t("alerts.days"),
            list(DAYS),
            format_func=lambda d: DAYS[d],
            key="mw_days",
            placeholder=t("common.choose_many"),
        )
        tz = left.text_input(t("alerts.tz"), "UTC", key="mw_tz")
        reason = right.text_input(t("alerts.reason"), key="mw_reason")
        if st.form_submit_button(t("alerts.add")):
            start = datetime.combine(start_day, start_time, tzinfo=UTC)
            _run(
                t,
                lambda: svc.add_maintenance(
                    rt,
                    actor,
                    connection.strip(),
                    reason=reason,
                    starts_at=None if weekly else start,
                    ends_at=None if weekly else start + timedelta(minutes=int(minutes)),
                    days=list(days) if weekly else None,
                    start_time=start_time if weekly else None,
                    duration_minutes=int(minutes) if weekly else None,
                    tz=tz.strip() or "UTC",
                ),
                "alerts.window_added",
            )


def outbox(t: Callable[..., str], rt: Runtime, actor: Actor) -> None:
    """Recent deliveries: channel, state, attempts, next attempt and last error (admins)."""
    rows = alerts.outbox.rows(rt, actor, limit=200)
    if not rows:
        st.caption(t("alerts.outbox_empty"))
        return
    grid.table(
        [
            {
                t("alerts.col.channel"): r.channel,
                t("alerts.col.kind"): f"{r.channel_kind} / {grid.word(r.kind)}",
                t("alerts.col.state"): r.state,
                t("alerts.col.attempts"): r.attempts,
                t("alerts.col.next"): r.next_attempt_at if r.state == "pending" else None,
                t("alerts.col.error"): said(r.last_error or r.suppressed_by or ""),
                t("alerts.col.started"): r.created_at,
            }
            for r in rows
        ],
        key="alerts_outbox",
        words=(t("alerts.col.state"),),
    )

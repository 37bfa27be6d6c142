"""Alert widgets: firing alerts with acknowledge, history, rules editor and channels.

Rules and channels are admin-only (the services and RLS enforce it; the widgets only hide what a
user cannot do). Each channel has a "send test" button that reports the delivery result. A
channel's URL or key is typed into a password field; a webhook's signing secret is shown once.
Silences, maintenance windows and the outbox are in `alerts_silences`.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from petcare_dba.errors import PetcareError
from petcare_dba.services import alerts
from petcare_dba.services.actor import Actor
from petcare_dba.services.alerts import channels as alert_channels
from petcare_dba.services.runtime import Runtime
from petcare_dba.ui import state
from petcare_dba.ui.components import grid
from petcare_dba.ui.components.errors import said, show_error
from petcare_dba.ui.components.format import moment
from petcare_dba.ui.components.text import plain

SEVERITY_ICONS = {True: ":red[:material/error:]", False: ":orange[:material/warning:]"}
DELIVERY_ICONS = {None: "", True: ":green[:material/check:]", False: ":red[:material/close:]"}
CHANNEL_KINDS = ["webhook", "slack", "teams", "discord", "pagerduty"]


def firing(t: Callable[..., str], rt: Runtime, actor: Actor, events: list[alerts.Event]) -> None:
    """Firing alerts, each with an acknowledge button for dbas."""
    if not events:
        st.success(t("alerts.all_clear"), icon=":material/check_circle:")
        return
    for e in events:
        with st.container(border=True):
            # Rule names, connection names and messages carry outside text (U3).
            st.markdown(
                f"{SEVERITY_ICONS[e.severity == 'critical']} **{plain(e.rule)}** · "
                f"{plain(e.connection) if e.connection else t('alerts.app')} · {plain(e.message)}"
            )
            note = t("alerts.since", at=moment(e.started_at, state.language(), state.timezone()))
            if e.flapping:
                note += " · " + t("alerts.flapping")
            if e.acknowledged_by:
                note += " · " + t("alerts.acked_by", user=e.acknowledged_by)
            st.caption(plain(note))
            if (
                actor.at_least("dba")
                and not e.acknowledged_by
                and st.button(t("alerts.ack"), key=f"alert_ack_{e.id}")
            ):
                try:
                    alerts.acknowledge(rt, actor, e.id)
                    st.rerun()
                except PetcareError as exc:
                    show_error(exc)


def history(t: Callable[..., str], events: list[alerts.Event]) -> None:
    """The alert history as a table."""
    grid.table(
        [
            {
                t("alerts.col.state"): e.state,
                t("alerts.col.severity"): e.severity,
                t("alerts.col.rule"): e.rule,
                t("alerts.col.connection"): e.connection or t("alerts.app"),
                t("alerts.col.value"): e.value,
                t("alerts.col.started"): e.started_at,
                t("alerts.col.resolved"): e.resolved_at,
                t("alerts.col.acked"): e.acknowledged_by,
            }
            for e in events
        ],
        key="alerts_history",
        words=(t("alerts.col.state"), t("alerts.col.severity")),
    )


def _described(t: Callable[..., str], name: str, stored: str) -> str:
    """A built-in rule's description in the user's language; a rule an admin added keeps its own
    text (the catalogue names the built-in rules only)."""
    key = f"alerts.rule_help.{name}"
    text = t(key)
    return stored if text == key else text


def rules(t: Callable[..., str], rt: Runtime, actor: Actor) -> None:
    """The rules table; admins edit threshold, duration, severity and enabled."""
    found = alerts.list_rules(rt, actor)
    grid.table(
        [
            {
                **{
                    k: getattr(r, k)
                    for k in (
                        "name",
                        "metric",
                        "comparator",
                        "threshold",
                        "duration_s",
                        "severity",
                        "scope",
                        "enabled",
                    )
                },
                "description": _described(t, r.name, r.description),
            }
            for r in found
        ],
        key="alerts_rules",
    )
    if not actor.at_least("admin") or not found:
        return
    with st.form("alert_rule_form"):
        names = [r.name for r in found]
        name = st.selectbox(t("alerts.rule"), names, key="alert_rule_name")
        rule = found[names.index(name)]
        cols = st.columns(4)
        threshold = cols[0].number_input(t("alerts.threshold"), value=float(rule.threshold))
        duration = cols[1].number_input(t("alerts.duration"), value=rule.duration_s, min_value=0)
        severity = cols[2].selectbox(
            t("alerts.severity"),
            list(alerts.SEVERITIES),
            index=alerts.SEVERITIES.index(rule.severity),
            format_func=grid.word,
        )
        enabled = cols[3].checkbox(t("alerts.enabled"), value=rule.enabled)
        if st.form_submit_button(t("alerts.save_rule")):
            try:
                alerts.update_rule(
                    rt,
                    actor,
                    name,
                    threshold=threshold,
                    duration_s=int(duration),
                    severity=severity,
                    enabled=enabled,
                )
                st.success(t("alerts.rule_saved", name=plain(name)))
            except PetcareError as exc:
                show_error(exc)


def channels(t: Callable[..., str], rt: Runtime, actor: Actor) -> None:
    """Channels with last delivery and "send test"; forms to add webhook and e-mail channels."""
    for ch in alert_channels.list_channels(rt, actor):
        cols = st.columns([3, 1, 1])
        cols[0].markdown(
            f"**{plain(ch.name)}** ({plain(ch.kind)}) {DELIVERY_ICONS[ch.last_delivery_ok]} "
            f"{plain(said(ch.last_delivery_error or ''))}"
        )
        if cols[1].button(t("alerts.send_test"), key=f"alert_test_{ch.name}"):
            result = alert_channels.send_test(rt, actor, ch.name)
            (st.success if result.ok else st.error)(
                t(
                    "alerts.test_ok" if result.ok else "alerts.test_failed",
                    name=plain(ch.name),
                    error=plain(result.error or ""),
                )
            )
        if cols[2].button(t("alerts.remove"), key=f"alert_rm_{ch.name}"):
            alert_channels.remove(rt, actor, ch.name)
            st.rerun()
    with st.form("alert_channel_form", clear_on_submit=True):
        st.markdown(t("alerts.add_channel"))
        left, right = st.columns(2)
        kind = left.selectbox(t("alerts.kind"), CHANNEL_KINDS, key="chan_kind")
        name = right.text_input(t("alerts.channel_name"), key="chan_name")
        secret = st.text_input(t("alerts.channel_secret"), key="chan_secret", type="password")
        region = left.selectbox(t("alerts.pd_region"), ["us", "eu"], key="chan_region")
        if st.form_submit_button(t("alerts.add")):
            _add_channel(t, rt, actor, kind, name, secret.strip(), region)
    with st.form("alert_email_form", clear_on_submit=True):
        st.markdown(t("alerts.add_email"))
        left, right = st.columns(2)
        name = left.text_input(t("alerts.channel_name"), key="mail_name")
        host = right.text_input(t("alerts.smtp_host"), key="mail_host")
        port = left.number_input(t("alerts.smtp_port"), value=25, key="mail_port")
        sender = right.text_input(t("alerts.sender"), key="mail_from")
        to = st.text_input(t("alerts.recipients"), key="mail_to")
        starttls = left.checkbox("STARTTLS", key="mail_tls")
        username = right.text_input(t("alerts.smtp_user"), key="mail_user")
        password = st.text_input(t("alerts.smtp_password"), key="mail_pw", type="password")
        if st.form_submit_button(t("alerts.add")):
            _add(
                t,
                lambda: alert_channels.add_email(
                    rt,
                    actor,
                    name,
                    host=host,
                    port=int(port),
                    sender=sender,
                    recipients=[r.strip() for r in to.split(",") if r.strip()],
                    starttls=starttls,
                    username=username,
                    password=password,
                ),
            )


def _add_channel(
    t: Callable[..., str], rt: Runtime, actor: Actor, kind: str, name: str, secret: str, region: str
) -> None:
    try:
        if kind == "webhook":
            key = alert_channels.add_webhook(rt, actor, name, secret)
            st.success(t("alerts.channel_added"))
            st.warning(t("alerts.signing_secret"), icon=":material/key:")
            st.code(key, language=None)  # shown once; the receiver verifies with it
        elif kind == "pagerduty":
            alert_channels.add_pagerduty(rt, actor, name, secret, region=region)
            st.success(t("alerts.channel_added"))
        else:
            alert_channels.add_service(rt, actor, name, kind, secret)
            st.success(t("alerts.channel_added"))
    except PetcareError as exc:
        show_error(exc)


def _add(t: Callable[..., str], action: Callable[[], int]) -> None:
    try:
        action()
        st.success(t("alerts.channel_added"))
    except PetcareError as exc:
        show_error(exc)

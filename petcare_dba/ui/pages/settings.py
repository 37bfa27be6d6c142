"""Settings (admins): what may change at run time (edit, reset), every setting with its value
(secrets as set/unset), where it came from and its help in the user's language, health (each
component's detail in the language) and the background jobs."""

from __future__ import annotations

import streamlit as st

from petcare_dba.services.monitoring import health
from petcare_dba.settings import setting
from petcare_dba.ui import i18n, state
from petcare_dba.ui.components import grid, settings_editor
from petcare_dba.ui.components.health import detail

t = state.t
actor = state.require_actor()
rt = state.runtime()
st.title(t("settings.title"))
settings_editor.render(rt, actor)
st.subheader(t("settings.all"))
st.caption(t("settings.caption"))
# One type per column: the values are str, int, float and bool mixed, which Arrow cannot put in
# one column (Streamlit then logged a traceback on every visit and fell back).


def _value(name: str, value: object) -> str:
    """A setting's value as text: set/unset (a secret) and yes/no (a flag) in the language."""
    decl = setting(name)
    return grid.word(str(value)) if decl.secret or decl.type is bool else str(value)


grid.table(
    [
        {
            "name": r["name"],
            "value": _value(r["name"], r["value"]),
            "source": settings_editor.source(r["source"]),
            "env": r["env"],
            "description": t(i18n.help_key(r["name"])),
        }
        for r in rt.settings.describe()
    ],
    key="settings_all",
    column_config={"description": st.column_config.TextColumn(width="large")},
)
st.subheader(t("settings.health"))
report = health.check(rt, actor)
grid.table(
    [
        {"component": c.name, "ok": c.ok, "required": c.required, "detail": detail(c)}
        for c in report.components
    ],
    key="settings_health",
)
st.subheader(t("settings.jobs"))
st.caption(t("settings.jobs_caption"))
jobs_part = next((c for c in report.components if c.name == "jobs"), None)
grid.table(
    [
        {
            "job": j["name"],
            "leader": j["leader"] or "",
            "last_started": j["last_started"] or "",
            "last_finished": j["last_finished"] or "",
            "ok": j["last_ok"],  # a checkbox (empty while the job never finished)
            "lag_s": float(j["lag_s"]),
            "interval_s": float(j["interval_s"]),
            "last_error": i18n.said(state.language(), j["last_error"] or ""),
        }
        for j in (jobs_part.data.get("jobs", []) if jobs_part else [])
    ],
    key="settings_jobs",
)

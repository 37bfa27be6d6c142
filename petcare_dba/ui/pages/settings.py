"""Settings (admins): what may change at run time (edit, reset), every setting with its value
(secrets as set/unset) and where it came from, health and the background jobs."""

from __future__ import annotations

import streamlit as st

from petcare_dba.services.monitoring import health
from petcare_dba.ui import state
from petcare_dba.ui.components import grid, settings_editor

t = state.t
actor = state.require_actor()
rt = state.runtime()
st.title(t("settings.title"))
settings_editor.render(rt, actor)
st.subheader(t("settings.all"))
st.caption(t("settings.caption"))
# One type per column: the values are str, int, float and bool mixed, which Arrow cannot put in
# one column (Streamlit then logged a traceback on every visit and fell back).
grid.table(
    [
        {"name": r["name"], "value": str(r["value"]), "source": r["source"], "env": r["env"]}
        for r in rt.settings.describe()
    ],
    key="settings_all",
)
st.subheader(t("settings.health"))
report = health.check(rt, actor)
grid.table(
    [
        {"component": c.name, "ok": c.ok, "required": c.required, "detail": c.detail}
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
            "ok": "" if j["last_ok"] is None else str(j["last_ok"]),
            "lag_s": float(j["lag_s"]),
            "interval_s": float(j["interval_s"]),
            "last_error": j["last_error"] or "",
        }
        for j in (jobs_part.data.get("jobs", []) if jobs_part else [])
    ],
    key="settings_jobs",
)

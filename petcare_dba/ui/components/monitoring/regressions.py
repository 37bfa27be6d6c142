"""The Regressions view of Monitoring: statements whose mean time rose past their own baseline.

Each regression (firing first, then recently resolved) shows the before/after mean and calls and
the generic plan taken when it fired. The statement text and the plan come from
pg_stat_statements and the target's planner (any database user wrote the statement): they are
drawn with `text.plain` (one escaped line) and `text.block` (code, never Markdown or HTML).
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from petcare_dba.errors import PetcareError
from petcare_dba.services.actor import Actor
from petcare_dba.services.monitoring import regressions as service
from petcare_dba.services.runtime import Runtime
from petcare_dba.ui import state
from petcare_dba.ui.components.errors import show_error
from petcare_dba.ui.components.format import decimal
from petcare_dba.ui.components.text import block, plain


def regressions(t: Callable[..., str], rt: Runtime, actor: Actor, conn: str) -> None:
    """Firing and resolved query regressions of the connection, with figures and plans."""
    st.caption(t("monitoring.regressions.help"))
    try:
        found = service.regressions(rt, actor, conn, limit=50)
    except PetcareError as exc:
        show_error(exc)
        return
    if not found:
        st.success(t("monitoring.regressions.none"), icon=":material/check_circle:")
        return
    for r in found:
        with st.container(border=True):
            icon = ":orange[:material/trending_up:]" if r.state == "firing" else ":material/check:"
            ratio = f" · {decimal(r.ratio, state.language())}x" if r.ratio else ""
            st.markdown(
                f"{icon} **{t('monitoring.regressions.' + r.state)}** · "
                f"{plain(t('monitoring.regressions.statement', queryid=r.queryid))}{ratio}"
            )
            before, after = st.columns(2)
            before.metric(
                t("monitoring.regressions.before"),
                f"{r.before_mean_ms:.3f} ms",
                help=t("monitoring.regressions.calls", calls=r.before_calls),
            )
            after.metric(
                t("monitoring.regressions.after"),
                f"{r.after_mean_ms:.3f} ms",
                help=t("monitoring.regressions.calls", calls=r.after_calls),
            )
            block(r.query, language="sql")
            st.caption(plain(r.plan_note))
            if r.plan:
                block(r.plan)

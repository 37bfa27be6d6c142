"""Every page of the app, its section, title key, icon and the least role that sees it.

The router builds `st.navigation` from this list and the AppTest smoke test walks it, so a page
that is registered is also tested.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PageSpec:
    file: str
    section: str
    title: str
    icon: str
    min_role: str = "viewer"


PAGES: tuple[PageSpec, ...] = (
    PageSpec(
        "pages/dashboard.py", "nav.section.overview", "nav.dashboard", ":material/monitoring:"
    ),
    PageSpec("pages/sql_editor.py", "nav.section.sql", "nav.sql_editor", ":material/code:"),
    PageSpec("pages/history.py", "nav.section.sql", "nav.history", ":material/history:"),
    PageSpec("pages/projects.py", "nav.section.sql", "nav.projects", ":material/folder:"),
    PageSpec("pages/explorer.py", "nav.section.data", "nav.explorer", ":material/table:"),
    PageSpec("pages/backups.py", "nav.section.data", "nav.backups", ":material/backup:", "dba"),
    PageSpec("pages/monitoring.py", "nav.section.health", "nav.monitoring", ":material/speed:"),
    PageSpec("pages/advisor.py", "nav.section.health", "nav.advisor", ":material/rule:"),
    PageSpec("pages/alerts.py", "nav.section.health", "nav.alerts", ":material/notifications:"),
    PageSpec("pages/schedules.py", "nav.section.health", "nav.schedules", ":material/schedule:"),
    PageSpec("pages/assistant.py", "nav.section.ai", "nav.assistant", ":material/smart_toy:"),
    PageSpec("pages/tokens.py", "nav.section.ai", "nav.tokens", ":material/key:"),
    PageSpec("pages/audit.py", "nav.section.admin", "nav.audit", ":material/policy:"),
    PageSpec("pages/users.py", "nav.section.admin", "nav.users", ":material/group:", "admin"),
    PageSpec("pages/connections.py", "nav.section.admin", "nav.connections", ":material/lan:"),
    PageSpec(
        "pages/settings.py", "nav.section.admin", "nav.settings", ":material/settings:", "admin"
    ),
)

"""Messages of the SQL editor's tabs: names, how many, whose."""

from __future__ import annotations

TEMPLATES = {
    "msg.editor.tab_name": "a tab needs a name",
    "msg.editor.tab_name.hint": "type a short name",
    "msg.editor.tab_name_long": "a tab name takes at most {n} characters (got {got})",
    "msg.editor.tab_name_long.hint": "shorten the name",
    "msg.editor.tab_control": "a tab name cannot hold control characters",
    "msg.editor.tab_surrogate": "a tab name cannot hold a lone surrogate character",
    "msg.editor.tabs_limit": "at most {n} editor tabs per user",
    "msg.editor.tabs_limit.hint": "close a tab you no longer need",
    "msg.editor.no_tab": "no editor tab {id} of yours",
}

"""The SQL editor's tabs: several named SQL texts per user, kept in the metadata store.

A tab holds a name, its SQL text and the connection it was last used with, so that the editor
reopens every tab after a browser reload, a logout or on another app instance
(`petcare.editor_tabs`, migration 0031). Each user sees only their own tabs: every statement
names the current user and row level security (ENABLE + FORCE) refuses the rest, so a tab id
forged by a caller matches nothing and raises NotFound. Limits: `MAX_TABS` tabs per user, a
name of `MAX_NAME` characters, and the text goes through the house's one SQL text check
(`intake.check`, setting max_sql_bytes) before it is stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from petcare_dba.errors import NotFound, QuotaExceeded, ValidationError
from petcare_dba.messages import say
from petcare_dba.services import intake
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime

MAX_TABS = 12  # per user: a handful of scratch pads, not a script store (projects are that)
MAX_NAME = 60


@dataclass(frozen=True)
class Tab:
    """One editor tab as stored."""

    id: int
    name: str
    content: str
    connection: str | None  # None when the connection is gone or no longer shared
    position: int
    updated_at: datetime
    selected_at: datetime


def _name(name: str) -> str:
    clean = " ".join(name.split())
    if not clean:
        raise ValidationError(say("msg.editor.tab_name"), hint=say("msg.editor.tab_name.hint"))
    if len(clean) > MAX_NAME:
        raise ValidationError(
            say("msg.editor.tab_name_long", n=MAX_NAME, got=len(clean)),
            hint=say("msg.editor.tab_name_long.hint"),
        )
    if any(ord(c) < 32 or c == "\x7f" for c in clean):
        raise ValidationError(say("msg.editor.tab_control"))
    try:
        clean.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError(say("msg.editor.tab_surrogate")) from None
    return clean


def list_tabs(rt: Runtime, actor: Actor) -> list[Tab]:
    """The actor's tabs in display order (empty when they have none yet)."""
    with rt.store.tx(actor.identity) as tx:
        rows = tx.all("editor_tabs_list")
    return [Tab(**r) for r in rows]


def open_tab(
    rt: Runtime, actor: Actor, name: str, content: str = "", connection: str | None = None
) -> int:
    """Open a new tab; its id. QuotaExceeded at MAX_TABS, ValidationError for bad text."""
    clean = _name(name)
    intake.check(content, rt.settings, what=say("msg.sql.what.tab"))
    params = {"name": clean, "content": content, "connection": connection, "max_tabs": MAX_TABS}
    with rt.store.tx(actor.identity) as tx:
        row = tx.one("editor_tabs_open", params)
    if row is None:
        raise QuotaExceeded(
            say("msg.editor.tabs_limit", n=MAX_TABS),
            hint=say("msg.editor.tabs_limit.hint"),
        )
    return int(row["id"])


def _one(rt: Runtime, actor: Actor, query: str, params: dict[str, object]) -> None:
    with rt.store.tx(actor.identity) as tx:
        row = tx.one(query, params)
    if row is None:
        # Someone else's tab and a closed one look the same: no hint that the id exists.
        raise NotFound(say("msg.editor.no_tab", id=str(params["id"])))


def save_tab(rt: Runtime, actor: Actor, tab_id: int, content: str, connection: str | None) -> None:
    """Store a tab's text and connection (NotFound for a tab that is not the actor's)."""
    intake.check(content, rt.settings, what=say("msg.sql.what.tab"))
    _one(
        rt,
        actor,
        "editor_tabs_save",
        {"id": int(tab_id), "content": content, "connection": connection},
    )


def rename_tab(rt: Runtime, actor: Actor, tab_id: int, name: str) -> None:
    """Rename one of the actor's tabs."""
    _one(rt, actor, "editor_tabs_rename", {"id": int(tab_id), "name": _name(name)})


def select_tab(rt: Runtime, actor: Actor, tab_id: int) -> None:
    """Remember the tab the actor looks at, so that a reload reopens it."""
    _one(rt, actor, "editor_tabs_select", {"id": int(tab_id)})


def close_tab(rt: Runtime, actor: Actor, tab_id: int) -> None:
    """Close (delete) one of the actor's tabs."""
    _one(rt, actor, "editor_tabs_close", {"id": int(tab_id)})


def selected(tabs: list[Tab]) -> Tab | None:
    """The tab looked at last (ties: the first), or None without tabs."""
    return max(tabs, key=lambda t: (t.selected_at, -t.position), default=None)

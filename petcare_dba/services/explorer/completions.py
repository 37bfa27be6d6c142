"""Autocomplete words for the SQL editor: schemas, tables, views and columns of a connection.

One catalog query (sql/editor.sql `editor_completions`) in a READ ONLY transaction, turned into
the entries Ace's completer takes (caption, value, meta, score). Tables score above columns so a
name typed after FROM finds the relation first.
"""

from __future__ import annotations

from dataclasses import dataclass

from petcare_dba.db import target
from petcare_dba.services import connections
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime

MAX_ROWS = 20_000
_KINDS = {"r": "table", "p": "table", "v": "view", "m": "matview", "f": "foreign table"}


@dataclass(frozen=True)
class Completion:
    caption: str
    value: str
    meta: str
    score: int

    def as_ace(self) -> dict[str, object]:
        return {
            "caption": self.caption,
            "value": self.value,
            "meta": self.meta,
            "score": self.score,
        }


def completions(rt: Runtime, actor: Actor, connection_name: str) -> list[Completion]:
    """Schemas, relations (bare and schema-qualified) and columns, deduplicated, ordered."""
    # Viewers complete as the least-privilege credential (issue 12, Q3).
    viewer = actor.role == "viewer"
    with connections.held(rt, actor, connection_name, read_path=viewer) as url:
        rows = target.read(
            url,
            target.application_name(actor.username, actor.session_id),
            "editor_completions",
            {"limit": MAX_ROWS},
            connect_timeout=rt.settings.connect_timeout_s,
        )
    seen: dict[tuple[str, str], Completion] = {}

    def add(value: str, meta: str, score: int, caption: str | None = None) -> None:
        key = (value, meta)
        if key not in seen:
            seen[key] = Completion(caption or value, value, meta, score)

    for r in rows:
        kind = _KINDS.get(r["kind"], "relation")
        add(r["schema"], "schema", 900)
        add(r["relation"], kind, 800)
        add(f"{r['schema']}.{r['relation']}", kind, 700)
        if r["column"]:
            add(
                r["column"], f"{r['relation']}.{r['type']}", 600, f"{r['column']} ({r['relation']})"
            )
    return list(seen.values())

"""Inline editing of a table's rows: grid edits run as UPDATE/INSERT/DELETE via the engine.

The explorer's grid hands over what the user changed (`changes_from` turns Streamlit's
data-editor state into `RowChange`s); `plan` checks that the edit may happen at all — a role that
may write (analyst and above), a connection that is not read-only, a plain or partitioned table
(no view), a primary key to find each row by — against the catalog it reads itself, so a forged
call is refused by this service and audited ('table.edit', refused), not only hidden by the page.
It composes one statement per row in `db.target.edit` (quoted identifiers, values as literals)
for the user to read. `apply` plans again from the same changes and sends the script through
`engine.run` in one transaction: the engine classifies, decides, runs and audits each statement
like any other; `cancel` records a declined edit as 'cancelled' (`engine.decline`). An UPDATE
carries the original text of the columns it changes, so a row someone else changed since it was
read matches nothing; `apply` reports those rows as conflicts (their edit was not applied).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from petcare_dba.db.target import edit as composer
from petcare_dba.errors import Refused, ValidationError
from petcare_dba.messages import say
from petcare_dba.services import connections, explorer
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import audit
from petcare_dba.services.sql import engine
from petcare_dba.services.sql.execute import RunResult

ACTION = "table.edit"
EDITABLE_KINDS = ("table", "partitioned table")
KINDS = ("update", "insert", "delete")

Row = dict[str, str | None]


@dataclass(frozen=True)
class RowChange:
    """One row's edit: `key` is its primary key as read; `values` the new text per column
    (the changed columns of an update, the given columns of an insert); `original` the changed
    columns' text as read (the optimistic check)."""

    kind: str
    key: Row = field(default_factory=dict)
    values: Row = field(default_factory=dict)
    original: Row = field(default_factory=dict)


@dataclass(frozen=True)
class EditPlan:
    """The statements of one edit, one per change, in order."""

    connection: str
    schema: str
    name: str
    changes: tuple[RowChange, ...]
    statements: tuple[str, ...]

    @property
    def sql(self) -> str:
        return "".join(s + ";\n" for s in self.statements)


@dataclass(frozen=True)
class EditOutcome:
    """What an applied edit did: the engine's result and the changes that matched no row."""

    result: RunResult
    applied: int
    conflicts: tuple[RowChange, ...]


def primary_key(detail: explorer.TableDetail) -> list[str]:
    """The primary key's columns in key order (empty when the table has none)."""
    keyed = [c for c in detail.columns if c.get("pk_position")]
    return [str(c["name"]) for c in sorted(keyed, key=lambda c: int(c["pk_position"]))]


def _role_reason(actor: Actor, read_only_connection: bool) -> str | None:
    if not actor.at_least("analyst"):
        return say("msg.edit.role", role=actor.role)
    if read_only_connection:
        return say("msg.edit.read_only")
    return None


def blocked(actor: Actor, read_only_connection: bool, detail: explorer.TableDetail) -> str | None:
    """Why this actor may not edit this relation's rows here, or None when they may."""
    reason = _role_reason(actor, read_only_connection)
    if reason is not None:
        return reason
    if detail.kind not in EDITABLE_KINDS:
        return say("msg.edit.not_table", name=f"{detail.schema}.{detail.name}", kind=detail.kind)
    if not primary_key(detail):
        return say("msg.edit.no_key", name=f"{detail.schema}.{detail.name}")
    return None


def editable(
    rt: Runtime, actor: Actor, connection_name: str, detail: explorer.TableDetail
) -> str | None:
    """`blocked` for a connection by name (the page shows the reason beside a disabled editor)."""
    return blocked(actor, connections.for_run(rt, actor, connection_name).read_only, detail)


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return value if isinstance(value, str) else str(value)


def changes_from(
    rows: Sequence[Mapping[str, str | None]],
    key: Sequence[str],
    state: Mapping[str, Any],
) -> list[RowChange]:
    """RowChanges from a data editor's state over `rows` (the page's rows, as read).

    `state` is Streamlit's `{"edited_rows": {pos: {col: value}}, "added_rows": [{col: value}],
    "deleted_rows": [pos]}`; deletions first, then updates, then inserts.
    """
    out: list[RowChange] = []
    for pos in sorted(int(p) for p in state.get("deleted_rows", [])):
        out.append(RowChange("delete", key={k: rows[pos][k] for k in key}))
    for pos, edited in sorted((int(p), e) for p, e in state.get("edited_rows", {}).items()):
        row = rows[pos]
        values = {c: _text(v) for c, v in edited.items() if _text(v) != row.get(c)}
        if values:
            original = {c: row.get(c) for c in values}
            out.append(RowChange("update", {k: row[k] for k in key}, values, original))
    for added in state.get("added_rows", []):
        values = {c: _text(v) for c, v in added.items() if _text(v) is not None}
        out.append(RowChange("insert", values=values))
    return out


def _refuse(rt: Runtime, actor: Actor, connection_name: str, what: str, reason: str) -> Refused:
    audit.record(
        rt.store,
        actor,
        ACTION,
        "refused",
        target=f"{connection_name}:{what}",
        detail={"message": reason},
    )
    return Refused(say("msg.edit.refused", reason=reason))


def _statement(schema: str, name: str, change: RowChange) -> str:
    if change.kind == "update":
        return composer.update(schema, name, change.key, change.values, change.original)
    if change.kind == "insert":
        return composer.insert(schema, name, change.values)
    return composer.delete(schema, name, change.key)


def _check(detail: explorer.TableDetail, key: list[str], change: RowChange) -> None:
    if change.kind not in KINDS:
        raise ValidationError(
            say("msg.edit.unknown_change", kind=repr(change.kind)), hint=", ".join(KINDS)
        )
    columns = {str(c["name"]): c for c in detail.columns}
    named = [*change.key, *change.values, *change.original]
    unknown = [c for c in named if c not in columns]
    if unknown:
        name = f"{detail.schema}.{detail.name}"
        raise ValidationError(say("msg.edit.no_column", name=name, column=repr(unknown[0])))
    generated = [c for c in change.values if columns[c].get("generated")]
    if generated:
        raise ValidationError(say("msg.edit.generated", column=repr(generated[0])))
    if change.kind != "insert" and sorted(change.key) != sorted(key):
        raise ValidationError(say("msg.edit.whole_key"))
    if change.kind != "insert" and any(change.key[k] is None for k in key):
        raise ValidationError(say("msg.edit.null_key"))
    if change.kind == "update" and (
        not change.values or set(change.original) != set(change.values)
    ):
        raise ValidationError(say("msg.edit.update_originals"))


def plan(
    rt: Runtime,
    actor: Actor,
    connection_name: str,
    schema: str,
    name: str,
    changes: Sequence[RowChange],
) -> EditPlan:
    """Check the edit against the catalog and compose its statements (nothing runs)."""
    what = f"{schema}.{name}"
    info = connections.for_run(rt, actor, connection_name)
    reason = _role_reason(actor, info.read_only)
    if reason is not None:  # before any catalog read: a forged call learns nothing more
        raise _refuse(rt, actor, connection_name, what, reason)
    detail = explorer.describe(rt, actor, connection_name, schema, name)
    reason = blocked(actor, info.read_only, detail)
    if reason is not None:
        raise _refuse(rt, actor, connection_name, what, reason)
    if not changes:
        raise ValidationError(say("msg.edit.nothing"))
    key = primary_key(detail)
    for change in changes:
        _check(detail, key, change)
    statements = tuple(_statement(schema, name, c) for c in changes)
    return EditPlan(connection_name, schema, name, tuple(changes), statements)


def apply(rt: Runtime, actor: Actor, edit: EditPlan) -> EditOutcome:
    """Run a confirmed edit through the engine in one transaction.

    The statements are composed again from the changes (what the caller holds is not trusted);
    an execution error rolls every statement back and is raised.
    """
    fresh = plan(rt, actor, edit.connection, edit.schema, edit.name, edit.changes)
    result = engine.run(rt, actor, fresh.connection, fresh.sql, mode="transaction", confirmed=True)
    if result.error is not None:
        raise result.error
    conflicts = tuple(
        fresh.changes[q.statement_index]
        for q in result.results
        if fresh.changes[q.statement_index].kind != "insert" and q.row_count == 0
    )
    return EditOutcome(result, len(fresh.changes) - len(conflicts), conflicts)


def cancel(rt: Runtime, actor: Actor, edit: EditPlan) -> None:
    """Record that the user declined the edit's confirmation ('cancelled' in history and audit)."""
    engine.decline(rt, actor, edit.connection, edit.sql, say("msg.run.edit_cancelled"))

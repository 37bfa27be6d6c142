"""CLI of the explorer and of table backups: `tables`, `describe`, `backup`, `backups`, `restore`.

`petcare-dba tables` lists relations (partitions under their parent) from one constant-cost
catalog read; `describe TABLE` prints columns, constraints, indexes and the generated DDL (or
everything as JSON). `backup TABLE` streams the table into the backup store with a progress line
on stderr (`backup --database`: the whole database by pg_dump); `backups list|verify|prune`
manage the catalogue; `restore ID` loads a backup into a new table, or over the original with
`--replace` (asks for the table name unless `--yes`), and a whole-database backup into a new
database with `--into-database NEW`. The same services, role checks and audit as the UI.
Register with `explorer.register(app)`."""

from __future__ import annotations

import sys
from typing import Any

import typer

from petcare_dba.cli.common import actor, emit, emit_json, one_of, runtime
from petcare_dba.errors import NeedsConfirmation, ValidationError
from petcare_dba.services import backups, explorer

AS = typer.Option(None, "--as", help="Act as this user (default: the first admin).")
CONN = typer.Option("demo", "--connection", "-c", help="Stored connection name.")
backups_app = typer.Typer(no_args_is_help=True, help="The catalogue of table backups.")


def _fmt(fmt: str, allowed: tuple[str, ...]) -> None:
    if fmt not in allowed:
        raise ValidationError(f"--format must be {' or '.join(allowed)}, not {fmt!r}")


def _progress(done: int, total: int) -> None:
    if sys.stderr.isatty():
        pct = f" ({min(100, 100 * done // total)}%)" if total else ""
        typer.echo(f"\r{done / 1048576:,.1f} MiB{pct}", err=True, nl=False)


def tables_cmd(
    connection: str = CONN,
    schema: str | None = typer.Option(None, "--schema", "-s", help="Only this schema."),
    fmt: str = typer.Option(
        "table", "--format", help="table or json", callback=one_of("table", "json")
    ),
    refresh: bool = typer.Option(False, "--refresh", help="Read the catalog again."),
    as_user: str | None = AS,
) -> None:
    """List tables, views, sequences ... with estimated rows and sizes (partitions indented)."""
    _fmt(fmt, ("table", "json"))
    with runtime() as rt:
        cat = explorer.discover(rt, actor(rt, as_user), connection, refresh=refresh)
    listed: list[tuple[int, explorer.Relation]] = []
    for rel in cat.top_level(schema):
        _walk(cat, rel, 0, listed)
    rows = [_row(rel) for _, rel in listed]
    if fmt == "table":  # the glyph is drawing only: JSON keeps the plain name and `partition`
        rows = [
            {k: v for k, v in r.items() if k != "partitions"}
            | {"name": ("  " * depth + "└ " if depth else "") + r["name"]}
            for (depth, _), r in zip(listed, rows, strict=True)
        ]
    emit(rows, fmt)
    if fmt == "table":
        typer.echo(
            f"({len(cat.relations)} relations, {cat.round_trips} round trips, "
            f"{cat.elapsed_ms:.0f} ms)",
            err=True,
        )


def _walk(cat: explorer.Catalog, rel: explorer.Relation, depth: int, out: list[Any]) -> None:
    """The relation, then its partitions under it, sub-partitions under those."""
    out.append((depth, rel))
    for child in rel.partitions:
        part = cat.get(*child.split(".", 1))
        if part is not None:
            _walk(cat, part, depth + 1, out)


def _row(rel: explorer.Relation) -> dict[str, Any]:
    return {
        "schema": rel.schema,
        "name": rel.name,
        "kind": rel.kind,
        "parent": rel.parent,
        "partition": rel.parent is not None,  # a partition of `parent`
        "partitions": list(rel.partitions),  # a partitioned table's own partitions
        "estimated_rows": rel.estimated_rows,
        "total_bytes": rel.total_bytes,
        "owner": rel.owner,
        "rls": rel.rls_enabled,
        "last_vacuum": rel.last_vacuum,
        "last_analyze": rel.last_analyze,
        "comment": rel.comment,
    }


def describe_cmd(
    table: str = typer.Argument(..., help="schema.table (or table in public)."),
    connection: str = CONN,
    fmt: str = typer.Option(
        "table", "--format", help="table, json or ddl", callback=one_of("table", "json", "ddl")
    ),
    as_user: str | None = AS,
) -> None:
    """Columns, constraints, indexes, triggers, policies, grants and DDL of one table."""
    _fmt(fmt, ("table", "json", "ddl"))
    schema, name = explorer.split_name(table)
    with runtime() as rt:
        d = explorer.describe(rt, actor(rt, as_user), connection, schema, name)
    if fmt == "json":
        emit_json(d)
        return
    if fmt == "ddl":
        typer.echo(d.ddl)
        return
    typer.echo(f"{d.kind} {d.head['qualified']} (owner {d.head['owner']})")
    cols = ("name", "type", "not_null", "default", "comment")
    emit([{k: c[k] for k in cols} for c in d.columns], "table")
    for title, items, keys in (
        ("constraints", d.constraints, ("name", "definition")),
        ("indexes", d.indexes, ("name", "bytes", "scans", "valid", "definition")),
        ("triggers", d.triggers, ("name", "definition")),
        ("policies", d.policies, ("name", "command", "using_expr", "check_expr")),
        ("foreign keys", d.foreign_keys, ("from_table", "to_table", "name")),
    ):
        if items:
            typer.echo(f"\n{title}:")
            emit([{k: i[k] for k in keys} for i in items], "table")
    typer.echo("\n" + d.ddl)


def backup_cmd(
    table: str | None = typer.Argument(None, help="schema.table (or table in public)."),
    connection: str = CONN,
    whole: bool = typer.Option(
        False, "--database", help="Back up the connection's whole database (pg_dump -Fc)."
    ),
    fmt: str = typer.Option(
        "table", "--format", help="table or json", callback=one_of("table", "json")
    ),
    as_user: str | None = AS,
) -> None:
    """Back up one table (DDL + binary COPY + manifest), or with --database the whole database."""
    _fmt(fmt, ("table", "json"))
    if whole == bool(table):
        raise ValidationError("give either a table or --database")
    if whole:
        with runtime() as rt:
            entry = backups.backup_database(rt, actor(rt, as_user), connection, progress=_tables)
        _done(entry, fmt)
        return
    assert table is not None  # noqa: S101 - checked above
    schema, name = explorer.split_name(table)
    with runtime() as rt:
        entry = backups.backup(rt, actor(rt, as_user), connection, schema, name, progress=_progress)
        folder = (
            backups.store_dir(rt.settings) / str(entry.path)
            if entry.storage == "local"
            else f"{entry.storage}/{(entry.objects or {}).get('manifest.json', {}).get('key', '')}"
        )
    if sys.stderr.isatty():
        typer.echo("", err=True)
    if fmt == "json":
        emit_json({**_entry(entry), "directory": str(folder)})
    else:
        typer.echo(
            f"backup {entry.id}: {entry.table} {entry.row_count} rows, {entry.byte_size} bytes, "
            f"sha256 {entry.sha256}\n{folder}"
        )
        leaves = [m for m in entry.members or [] if m.get("data_file")]
        if entry.partitioned:
            for m in leaves:
                typer.echo(f"  {m['schema']}.{m['table']}: {m['rows']} rows, sha256 {m['sha256']}")


def _tables(done: int, total: int) -> None:
    if sys.stderr.isatty():
        typer.echo(f"\rtables {done}/{total}", err=True, nl=False)


def _done(entry: backups.BackupEntry, fmt: str) -> None:
    if sys.stderr.isatty():
        typer.echo("", err=True)
    if fmt == "json":
        emit_json(_entry(entry))
        return
    typer.echo(
        f"backup {entry.id}: {entry.table} ({entry.row_count} tables), {entry.byte_size} bytes, "
        f"sha256 {entry.sha256}, in {entry.storage}"
    )


def _entry(b: backups.BackupEntry) -> dict[str, Any]:
    return {
        "id": b.id,
        "kind": b.kind,
        "connection": b.connection_name,
        "table": b.table,
        "status": b.status,
        "rows": b.row_count,
        "bytes": b.byte_size,
        "sha256": b.sha256,
        "created_by": b.created_by_name,
        "created_at": b.created_at,
        "verify_ok": b.verify_ok,
        "storage": b.storage,
        "path": b.path,
        "error": b.error,
        "partitioned": b.partitioned,
        "members": b.members,
    }


@backups_app.command("list")
def backups_list(
    table: str | None = typer.Argument(None, help="Only backups of this table."),
    connection: str | None = typer.Option(None, "--connection", "-c", help="Only this one."),
    fmt: str = typer.Option(
        "table", "--format", help="table or json", callback=one_of("table", "json")
    ),
    as_user: str | None = AS,
) -> None:
    """Backups in the catalogue, newest first."""
    _fmt(fmt, ("table", "json"))
    with runtime() as rt:
        found = backups.list_backups(rt, actor(rt, as_user), connection, table)
    rows = [_entry(b) for b in found]
    cols = ["id", "kind", "connection", "table", "status", "storage", "rows", "bytes"]
    cols.append("created_by")
    cols.append("created_at")
    emit(rows, fmt, None if fmt == "json" else cols)


@backups_app.command("verify")
def backups_verify(
    backup_id: int = typer.Argument(..., help="Backup id."), as_user: str | None = AS
) -> None:
    """Recompute checksum and row count of a backup (exit 1 when they do not match)."""
    with runtime() as rt:
        result = backups.verify(rt, actor(rt, as_user), backup_id)
    if result.ok:
        typer.echo(f"backup {backup_id} ok: {result.rows} rows, sha256 {result.sha256}")
        return
    for problem in result.problems:
        typer.echo(f"error: {problem}", err=True)
    raise typer.Exit(1)


@backups_app.command("prune")
def backups_prune(as_user: str | None = AS) -> None:
    """Delete backups older than backup_retention_days."""
    with runtime() as rt:
        removed = backups.prune(rt, actor(rt, as_user))
    typer.echo(f"{removed} backup(s) removed")


def restore_cmd(
    backup_id: int = typer.Argument(..., help="Backup id."),
    into: str | None = typer.Option(None, "--into", help="New table (default: <t>_restored_<id>)."),
    into_database: str | None = typer.Option(
        None, "--into-database", help="A whole-database backup: the NEW database to create."
    ),
    replace: bool = typer.Option(False, "--replace", help="Replace the original table's rows."),
    yes: bool = typer.Option(False, "--yes", help="Confirm --replace without a prompt."),
    with_indexes: bool = typer.Option(
        False, "--with-indexes", help="Also recreate the plain indexes (new table only)."
    ),
    as_user: str | None = AS,
) -> None:
    """Restore a backup into a new table, or over the original with --replace.

    Into a new table: a partitioned backup comes back whole (partitions renamed NEW_<suffix>),
    with NOT NULL, defaults, primary key, unique and check constraints; foreign keys are not
    recreated (listed in the output).
    """
    if into_database is not None:
        with runtime() as rt:
            backups.restore_database(
                rt, actor(rt, as_user), backup_id, into_database, progress=_tables
            )
        if sys.stderr.isatty():
            typer.echo("", err=True)
        typer.echo(f"restored backup {backup_id} into the new database {into_database}")
        return
    with runtime() as rt:
        who = actor(rt, as_user)
        confirm = None
        if replace:
            entry = backups.get(rt, who, backup_id)
            if yes:
                confirm = entry.table
            elif sys.stdin.isatty():
                confirm = typer.prompt(f"Type {entry.table} to replace its rows")
        try:
            result = backups.restore(
                rt,
                who,
                backup_id,
                into=into,
                replace=replace,
                confirm=confirm,
                with_indexes=with_indexes,
            )
        except NeedsConfirmation as exc:
            typer.echo(f"error: {exc.message}", err=True)
            typer.echo("hint: pass --yes to confirm", err=True)
            raise typer.Exit(exc.exit_code) from exc
    typer.echo(
        f"restored backup {backup_id} into {result.table}: {result.rows} rows"
        + (", checksum verified" if result.verified else "")
    )
    for member in result.members:
        typer.echo(f"partition: {member}")
    for made in result.recreated:
        typer.echo(f"recreated: {made}")
    for skipped in result.not_recreated:
        typer.echo(f"not recreated: {skipped}")
    for moved in result.sequences:
        typer.echo(f"sequence advanced: {moved}")
    for warning in result.warnings:
        typer.echo(f"warning: {warning}", err=True)


def register(app: typer.Typer) -> None:
    """Add the explorer and backup commands to the main app."""
    app.command("tables")(tables_cmd)
    app.command("describe")(describe_cmd)
    app.command("backup")(backup_cmd)
    app.command("restore")(restore_cmd)
    app.add_typer(backups_app, name="backups")

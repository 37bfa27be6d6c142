"""CLI commands for projects and their versioned scripts: `petcare-dba project ...`, `script ...`.

Every command acts as `--as USER` (default: the first admin) through the same services and row
level security as the UI: a user sees and changes only what the database lets them. PROJECT is a
name, or `#id` when names are ambiguous. `script save` reads the SQL from `-f FILE` (- for
stdin); with `--base N` a save on top of a replaced version fails with the diff (exit 1).
`script run` goes through the SQL engine (exit 2 when refused or needing `--yes`). The `script`
group lives in `cli/projects_scripts.py`; register both groups with `projects.register(app)`.
"""

from __future__ import annotations

from pathlib import Path

import typer

from petcare_dba.cli import projects_scripts
from petcare_dba.cli.common import actor, emit, emit_json, emit_table, one_of, runtime
from petcare_dba.errors import ValidationError
from petcare_dba.services import projects
from petcare_dba.services.projects import bundle, scripts

project_app = typer.Typer(no_args_is_help=True, help="SQL projects, members and ownership.")
members_app = typer.Typer(no_args_is_help=True, help="Members of a project and their roles.")

AS = typer.Option(None, "--as", help="Act as this user (default: the first admin).")
FMT = typer.Option("table", "--format", help="table or json", callback=one_of("table", "json"))
PROJECT_COLUMNS = [
    "id",
    "name",
    "status",
    "my_role",
    "owner",
    "scripts",
    "updated_at",
    "updated_by",
]


@project_app.command("list")
def project_list(
    search: str | None = typer.Option(None, "--search", "-s", help="Match name or description."),
    all_projects: bool = typer.Option(False, "--all", help="Every project (admins; audited)."),
    fmt: str = FMT,
    as_user: str | None = AS,
) -> None:
    """List my projects (owner or member)."""
    with runtime() as rt:
        rows = projects.list_projects(rt, actor(rt, as_user), search, all_projects=all_projects)
    emit(rows, fmt, PROJECT_COLUMNS)


@project_app.command("create")
def project_create(
    name: str,
    description: str = typer.Option("", "--description", "-d"),
    as_user: str | None = AS,
) -> None:
    """Create a project; you become its owner."""
    with runtime() as rt:
        project_id = projects.create(rt, actor(rt, as_user), name, description)
    typer.echo(f"project #{project_id} {name} created")


@project_app.command("show")
def project_show(project: str, fmt: str = FMT, as_user: str | None = AS) -> None:
    """A project with its members and scripts."""
    with runtime() as rt:
        who = actor(rt, as_user)
        found = projects.get(rt, who, project)
        people = projects.members(rt, who, found.id)
        items = scripts.list_scripts(rt, who, found.id)
    if fmt == "json":
        emit_json({"project": found, "members": people, "scripts": items})
        return
    typer.echo(f"#{found.id} {found.name} [{found.status}] owner {found.owner}")
    if found.description:
        typer.echo(found.description)
    typer.echo(f"edited by {found.updated_by or '?'} at {found.updated_at:%Y-%m-%d %H:%M}\n")
    emit_table(people, ["username", "role", "added_at", "added_by"])
    typer.echo("")
    emit_table(items, ["name", "current_version", "version_author", "updated_at", "tags"])


@project_app.command("rename")
def project_rename(project: str, new_name: str, as_user: str | None = AS) -> None:
    """Rename a project (owner or admin)."""
    with runtime() as rt:
        projects.rename(rt, actor(rt, as_user), project, new_name)
    typer.echo(f"renamed to {new_name}")


@project_app.command("describe")
def project_describe(project: str, description: str, as_user: str | None = AS) -> None:
    """Set a project's description (owner or admin)."""
    with runtime() as rt:
        projects.describe(rt, actor(rt, as_user), project, description)
    typer.echo("description saved")


@project_app.command("archive")
def project_archive(
    project: str,
    undo: bool = typer.Option(False, "--undo", help="Make it active again."),
    as_user: str | None = AS,
) -> None:
    """Archive a project: its scripts become read-only (owner or admin)."""
    with runtime() as rt:
        projects.archive(rt, actor(rt, as_user), project, not undo)
    typer.echo("active again" if undo else "archived")


@project_app.command("delete")
def project_delete(
    project: str,
    yes: bool = typer.Option(False, "--yes", help="Confirm: scripts and versions go too."),
    as_user: str | None = AS,
) -> None:
    """Delete an archived project with its scripts and versions (owner or admin)."""
    if not yes:
        raise ValidationError("deleting a project removes its scripts and versions: add --yes")
    with runtime() as rt:
        projects.delete(rt, actor(rt, as_user), project)
    typer.echo("deleted")


@project_app.command("transfer")
def project_transfer(project: str, username: str, as_user: str | None = AS) -> None:
    """Hand a project to another user; you stay as an editor."""
    with runtime() as rt:
        projects.transfer(rt, actor(rt, as_user), project, username)
    typer.echo(f"{username} now owns the project")


@project_app.command("export")
def project_export(
    project: str,
    output: Path | None = typer.Option(None, "-o", "--output", help="Zip file to write."),
    as_user: str | None = AS,
) -> None:
    """Export a project as a zip of .sql files with a manifest (every version)."""
    with runtime() as rt:
        filename, data = bundle.export_zip(rt, actor(rt, as_user), project)
    path = output or Path(filename)
    path.write_bytes(data)
    typer.echo(f"wrote {path} ({len(data)} bytes)")


@project_app.command("import")
def project_import(
    file: Path,
    name: str | None = typer.Option(None, "--name", help="Name of the new project."),
    as_user: str | None = AS,
) -> None:
    """Create a project from an exported zip (all or nothing)."""
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise ValidationError(f"cannot read {file}: {exc.strerror}") from exc
    with runtime() as rt:
        result = bundle.import_zip(rt, actor(rt, as_user), data, name)
    typer.echo(
        f"project #{result.project_id} {result.name}: {result.scripts} scripts, "
        f"{result.versions} versions"
    )
    for warning in result.warnings:
        typer.echo(f"warning: {warning}", err=True)


@members_app.command("list")
def members_list(project: str, fmt: str = FMT, as_user: str | None = AS) -> None:
    """Members of a project."""
    with runtime() as rt:
        rows = projects.members(rt, actor(rt, as_user), project)
    emit(rows, fmt, ["username", "role", "added_at", "added_by"])


@members_app.command("add")
def members_add(
    project: str,
    username: str,
    role: str = typer.Option("viewer", "--role", help="editor or viewer"),
    as_user: str | None = AS,
) -> None:
    """Invite an existing user (owner or admin)."""
    with runtime() as rt:
        projects.add_member(rt, actor(rt, as_user), project, username, role)
    typer.echo(f"{username} added as {role}")


@members_app.command("role")
def members_role(project: str, username: str, role: str, as_user: str | None = AS) -> None:
    """Change a member's role to editor or viewer (owner or admin)."""
    with runtime() as rt:
        projects.set_member_role(rt, actor(rt, as_user), project, username, role)
    typer.echo(f"{username} is now {role}")


@members_app.command("remove")
def members_remove(project: str, username: str, as_user: str | None = AS) -> None:
    """Remove a member (owner or admin), or leave (yourself)."""
    with runtime() as rt:
        projects.remove_member(rt, actor(rt, as_user), project, username)
    typer.echo(f"{username} removed")


def register(app: typer.Typer) -> None:
    """Add the `project` (with `members`) and `script` groups to the CLI app."""
    project_app.add_typer(members_app, name="members")
    app.add_typer(project_app, name="project")
    app.add_typer(projects_scripts.script_app, name="script")

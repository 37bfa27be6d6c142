"""The `petcare-dba` command line: a thin typer app over the same services as the UI.

Sub-commands live in feature modules (`core`, `admin`, ...); `main()` runs the app and turns
every PetcareError into a message on stderr and its exit code (1, or 2 for refusals), never a
traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from petcare_dba.cli import (
    admin,
    assistant,
    core,
    explain_export,
    explorer,
    mcp,
    monitoring,
    schedules,
    security,
    settings,
    sql,
    worker,
)
from petcare_dba.cli import projects as projects_cli
from petcare_dba.cli.common import STATE, no_password_on_argv
from petcare_dba.errors import PetcareError, redact

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="PetCare DBA Admin: a safe, audited PostgreSQL admin console.",
)


@app.callback()
def _global(
    data_dir: Path | None = typer.Option(None, help="Data directory (PETCARE_DATA_DIR)."),
    database_url: str | None = typer.Option(
        None, help="External metadata store URL (PETCARE_DATABASE_URL)."
    ),
    config: Path | None = typer.Option(None, help="TOML settings file (PETCARE_CONFIG)."),
) -> None:
    no_password_on_argv(database_url, "PETCARE_DATABASE_URL", "--database-url")
    overrides = {"data_dir": str(data_dir) if data_dir else None, "database_url": database_url}
    STATE["overrides"] = {k: v for k, v in overrides.items() if v is not None}
    if config is not None:
        import os

        os.environ["PETCARE_CONFIG"] = str(config)


core.register(app)
admin.register(app)
sql.register(app)
explorer.register(app)
assistant.register(app)
security.register(app)
projects_cli.register(app)
monitoring.register(app)
explain_export.register(app)
worker.register(app)
mcp.register(app)
schedules.register(app)
settings.register(app)


def main() -> None:
    """Entry point of the `petcare-dba` script."""
    try:
        result = app(standalone_mode=False)
    except PetcareError as exc:
        print(f"error: {redact(exc.message)}", file=sys.stderr)
        if exc.hint:
            print(f"hint: {redact(exc.hint)}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        print("aborted", file=sys.stderr)
        sys.exit(130)
    except Exception as exc:  # click usage errors and the like
        # Typer vendors its own click (typer._click), so an isinstance check against the click
        # package misses its UsageError and the user got a traceback: recognise any click
        # exception by what it offers (show() prints the usage line and the error; exit 2).
        show, code = getattr(exc, "show", None), getattr(exc, "exit_code", None)
        if callable(show) and isinstance(code, int):
            show()
            sys.exit(code)
        raise
    if isinstance(result, int) and result:
        sys.exit(result)

"""CLI of monitoring: `collect`, `advisor`, `regressions` and `alerts`.

`petcare-dba collect [--once]` samples every stored connection (the same leader-elected rounds
as the app's background collector; without --once it loops every monitoring_interval_s until
Ctrl+C). `petcare-dba advisor [--connection C] [--format table|json] [--fail-on error|warn]`
runs the lints and stores the run; with --fail-on it exits 1 when findings of that level (or
worse) exist, for CI pipelines. `petcare-dba regressions --connection C [--all] [--format json]`
lists query regressions with before/after figures and the plan. `petcare-dba alerts ...`
(cli/alerts.py) manages alerting. Register with `monitoring.register(app)`.
"""

from __future__ import annotations

import time

import typer

from petcare_dba.cli.alerts import alerts_app
from petcare_dba.cli.common import actor, emit, emit_json, emit_table, one_of, runtime
from petcare_dba.errors import ValidationError
from petcare_dba.services import advisor, connections
from petcare_dba.services.monitoring import collector, regressions

AS = typer.Option(None, "--as", help="Act as this user (default: the first admin).")
FMT = typer.Option(
    "table", "--format", "-f", help="table or json.", callback=one_of("table", "json")
)


def _fmt(fmt: str) -> None:
    if fmt not in ("table", "json"):
        raise ValidationError(f"--format must be table or json, not {fmt!r}")


def collect_cmd(
    once: bool = typer.Option(False, "--once", help="One round, then exit."),
    force: bool = typer.Option(False, "--force", help="Sample even if sampled moments ago."),
    fmt: str = FMT,
) -> None:
    """Sample every connection (one leader per connection across app instances)."""
    _fmt(fmt)
    with runtime() as rt:
        while True:
            rounds = collector.collect_once(rt, force=force)
            rows = [
                {
                    "connection": r.connection,
                    "sampled": r.sampled,
                    "metrics": len(r.metrics),
                    "statements": r.statements,
                    "alerts": ", ".join(r.alerts),
                    "note": r.error or r.skipped or ", ".join(r.reset_groups),
                }
                for r in rounds
            ]
            emit(rows, fmt)
            if once:
                return
            time.sleep(float(rt.settings.monitoring_interval_s))


def advisor_cmd(
    connection: str | None = typer.Option(
        None, "--connection", "-c", help="Stored connection (default: every visible one)."
    ),
    fmt: str = FMT,
    fail_on: str | None = typer.Option(
        None, "--fail-on", help="Exit 1 when findings at this level exist: error or warn."
    ),
    as_user: str | None = AS,
) -> None:
    """Run the advisor's lints, store the run, and print the findings."""
    _fmt(fmt)
    if fail_on not in (None, "error", "warn"):
        raise ValidationError("--fail-on must be error or warn")
    with runtime() as rt:
        who = actor(rt, as_user)
        names = (
            [connection] if connection else [c.name for c in connections.list_connections(rt, who)]
        )
        rows, unavailable = [], []
        for name in names:
            result = advisor.run_and_store(rt, who, name)
            rows += [{"connection": name, **f.__dict__} for f in result.findings]
            unavailable += [
                {"connection": name, "lint": n, "error": e} for n, e in result.unavailable
            ]
    if fmt == "json":
        emit_json({"findings": rows, "unavailable": unavailable})
    else:
        emit(rows, fmt, ["connection", "level", "name", "object", "detail"])
        for u in unavailable:
            typer.echo(f"unavailable: {u['connection']} {u['lint']}: {u['error']}", err=True)
    failing = {"error": ("ERROR",), "warn": ("ERROR", "WARN")}.get(fail_on or "", ())
    if any(r["level"] in failing for r in rows):
        raise typer.Exit(1)


def regressions_cmd(
    connection: str = typer.Option(..., "--connection", "-c", help="Stored connection."),
    all_: bool = typer.Option(False, "--all", help="Resolved regressions too (else firing)."),
    limit: int = typer.Option(100, "--limit"),
    fmt: str = FMT,
    as_user: str | None = AS,
) -> None:
    """Query regressions: statements whose mean time rose past their own baseline."""
    with runtime() as rt:
        found = regressions.regressions(
            rt, actor(rt, as_user), connection, firing_only=not all_, limit=limit
        )
    if fmt == "json":
        emit_json(found)
        return
    # The statement text is outside text: one line without control characters on a terminal.
    rows = [
        {
            "id": r.id,
            "state": r.state,
            "queryid": r.queryid,
            "before_ms": f"{r.before_mean_ms:.3f}",
            "before_calls": r.before_calls,
            "after_ms": f"{r.after_mean_ms:.3f}",
            "after_calls": r.after_calls,
            "ratio": f"{r.ratio:.1f}x" if r.ratio else "",
            "statement": regressions.one_line(r.query, 60),
        }
        for r in found
    ]
    emit_table(rows)
    for r in found:
        typer.echo(f"\n#{r.id} {regressions.one_line(r.plan_note, 200)}")
        for line in (r.plan or "").splitlines():
            typer.echo(regressions.one_line(line, 300))


def register(app: typer.Typer) -> None:
    """Add `collect`, `advisor`, `regressions` and `alerts` to the CLI."""
    app.command("collect")(collect_cmd)
    app.command("advisor")(advisor_cmd)
    app.command("regressions")(regressions_cmd)
    app.add_typer(alerts_app, name="alerts")

"""CLI commands for running the app: up, stop, migrate, health (settings: cli/settings.py).

`up` is the one command a new user runs: it starts (or reuses) the embedded PostgreSQL, migrates
the metadata store, creates the first admin and the demo database, then serves the Streamlit app
(a child process) and runs the background jobs (unless `jobs_in_up` is false; with the demo, its
simulated clinic workload too) until SIGTERM or SIGINT. Then, within `shutdown_timeout_s`, it
stops the app (which cancels its running statements, audited 'cancelled'), the workload, the
jobs, and the embedded server it started, and exits 0.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import typer

from petcare_dba.cli.common import (
    actor,
    current_settings,
    emit,
    emit_json,
    no_password_on_argv,
    one_of,
    runtime,
)
from petcare_dba.cli.shutdown import Interrupted, StopSignal, watchdog
from petcare_dba.errors import PetcareError
from petcare_dba.services import backups
from petcare_dba.services.backups import files
from petcare_dba.services.connections import demo, workload
from petcare_dba.services.monitoring import health, jobs
from petcare_dba.services.runtime import Runtime, key_file, migrate_store, stop_embedded
from petcare_dba.services.security import users
from petcare_dba.settings import Settings


def streamlit_command(settings: Settings) -> list[str]:
    """The argv that serves the UI: `petcare_dba.ui.launch`, which checks the operator's
    Streamlit configuration (a hardened option set weaker is refused), then runs `streamlit run
    ui/server.py` with our defaults (ui/streamlit.toml) for the options left unset.

    `ui/server.py`'s `st.App` serves `ui/app.py` plus the session-cookie routes, `/healthz` and
    `/metrics` (Streamlit >= 1.67 serves an `st.App` through uvicorn under `streamlit run`).
    The address and port reach it as PETCARE_HOST / PETCARE_PORT (see `child_env`).
    """
    del settings  # the launcher reads the same settings from the environment
    return [sys.executable, "-m", "petcare_dba.ui.launch"]


def child_env(settings: Settings) -> dict[str, str]:
    """Environment for the app process: the resolved settings as PETCARE_* variables."""
    env = dict(os.environ)
    # uvicorn would otherwise rewrite a loopback peer from X-Forwarded-For before the app sees
    # it; the app applies its own trusted_proxies rule to the real peer (issue 13).
    env["FORWARDED_ALLOW_IPS"] = ""
    for name, value in settings.values.items():
        if settings.sources.get(name) == "cli" and value not in (None, ""):
            env["PETCARE_" + name.upper()] = str(value)
    return env


def up(
    data_dir: Path | None = typer.Option(None, help="Data directory (PETCARE_DATA_DIR)."),
    host: str | None = typer.Option(None, help="Address to serve on (PETCARE_HOST)."),
    port: int | None = typer.Option(None, help="Port to serve on (PETCARE_PORT)."),
    database_url: str | None = typer.Option(None, help="External metadata store URL."),
    demo_scale: int | None = typer.Option(None, help="Demo data size (PETCARE_DEMO_SCALE)."),
    no_demo: bool = typer.Option(False, "--no-demo", help="Skip the demo database."),
    no_serve: bool = typer.Option(False, "--no-serve", help="Prepare everything, do not serve."),
) -> None:
    """Start the embedded PostgreSQL, migrate, create the demo data and serve the app."""
    no_password_on_argv(database_url, "PETCARE_DATABASE_URL", "--database-url")
    # SIGTERM/SIGINT during start-up unwind it (Interrupted); while serving they ask for a stop.
    stop = StopSignal(raising=True).install()
    try:
        _up(stop, data_dir, host, port, database_url, demo_scale, no_demo, no_serve)
    except Interrupted:
        typer.echo("stopped during start-up")


def _up(
    stop: StopSignal,
    data_dir: Path | None,
    host: str | None,
    port: int | None,
    database_url: str | None,
    demo_scale: int | None,
    no_demo: bool,
    no_serve: bool,
) -> None:
    settings = current_settings(
        data_dir=str(data_dir) if data_dir else None,
        host=host,
        port=port,
        database_url=database_url,
        demo_scale=demo_scale,
    )
    started = time.monotonic()
    first_key = not settings.secret_key and not key_file(settings).exists()
    rt = Runtime.start(settings, create_key=True)
    try:
        where = (
            "embedded PostgreSQL 18 in " + str(settings.data_path)
            if rt.server
            else ("external metadata store")
        )
        typer.echo(f"metadata store: {where} ({time.monotonic() - started:.1f}s)")
        tightened = files.tighten(backups.store_dir(settings))
        if tightened:
            typer.echo(
                f"backup store: {tightened} entries made private (directories 0700, files 0600)"
            )
        if first_key and not settings.secret_key:
            typer.echo(
                f"generated the secret key file {key_file(settings)} (0600): back it up; "
                "stored credentials cannot be decrypted without it"
            )
        password = users.ensure_first_admin(rt)
        if password:
            typer.echo(f"first admin created: username 'admin', password: {password}")
            typer.echo("(shown once: change it after signing in)")
        has_admin = rt.has_admin()
        if not has_admin:  # users exist but none is an enabled admin: say how to recover
            typer.echo(
                "warning: there is no enabled admin; run `petcare-dba user recover-admin NAME`",
                err=True,
            )
        with_demo = False
        if settings.demo_enabled and not no_demo and has_admin:
            summary = demo.ensure_demo(rt, users.actor_for(rt, None), settings.demo_scale)
            typer.echo(
                f"demo database 'petcare' ready: {sum(summary.tables.values()):,} rows "
                f"(scale {summary.scale}), connection 'demo'"
            )
            with_demo = True
        typer.echo(f"ready in {time.monotonic() - started:.1f}s")
        if no_serve or stop.event.is_set():
            return
        crashed = serve(rt, stop, with_demo=with_demo)
    finally:
        rt.close()
        if rt.started_server:
            typer.echo("embedded PostgreSQL stopped")
    if crashed is not None:
        typer.echo(f"error: the app server exited with code {crashed}", err=True)
        raise typer.Exit(1)


def serve(rt: Runtime, stop: StopSignal, *, with_demo: bool = False) -> int | None:
    """Serve the app and run the jobs until a signal; the app's exit code if it died by itself.

    With `with_demo` (this `up` ensured the demo database) the jobs include the simulated
    clinic workload on it (setting `demo_workload`), stopped before the jobs on shutdown.
    """
    settings = rt.settings
    stop.raising = False  # from here a signal asks, and the loop below stops in order
    proc = subprocess.Popen(streamlit_command(settings), env=child_env(settings))  # noqa: S603
    typer.echo(f"PetCare DBA Admin: http://{settings.host}:{settings.port}  (Ctrl+C stops)")
    clinic: workload.Workload | None = None
    try:
        if settings.jobs_in_up:
            names = ", ".join(j.name for j in jobs.start(rt).jobs)
            typer.echo(f"background jobs: {names}")
            clinic = workload.start_for_demo(rt, users.actor_for(rt, None)) if with_demo else None
            if clinic is not None:
                rate = settings.demo_workload_rate
                typer.echo(f"demo workload: a simulated clinic on 'petcare' ({rate:g}/s)")
        else:
            typer.echo("background jobs: off here (jobs_in_up=false): run `petcare-dba worker`")
        while proc.poll() is None and not stop.wait(0.5):
            pass
    finally:
        bound = float(settings.shutdown_timeout_s)
        begun = time.monotonic()
        watchdog(bound, "petcare-dba up")
        crashed = proc.poll()
        typer.echo(f"{stop.name}: stopping…")
        if crashed is None:
            # The app stops serving, cancels its running statements and records them (its
            # lifespan), then exits; past 60% of the bound it is killed.
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=bound * 0.6)
            except subprocess.TimeoutExpired:
                typer.echo("the app did not stop in time: killed", err=True)
                proc.kill()
                proc.wait()
        if clinic is not None:
            clinic.stop(timeout=min(5.0, bound * 0.2))
        jobs.stop(rt, timeout=max(1.0, bound * 0.85 - (time.monotonic() - begun)))
    return crashed if crashed is not None and not stop.event.is_set() else None


def stop() -> None:
    """Stop the embedded PostgreSQL if it is running."""
    if not stop_embedded(current_settings()):
        typer.echo("the embedded PostgreSQL is not running")
        return
    typer.echo("embedded PostgreSQL stopped")


def migrate(
    status: bool = typer.Option(False, "--status", help="Only show what is applied."),
    reset_runtime_password: bool = typer.Option(
        False,
        "--reset-runtime-password",
        help="Set petcare_login's password to this instance's runtime password even though the "
        "role exists (other instances using the old one lose new connections).",
    ),
) -> None:
    """Apply pending metadata migrations (a second run is a no-op)."""
    rows, applied = migrate_store(
        current_settings(), status_only=status, reset_password=reset_runtime_password
    )
    if status:
        emit(rows, "table")
        return
    typer.echo(
        "schema is up to date"
        if not applied
        else "applied " + ", ".join(f"{m.version:04d}_{m.name}" for m in applied)
    )


def health_cmd(
    fmt: str = typer.Option(
        "table", "--format", help="table or json", callback=one_of("table", "json")
    ),
    require_connections: bool = typer.Option(False, help="Fail when a connection is down."),
) -> None:
    """Report each component; exit 1 when a required one is down."""
    try:
        with runtime() as rt:
            report = health.check(rt, actor(rt, None), connections_required=require_connections)
    except PetcareError as exc:
        report = health.HealthReport(
            False, (health.Component("metadata", "metadata", False, True, exc.message),)
        )
    if fmt == "json":
        emit_json(report.as_dict())
    else:
        emit(list(report.components), "table", ["name", "ok", "required", "latency_ms", "detail"])
    if not report.healthy:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command()(up)
    app.command()(stop)
    app.command()(migrate)
    app.command("health")(health_cmd)

"""`petcare-dba worker`: every background job, without the web app, until SIGTERM or SIGINT.

The worker opens the metadata store (starting the embedded PostgreSQL when that is the store and
it is not running), runs the job table of `monitoring.jobs` (each job leader-elected by a lease,
so several workers and `up` processes never run a job twice) and waits for a signal. On SIGTERM
or SIGINT it stops taking runs, waits for the running ones, releases its leases (another
instance takes over at once), closes the store (stopping the embedded server if it started it)
and exits 0, all within `shutdown_timeout_s`. Register with `worker.register(app)`.
"""

from __future__ import annotations

import time

import typer

from petcare_dba.cli.common import current_settings
from petcare_dba.cli.shutdown import Interrupted, StopSignal, watchdog
from petcare_dba.services.monitoring import jobs
from petcare_dba.services.observability import logs
from petcare_dba.services.runtime import Runtime


def worker(
    lease_s: float | None = typer.Option(
        None, "--lease-s", help="Seconds a job's lease lasts unrenewed (PETCARE_JOBS_LEASE_S)."
    ),
) -> None:
    """Run every background job (sampling, advisor, reconcile, audit chain, retention)."""
    # Before the store opens: a signal during start-up unwinds it (Interrupted), exit 0.
    stop = StopSignal(raising=True).install()
    settings = current_settings(jobs_lease_s=lease_s)
    logs.configure(settings)  # the worker's lines follow log_format like the app's
    try:
        rt = Runtime.start(settings)
    except Interrupted:
        typer.echo("stopped during start-up")
        return
    started = time.monotonic()
    try:
        stop.raising = False
        if stop.event.is_set():
            return
        scheduler = jobs.start(rt)
        names = ", ".join(j.name for j in scheduler.jobs)
        typer.echo(
            f"worker {scheduler.instance}: jobs {names}; lease {scheduler.lease_s:g} s "
            "(SIGTERM or Ctrl+C stops)"
        )
        stop.wait()
        bound = float(settings.shutdown_timeout_s)
        started = time.monotonic()
        watchdog(bound, "the worker")
        typer.echo(f"{stop.name}: stopping the jobs…")
        if not jobs.stop(rt, timeout=bound * 0.8):
            typer.echo("a job run was still going; it is recorded as interrupted", err=True)
    finally:
        rt.close()
        typer.echo(f"worker stopped in {time.monotonic() - started:.1f}s")


def register(app: typer.Typer) -> None:
    app.command()(worker)

"""An entry point: a result as CSV, Parquet or JSON Lines, streamed, capped per role, audited.

`export` accepts exactly one plain SELECT that the engine's classifier calls read-only (function
volatility looked up on the target as `engine.run` does), records an audit intent and an
execucoes_scripts row before it runs, and streams the result in a READ ONLY transaction with the
engine's timeouts (statement_timeout: `export_statement_timeout_ms`, never longer than the editor's
`statement_timeout_ms`) and the role's resource limits: CSV through `COPY ... TO STDOUT` chunk by
chunk (exact; `csv_spreadsheet` rewrites that output with formula-looking cells neutralised, U7),
Parquet from a server-side cursor in record batches, each column typed by the one value formatter
(`values.arrow_type`: exact or text, never a lossy conversion). Neither holds the whole result in
memory. The row cap is `export_max_rows_<role>`. The composed COPY / capped SELECT is re-parsed and
must hold exactly the vetted statement (`wrap`), and goes over the extended protocol; however the
export ends (error, timeout, cancel, interrupted writer), its audit intent gets an outcome.
"""

from __future__ import annotations

import dataclasses
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, BinaryIO, cast

import pyarrow as pa
import pyarrow.parquet as pq

from petcare_dba.db.target import CancelHandle, Limits, executor
from petcare_dba.db.target import export as db_export
from petcare_dba.errors import PetcareError, QueryCancelled, Refused, ValidationError
from petcare_dba.messages import say
from petcare_dba.services import spreadsheet
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.sql import front, plan, record, refusals, values, wrap

# "csv" is PostgreSQL's exact COPY output; "csv_spreadsheet" the same with every cell that a
# spreadsheet would evaluate prefixed with ' (services/spreadsheet.py, U7).
# "jsonl" is one JSON object per row, values by the formatter's JSON rules (numeric as exact
# strings, bigints beyond 2^53 as strings, arrays as arrays: docs/values.md).
FORMATS = ("csv", "csv_spreadsheet", "parquet", "jsonl")
EXTENSIONS = {"csv": "csv", "csv_spreadsheet": "csv", "parquet": "parquet", "jsonl": "jsonl"}
SPOOL_BYTES = 8 << 20  # the spreadsheet rewrite spills to a temporary file beyond this
RULE = say("msg.sql.rule.export")
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote."""

    fmt: str
    rows: int
    bytes: int
    max_rows: int
    truncated: bool  # the cap was reached; the query may have more rows
    elapsed_ms: float


def max_rows_for(rt: Runtime, actor: Actor) -> int:
    """The export cap of the actor's role (`export_max_rows_<role>`)."""
    return int(getattr(rt.settings, f"export_max_rows_{actor.role}"))


def export(
    rt: Runtime,
    actor: Actor,
    connection_name: str,
    sql_text: str,
    out: BinaryIO,
    *,
    fmt: str = "csv",
    progress: Progress | None = None,
    handle: CancelHandle | None = None,
) -> ExportResult:
    """Stream the result of one read-only SELECT into `out` as CSV or Parquet."""
    if fmt not in FORMATS:
        choices = ", ".join(FORMATS)
        raise ValidationError(say("msg.sql.export.format", choices=choices, value=repr(fmt)))
    started = time.perf_counter()
    cap = max_rows_for(rt, actor)
    # The one front half (front), with the export's own rule added to the decisions.
    info, ctx = front.context(rt, actor, connection_name, detail={"export": fmt, "max_rows": cap})
    ctx = front.take(ctx, sql_text)
    ask = front.ask_for(actor, info)
    analysis = front.early(ctx, sql_text, ask, _vet)
    who = front.reader(actor.role, False)
    url = front.credential(ctx, info, sql_text, analysis.found[0], ask.read_only_path, who)
    limits = _limits(rt, actor.role)
    with front.open_lease(rt, actor, connection_name, info.id, url) as lease:
        analysis = front.final(ctx, lease.conn, sql_text, analysis, ask, _vet)
        statements, found = analysis.statements, analysis.found
        statement = found[0]
        vetted = statements[0].node
        pending = record.begin(ctx, statement, {"read_only": True})
        select_text = statement.text.strip().rstrip(";")
        deadline = limits.statement_timeout_ms / 1000 + 5 if limits.statement_timeout_ms else None
        try:
            with executor.transaction(lease.conn, limits, read_only=True):
                executor.require_read_only(lease.conn, True)
                if fmt == "csv":
                    rows, written = db_export.copy_csv(
                        lease.conn,
                        select_text,
                        cap,
                        out,
                        progress=progress,
                        handle=handle,
                        verify=wrap.verifier(wrap.prove_copy_out, vetted),
                        deadline_s=deadline,
                    )
                elif fmt == "csv_spreadsheet":
                    rows, written = _spreadsheet_csv(
                        lease.conn,
                        select_text,
                        cap,
                        out,
                        progress,
                        handle,
                        verify=wrap.verifier(wrap.prove_copy_out, vetted),
                        deadline_s=deadline,
                    )
                else:
                    verify = wrap.verifier(wrap.prove_capped, vetted)
                    write = _parquet if fmt == "parquet" else _json_lines
                    rows, written = write(lease, select_text, cap, out, progress, handle, verify)
        except PetcareError as exc:
            record.finish(ctx, pending, error=exc)
            raise
        except BaseException as exc:
            # A writer that failed, a rerun that interrupted the download: still an outcome.
            lease.discard = True
            record.finish(
                ctx,
                pending,
                error=QueryCancelled(say("msg.run.export_interrupted", problem=repr(exc)[:272])),
            )
            raise
        elapsed = round((time.perf_counter() - started) * 1000, 3)
        record.finish(
            ctx,
            pending,
            rows=rows,
            duration_ms=elapsed,
            message=say("msg.run.exported", format=fmt, size=written),
        )
    return ExportResult(fmt, rows, written, cap, rows >= cap, elapsed)


def _spreadsheet_csv(
    conn: Any,
    select_text: str,
    cap: int,
    out: BinaryIO,
    progress: Progress | None,
    handle: CancelHandle | None,
    *,
    verify: Any,
    deadline_s: float | None,
) -> tuple[int, int]:
    """The exact COPY CSV, spooled (bounded memory), then rewritten cell by cell."""
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
        sink = cast(BinaryIO, spool)
        rows, _ = db_export.copy_csv(
            conn,
            select_text,
            cap,
            sink,
            progress=progress,
            handle=handle,
            verify=verify,
            deadline_s=deadline_s,
        )
        spool.seek(0)
        written = spreadsheet.rewrite(spool, out)
    return rows, written


def _limits(rt: Runtime, role: str) -> Limits:
    """The engine's limits of the role, with the export's timeout capped by the editor's."""
    base = front.limits_for(rt.settings, role=role)
    timeout = rt.settings.export_statement_timeout_ms
    if base.statement_timeout_ms > 0:
        timeout = (
            base.statement_timeout_ms if timeout <= 0 else min(timeout, base.statement_timeout_ms)
        )
    return dataclasses.replace(base, statement_timeout_ms=timeout)


def _vet(statements: list[Any], found: list[Any], final: bool) -> refusals.Refusal | None:
    """The export's rule (refusals.Vet): anything but one read-only plain SELECT is refused.

    Before the pg_proc lookup (`final=False`) a call only the connection can resolve is let
    through to the lookup, which decides.
    """
    problem: Refused | None = None
    if found[0].parse_error is not None:
        return None  # the syntax check that follows refuses it, with line and column, as a run's
    if len(found) != 1:
        problem = Refused(
            say("msg.sql.refused", message=say("msg.sql.export.count", rule=RULE, n=len(found))),
            hint=say("msg.sql.rule_hint", rule=RULE),
        )
    elif (not found[0].read_only and (final or not found[0].depends_on)) or plan.method_for(
        statements[0].node
    ) is not (executor.Method.CURSOR):
        not_select = say("msg.sql.export.not_select", rule=RULE, command=found[0].command)
        problem = Refused(
            say("msg.sql.refused", message=not_select), hint=say("msg.sql.rule_hint", rule=RULE)
        )
    if problem is None:
        return None
    # The row names the statement a run would be refused for: the first that is not read-only.
    named = next((c for c in found if not c.read_only), found[min(1, len(found) - 1)])
    return refusals.Refusal(named, "refused", problem)


def _parquet(
    lease: executor.Lease,
    select_text: str,
    cap: int,
    out: BinaryIO,
    progress: Progress | None,
    handle: CancelHandle | None,
    verify: db_export.Verify,
) -> tuple[int, int]:
    writer: pq.ParquetWriter | None = None
    schema: pa.Schema | None = None
    rows = 0
    start = out.tell() if out.seekable() else 0
    try:
        for columns, batch in db_export.iter_batches(
            lease.conn, select_text, cap, handle=handle, verify=verify
        ):
            if schema is None:
                names = [_unique(columns, i) for i in range(len(columns))]
                schema = pa.schema(
                    [
                        pa.field(name, values.arrow_type(c.type_oid, c.precision, c.scale))
                        for name, c in zip(names, columns, strict=True)
                    ]
                )
                writer = pq.ParquetWriter(out, schema)
            assert writer is not None  # noqa: S101 - created with the schema above
            arrays = [
                pa.array(
                    [
                        values.arrow_value(row[i], c.type_oid, field.type, field.name)
                        for row in batch
                    ],
                    type=field.type,
                )
                for i, (field, c) in enumerate(zip(schema, columns, strict=True))
            ]
            writer.write_batch(pa.record_batch(arrays, schema=schema))
            rows += len(batch)
            if progress is not None:
                progress(rows, (out.tell() - start) if out.seekable() else 0)
        if writer is None:  # no rows: still write a valid, empty file with no columns known
            writer = pq.ParquetWriter(out, pa.schema([]))
    finally:
        if writer is not None:
            writer.close()
    written = (out.tell() - start) if out.seekable() else 0
    return rows, written


def _json_lines(
    lease: executor.Lease,
    select_text: str,
    cap: int,
    out: BinaryIO,
    progress: Progress | None,
    handle: CancelHandle | None,
    verify: db_export.Verify,
) -> tuple[int, int]:
    """One JSON object per row (JSON Lines), streamed batch by batch."""
    rows = written = 0
    for columns, batch in db_export.iter_batches(
        lease.conn, select_text, cap, handle=handle, verify=verify
    ):
        names = [_unique(columns, i) for i in range(len(columns))]
        oids = [c.type_oid for c in columns]
        lines = [
            values.dumps(
                {n: values.json_value(v, oid) for n, v, oid in zip(names, row, oids, strict=True)},
                indent=None,
            )
            + "\n"
            for row in batch
        ]
        data = "".join(lines).encode()
        out.write(data)
        written += len(data)
        rows += len(batch)
        if progress is not None:
            progress(rows, written)
    return rows, written


def _unique(columns: list[db_export.Column], index: int) -> str:
    name = columns[index].name
    earlier = sum(1 for c in columns[:index] if c.name == name)
    return name if earlier == 0 else f"{name}_{earlier + 1}"

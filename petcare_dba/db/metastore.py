"""The metadata store: a pooled connection as `petcare_login` with identity per transaction.

Every unit of work runs in one transaction that first does `SET LOCAL ROLE petcare_app` and
`set_config('app.user_id', <id>, true)`, so row level security sees the signed-in user and the
identity dies with the transaction: a pooled connection never carries user A's identity into
user B's checkout, and a transaction pooler works (no session state, prepare_threshold=None so no
named prepared statements). The pool checks connections on checkout and reconnects after a server
restart (a closed or talking socket is checked with a round trip, a quiet one is not); a
checkout that waits longer than pool_timeout_s becomes a clear "busy, retry" error, unless a
fresh connection to the store fails too: then it says the store cannot be reached, and why.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from petcare_dba.db import queries
from petcare_dba.db.errors import translate, translated
from petcare_dba.db.liveness import idle_socket_healthy
from petcare_dba.db.naming import DEFAULT, Names
from petcare_dba.errors import Unavailable
from petcare_dba.messages import say

Params = Mapping[str, Any] | Sequence[Any] | None


@dataclass(frozen=True)
class Identity:
    """Who a transaction runs as; user_id None is the anonymous login path."""

    user_id: int | None
    session_tag: str = "system"


ANONYMOUS = Identity(None, "anonymous")


class Tx:
    """A transaction handle with named-query helpers (rows come back as dicts)."""

    def __init__(self, conn: psycopg.Connection[Any], names: Names = DEFAULT) -> None:
        self.conn = conn
        self.names = names

    def _run(self, name_or_sql: str, params: Params) -> psycopg.Cursor[dict[str, Any]]:
        text = (
            queries.get(name_or_sql, self.names)
            if name_or_sql.isidentifier()
            else self.names.rewrite(name_or_sql)
        )
        cur = self.conn.cursor(row_factory=dict_row)
        cur.execute(text, params)
        return cur

    def all(self, name: str, params: Params = None) -> list[dict[str, Any]]:
        """Run a named query and return all rows."""
        return self._run(name, params).fetchall()

    def one(self, name: str, params: Params = None) -> dict[str, Any] | None:
        """Run a named query and return the first row or None."""
        return self._run(name, params).fetchone()

    def value(self, name: str, params: Params = None) -> Any:
        """Run a named query and return the first column of the first row (or None)."""
        row = self._run(name, params).fetchone()
        return None if row is None else next(iter(row.values()))

    def execute(self, name: str, params: Params = None) -> int:
        """Run a named statement; returns its rowcount."""
        return self._run(name, params).rowcount


def _check(conn: psycopg.Connection[Any]) -> None:
    """The pool's checkout check: a round trip only when the socket says something happened.

    An idle backend writes nothing unless it is going away (restart, terminate, idle timeout),
    so a quiet socket is a live session and costs no round trip; otherwise
    ConnectionPool.check_connection confirms, and its error makes the pool replace the
    connection (reliability F4). Three checkouts per engine run made this worth it.
    """
    if not idle_socket_healthy(conn):
        ConnectionPool.check_connection(conn)


def _identity_params(identity: Identity) -> dict[str, str]:
    """Parameters of the `meta_identity` prelude (prefixed so they never clash with a query's)."""
    user = "" if identity.user_id is None else str(identity.user_id)
    return {"_identity_user": user, "_identity_session": identity.session_tag}


class MetaStore:
    """Pool of runtime connections to the metadata database."""

    def __init__(
        self,
        url: str,
        *,
        min_size: int = 1,
        max_size: int = 10,
        timeout: float = 10.0,
        connect_timeout: int = 10,
        application_name: str = "petcare-dba/meta",
        names: Names = DEFAULT,
    ) -> None:
        self.url = url
        self.names = names
        kwargs: dict[str, Any] = {
            "autocommit": False,
            "prepare_threshold": None,
            "connect_timeout": connect_timeout,
            "application_name": application_name,
            "keepalives": 1,
            "keepalives_idle": 30,
            "keepalives_interval": 10,
            "keepalives_count": 3,
        }
        self.pool = ConnectionPool(
            url,
            min_size=min_size,
            max_size=max_size,
            timeout=timeout,
            kwargs=kwargs,
            check=_check,
            reconnect_timeout=300,
            open=False,
            name="petcare-meta",
        )
        self._lock = threading.Lock()
        self._opened = False

    def open(self, wait_timeout: float = 30.0) -> MetaStore:
        with self._lock:
            if not self._opened:
                try:
                    self.pool.open(wait=True, timeout=wait_timeout)
                except Exception as exc:
                    self.pool.close()
                    raise _unreachable(exc) from exc
                self._opened = True
        return self

    def close(self) -> None:
        with self._lock:
            self.pool.close()
            self._opened = False

    @contextmanager
    def tx(self, identity: Identity = ANONYMOUS) -> Iterator[Tx]:
        """One transaction as petcare_app with the identity set locally."""
        with translated(), self._connection() as conn, conn.transaction():
            conn.execute(queries.get("meta_identity", self.names), _identity_params(identity))
            yield Tx(conn, self.names)

    def call(
        self, identity: Identity, name: str, params: Mapping[str, Any]
    ) -> list[dict[str, Any]]:
        """Run one named statement as its own transaction in a single round trip; its rows.

        The identity prelude and the statement travel as one simple-protocol message, which
        PostgreSQL runs as one implicit transaction: the set_config(..., true) identity holds
        for the statement and dies at its end, as in `tx`, and a transaction pooler sees one
        transaction. Values are bound client-side by psycopg's quoting. For the hot path of the
        engine (a `tx` needs BEGIN, the prelude, the statement and COMMIT: four round trips).
        """
        text = f"{queries.get('meta_identity', self.names)}; {queries.get(name, self.names)}"
        with translated(), self._connection() as conn:
            conn.autocommit = True  # no BEGIN/COMMIT round trips: the message is the transaction
            try:
                cur = psycopg.ClientCursor(conn, row_factory=dict_row)
                cur.execute(text, {**params, **_identity_params(identity)})
                while cur.nextset():
                    pass
                return cur.fetchall() if cur.description is not None else []
            finally:
                if not conn.closed and not conn.broken:
                    conn.autocommit = False

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        """A pooled connection. When none comes in time, a fresh connection tells whether the
        store is down (say so, with the server's or the network's reason: raising the pool size
        would not help) or only busy (the pool's timeout, said as "busy" by `translated`)."""
        try:
            with self.pool.connection() as conn:
                yield conn
        except PoolTimeout as timeout:
            try:
                with psycopg.connect(self.url, connect_timeout=3, autocommit=True) as probe:
                    probe.execute("SELECT 1")  # a server that accepts, then drops, is down too
            except psycopg.Error as exc:
                raise _unreachable(exc) from timeout
            raise

    def stats(self) -> dict[str, int]:
        return dict(self.pool.get_stats())


def _unreachable(exc: Exception) -> Unavailable:
    return Unavailable(
        say("msg.db.store_unreachable", error=translate(exc).message),
        hint=say("msg.db.store_unreachable.hint"),
    )

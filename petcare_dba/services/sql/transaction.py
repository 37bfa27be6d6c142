"""An entry point: explicit transactions for dba users, BEGIN, statements, COMMIT/ROLLBACK by hand.

An `ExplicitTransaction` holds one connection of the user's engine pool (it counts against
max_connections_per_user) from `open` to `commit`/`rollback`, across Streamlit reruns. Every
statement goes through the plan's decisions (syntax, role, confirmation, volatility; the engine's
pool and guards) and gets an audit intent before it runs and an outcome after (`record`); BEGIN,
COMMIT and ROLLBACK are audited too. The transaction never reconnects by itself: when the server
ends it (idle past idle_in_transaction_timeout_ms, terminated, network reset) it is over, the user
is told that the server rolled it back, and nothing is replayed (reliability Q7, F1). When the
browser tab is gone, `abandon` rolls it back and the audit rows say why.
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from typing import Any

from petcare_dba.db.target import CancelHandle, executor, transaction
from petcare_dba.errors import ConnectionLost, PetcareError, Refused, Unavailable
from petcare_dba.messages import say
from petcare_dba.services import connections
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import audit
from petcare_dba.services.sql import execute, front, record
from petcare_dba.services.sql.execute import QueryResult, RunResult

ACTION = "sql.transaction"
LOST = say("msg.sql.tx.lost")
IDLE = say("msg.sql.tx.idle")
TAB_CLOSED = say("msg.sql.tx.tab_closed")


class ExplicitTransaction:
    """One open transaction of one user on one stored connection."""

    def __init__(self, rt: Runtime, actor: Actor, connection_name: str) -> None:
        actor.require("dba", say("msg.access.explicit_transaction"))
        self.rt = rt
        self.actor = actor
        self.connection_name = connection_name
        # The one front half (front): the lookup, the credential and the lease are the engine's.
        info, self.ctx = front.context(rt, actor, connection_name, detail={"mode": "explicit"})
        self.read_only = info.read_only
        self.info = info
        self.limits = front.limits_for(rt.settings, role=actor.role)
        self.state = "opening"
        self.ended_reason: str | None = None
        self.statements = 0
        self._events: dict[str, uuid.UUID] = {}  # what -> the event id of its open intent
        self.last_activity = time.monotonic()
        self._lock = threading.Lock()
        self._stack = contextlib.ExitStack()
        try:
            url, path = front.connect(
                rt, actor, info, read_path=info.read_only, who=say("msg.connections.who.read_only")
            )
        except PetcareError as exc:
            self.state = "failed"
            path = connections.READ_ONLY if info.read_url else connections.PRIMARY
            self._audit("refused", "begin", error=exc, detail={"credential": path})
            raise
        self.ctx.detail["credential"] = path
        lease = front.open_lease(rt, actor, connection_name, info.id, url)
        self._audit("intent", "begin")
        try:
            self._lease = self._stack.enter_context(lease)
            transaction.begin(self._lease.conn, self.limits, read_only=self.read_only)
        except PetcareError as exc:
            self._stack.close()
            self.state = "failed"
            self._audit("error", "begin", error=exc)
            raise
        self.state = "open"
        self._audit("ok", "begin")

    @property
    def is_open(self) -> bool:
        return self.state == "open"

    def run(
        self,
        sql_text: str,
        *,
        confirmed: bool = False,
        max_rows: int | None = None,
        handle: CancelHandle | None = None,
    ) -> RunResult:
        """Run a script inside the open transaction (decided and audited like engine.run)."""
        started = time.perf_counter()
        with self._lock:
            self._require_open()
            # The one front half (front): text, early decision, the final one on the held
            # connection (no pg_proc lookup in a failed transaction: it would fail too).
            ctx = front.take(self.ctx, sql_text)
            ask = front.ask_for(self.actor, self.info, confirmed=confirmed)
            analysis = front.early(ctx, sql_text, ask)
            conn = self._lease.conn
            lookup = None if transaction.in_error(conn) else conn
            try:
                analysis = front.final(ctx, lookup, sql_text, analysis, ask)
            except ConnectionLost as exc:
                raise self._lost(exc) from exc
            chosen, found = analysis.plan, analysis.found
            for step in chosen.steps:
                if step.autocommit:
                    error = Refused(
                        say("msg.sql.tx.no_autocommit", command=step.classification.command),
                        hint=say("msg.sql.tx.no_autocommit.hint"),
                    )
                    record.decided(ctx, step.classification, "refused", text=sql_text, error=error)
                    raise error
            limits = front.limits_for(self.rt.settings, max_rows, role=self.actor.role)
            results: list[QueryResult] = []
            warnings: list[str] = []
            detail: dict[str, Any] = {
                "confirmed": confirmed,
                "explicit": True,
                "read_only": self.read_only,
            }
            for step in chosen.steps:
                executor.require_read_only(conn, self.read_only)
                pending = record.begin(ctx, step.classification, detail)
                try:
                    fetched = execute.run_step(self._lease, step, limits, handle)
                except PetcareError as exc:
                    self.last_activity = time.monotonic()
                    if isinstance(exc, ConnectionLost):
                        exc = self._lost(exc)
                    record.finish(ctx, pending, error=exc)
                    return RunResult(
                        tuple(results),
                        tuple(found),
                        "explicit",
                        self.read_only,
                        False,
                        exc,
                        step.index,
                        tuple(warnings),
                        _ms(started),
                    )
                self.last_activity = time.monotonic()
                self.statements += 1
                result = execute.result_of(step, fetched)
                results.append(result)
                record.finish(
                    ctx,
                    pending,
                    rows=result.row_count,
                    duration_ms=result.elapsed_ms,
                    message=say("msg.run.in_transaction"),
                )
            return RunResult(
                tuple(results),
                tuple(found),
                "explicit",
                self.read_only,
                False,
                None,
                None,
                tuple(warnings),
                _ms(started),
            )

    def commit(self) -> None:
        """COMMIT (a transaction in error is rolled back by PostgreSQL; said so)."""
        self._finish("commit")

    def rollback(self) -> None:
        self._finish("rollback")

    def check(self) -> str | None:
        """None while open; else why it ended. Notices when the server ended it (Q7, F1)."""
        if self.state != "open":
            return self.ended_reason
        if not self._lock.acquire(blocking=False):
            return None  # a statement is running; it reports its own fate
        try:
            error = transaction.ended_by_server(self._lease.conn)
            if error is not None:
                self._end_by_server(error)
        finally:
            self._lock.release()
        return self.ended_reason

    def close(self, reason: str | None = None) -> None:
        """Give the connection back (rolled back if still open): the session ended.

        `reason` (e.g. TAB_CLOSED) goes into the rollback's audit rows and `ended_reason`.
        """
        if self.state == "open":
            with contextlib.suppress(PetcareError):
                self._finish("rollback", reason)
        self._stack.close()

    def abandon(self) -> None:
        """The browser tab is gone: roll back (audited with TAB_CLOSED), connection given back."""
        self.close(TAB_CLOSED)

    # -- internals

    def _require_open(self) -> None:
        if self.state != "open":
            raise ConnectionLost(
                self.ended_reason or say("msg.sql.tx.over"),
                hint=say("msg.sql.tx.begin_again.hint"),
            )
        error = transaction.ended_by_server(self._lease.conn)
        if error is not None:
            self._end_by_server(error)
            raise ConnectionLost(self.ended_reason or LOST, hint=say("msg.sql.tx.begin_again.hint"))

    def _finish(self, what: str, reason: str | None = None) -> None:
        why = {"reason": reason} if reason else {}
        with self._lock:
            self._require_open()
            conn = self._lease.conn
            failed = transaction.in_error(conn)
            self._audit("intent", what, detail=why)
            try:
                if what == "commit":
                    transaction.commit(conn)
                else:
                    transaction.rollback(conn)
            except ConnectionLost as exc:
                raise self._lost(exc) from exc
            except PetcareError as exc:
                self._audit("error", what, error=exc)
                raise
            self.state = "rolled_back" if failed or what == "rollback" else "committed"
            self.ended_reason = reason or (
                say("msg.sql.tx.failed_commit") if failed and what == "commit" else None
            )
            self._audit("ok", what, detail={"state": self.state, **why})
            self._stack.close()

    def _end_by_server(self, error: PetcareError) -> None:
        idle = error.sqlstate == "25P03" or (
            time.monotonic() - self.last_activity
            >= self.limits.idle_in_transaction_timeout_ms / 1000
            and self.limits.idle_in_transaction_timeout_ms > 0
        )
        self.state = "idle_timeout" if idle else "lost"
        self.ended_reason = (
            say("msg.sql.tx.idle_for", ms=self.limits.idle_in_transaction_timeout_ms)
            if idle
            else LOST
        )
        self._lease.discard = True
        self._audit("error", "ended", error=error, detail={"reason": self.ended_reason})
        self._stack.close()

    def _lost(self, exc: PetcareError) -> ConnectionLost:
        if self.state == "open":
            self._end_by_server(exc)
        return ConnectionLost(
            self.ended_reason or LOST,
            hint=say("msg.sql.tx.reconnect.hint"),
            sqlstate=exc.sqlstate,
        )

    def _audit(
        self,
        outcome: str,
        what: str,
        *,
        error: PetcareError | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        # One event id pairs each intent with its outcome; without it the reconcile job would
        # mark a finished BEGIN or COMMIT 'unknown' (A2).
        event_id: uuid.UUID | None
        if outcome == "intent":
            event_id = self._events[what] = audit.new_event_id()
        else:
            event_id = self._events.pop(what, None)
        try:
            audit.record(
                self.rt.store,
                self.actor,
                f"{ACTION}.{what}",
                outcome,
                event_id=event_id,
                connection_id=self.ctx.connection_id,
                target=self.ctx.connection_name,
                sqlstate=error.sqlstate if error else None,
                detail={
                    **{k: self.ctx.detail[k] for k in ("credential",) if k in self.ctx.detail},
                    **(detail or {}),
                    **({"message": error.message} if error else {}),
                },
            )
        except Unavailable:
            if outcome == "intent":
                raise  # fail closed: nothing runs without its intent on record


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)

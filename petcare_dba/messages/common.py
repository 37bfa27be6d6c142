"""Messages shared by every layer: the database boundary's own sentences (busy, timeouts, a lost
connection) and the UI's fallbacks. PostgreSQL's messages stay as the server wrote them; only
the sentence the app puts around one (`{message}`) is a template here."""

from __future__ import annotations

TEMPLATES = {
    "msg.db.busy": "the database is busy: no connection became free in time",
    "msg.db.busy.hint": "retry in a moment; if it persists raise pool_max_size",
    "msg.db.store_unreachable": "cannot reach the metadata store: {error}",
    "msg.db.store_unreachable.hint": "check that the store's server runs and is reachable "
    "(database_url, `petcare-dba health`); the app reconnects by itself once it is back",
    "msg.db.pool_closed": "the connection pool is closed",
    "msg.db.pool_closed.hint": "restart the app",
    "msg.db.statement_timeout": "{message} (exceeded statement_timeout_ms)",
    "msg.db.cancelled": "the statement was cancelled",
    "msg.db.lock_timeout": "gave up waiting for a lock: {message} (lock_timeout_ms)",
    "msg.db.idle_timeout": "the transaction was rolled back because it was idle for too long "
    "(idle_in_transaction_timeout_ms)",
    "msg.db.terminated": "session terminated by administrator (57P01)",
    "msg.db.lost": "connection lost",
    "msg.db.lost.hint": "any open transaction was rolled back by the server; reconnect and run "
    "the statement again",
    "msg.unexpected": "unexpected error: {kind}",
}

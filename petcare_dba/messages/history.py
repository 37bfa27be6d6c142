"""Messages a statement's History row keeps beside its outcome: declined by the user, rolled back
with the others, a dry run, exported, left in an open transaction, served from the cache. They
are stored as English (the `message` column has no room for a key), so the History reads them
back with `text.recognised`, which needs each template to be matched exactly."""

from __future__ import annotations

TEMPLATES = {
    "msg.run.declined": "declined by the user: {reason}",
    "msg.run.declined_bare": "declined by the user",
    "msg.run.edit_cancelled": "table edit cancelled",
    "msg.run.rolled_back_at": "rolled back: statement {n} failed",
    "msg.run.rolled_back": "rolled back: {message}",
    "msg.run.dry_run": "rolled back (dry run)",
    "msg.run.exported": "exported {format}, {size} B",
    "msg.run.in_transaction": "in an explicit transaction, not committed yet",
    "msg.run.served": "served from cache",
    "msg.run.export_interrupted": "the export was interrupted: {problem}",
}

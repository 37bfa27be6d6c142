"""Table backups: create, list, verify, preview, restore, prune, and the jobs that end dead ones.

The face hands on the backup functions (`backups.backup`, `backups.restore`, …); `files` (a
backup's files read as untrusted input), `storage` (the local directory or S3-compatible object
storage), `reconcile` (heartbeats) and `retention` (delete one backup, keep a table's latest by
count and age) are sub-areas.
"""

from __future__ import annotations

from petcare_dba.services.backups import (
    database,
    files,
    reconcile,
    retention,
    storage,
)
from petcare_dba.services.backups.catalogue import (
    BackupEntry,
    Progress,
    get,
    list_backups,
)
from petcare_dba.services.backups.database import backup_database, restore_database
from petcare_dba.services.backups.files import partial_dir, store_dir
from petcare_dba.services.backups.restore import (
    RestoreResult,
    VerifyResult,
    default_restore_name,
    preview,
    restore,
    restores,
    verify,
)
from petcare_dba.services.backups.retention import prune
from petcare_dba.services.backups.store import (
    FORMAT,
    backup,
)

__all__ = [
    "FORMAT",
    "BackupEntry",
    "Progress",
    "RestoreResult",
    "VerifyResult",
    "backup",
    "backup_database",
    "database",
    "default_restore_name",
    "files",
    "get",
    "list_backups",
    "partial_dir",
    "preview",
    "prune",
    "reconcile",
    "restore",
    "restore_database",
    "restores",
    "retention",
    "storage",
    "store_dir",
    "verify",
]

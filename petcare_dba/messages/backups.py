"""Messages of backups: what cannot be backed up, restored or deleted, and why (S3 storage
that is not set up, or is not where a backup's files are, too); names as the user wrote them,
statuses and storage labels as the catalogue keeps them."""

from __future__ import annotations

TEMPLATES = {
    "msg.backups.s3_size": "{label} stored {key} with a different size than was sent",
    "msg.backups.s3_no_bucket": "the bucket {bucket} does not exist in the backup storage",
    "msg.backups.s3_no_bucket.hint": "create it, or fix backup_s3_bucket",
    "msg.backups.s3_missing": "the backup's file {name} is missing from storage {label}",
    "msg.backups.s3_credentials": "the backup storage {label} refused the credentials ({code})",
    "msg.backups.s3_credentials.hint": "check backup_s3_access_key_id and "
    "backup_s3_secret_access_key",
    "msg.backups.s3_failed": "the backup storage {label} failed: {problem}",
    # Written by backups.sql (backup_mark_interrupted, restore_mark_interrupted) word for word.
    "msg.backups.interrupted": "interrupted: the process running it stopped (no heartbeat since "
    "{since})",
    "msg.backups.restore_interrupted": "interrupted: the process running it stopped; its "
    "transaction was rolled back",
    "msg.backups.not_found": "there is no backup {id}",
    "msg.backups.only_tables": "{name} is a {kind}; only tables can be backed up",
    "msg.backups.manifest_too_big": "{name} has {n} members: its manifest would exceed {limit} "
    "bytes; back up its partitions one by one",
    "msg.backups.columns_changed": "columns {columns} changed while the backup ran; try again",
    "msg.backups.unusable": "backup {id} is {status}; it holds no usable data",
    "msg.backups.files_missing": "backup {id}: its files are missing or unreadable",
    "msg.backups.whole_database": "backup {id} is a whole-database backup; restore it into a new "
    "database (CLI: restore ID --into-database NEWDB)",
    "msg.backups.name_or_replace": "give either a new table name or replace, not both",
    "msg.backups.bad_table_name": "{name} is not a valid table name",
    "msg.backups.read_only": "connection {name} is read-only; restores are refused",
    "msg.backups.replace_confirm": "replacing {table} deletes its current rows; confirm by naming "
    "the table",
    "msg.backups.replace_confirm.hint": "type {table} to confirm (CLI: --yes)",
    "msg.backups.table_backup": "backup {id} is a table backup; restore it with --into",
    "msg.backups.bad_database_name": "{name} is not a plain database name (letters, digits, _; "
    "max 63)",
    "msg.backups.over_source": "a database backup is never restored over its source; name a new "
    "database",
    "msg.backups.delete_unfinished": "backup {id} is {status}; only finished backups are deleted",
    "msg.backups.unterminated": "{text}: an unterminated quoted name",
    "msg.backups.expected_dot": "{text}: expected a dot between schema and table",
    "msg.backups.not_table_name": "{text} is not a table name (schema.table)",
    "msg.backups.unreachable": "the backup storage {label} cannot be reached: {problem}",
    "msg.backups.unreachable.hint": "check backup_s3_endpoint_url and the network",
    "msg.backups.no_boto3": "backup_storage is s3 but boto3 is not installed",
    "msg.backups.no_boto3.hint": "pip install 'petcare-dba[s3]' (with constraints.txt)",
    "msg.backups.no_bucket": "backup_storage is s3 but backup_s3_bucket is empty",
    "msg.backups.storage_local": "the backup's files are in {storage}, but this instance's "
    "backup_storage is local",
    "msg.backups.storage_local.hint": "set backup_storage=s3 and the backup_s3_* settings every "
    "instance shares",
    "msg.backups.storage_bucket": "the backup's files are in {storage}, this instance's bucket is "
    "{label}",
    "msg.backups.no_files": "backup {id} records no stored files",
    "msg.backups.store_write": "the backup store could not be written: {problem}",
    "msg.backups.store_write.hint": "free space in backup_dir (or point backup_dir elsewhere) and "
    "try again",
}

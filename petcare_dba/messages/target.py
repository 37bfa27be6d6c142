"""Messages of the target boundary (`db/target/`): a stored URL that cannot be used, the per-user
cap and the connect timeout, the explorer's filters, a restore whose result does not match its
backup, backup files and the PostgreSQL client tools, a stalled export, and a statement held
back because the server would now read its text differently. libpq's, the operating system's
and the client tools' own words stay as they came (`{problem}`, `{output}`)."""

from __future__ import annotations

TEMPLATES = {
    "msg.target.tx_lost": "connection lost; the open transaction was rolled back by the server",
    "msg.target.bad_url": "not a valid PostgreSQL URL: {problem}",
    "msg.target.no_host": "the URL has no host",
    "msg.target.pgservice": "the app's environment sets PGSERVICE, which libpq would merge into "
    "stored connections",
    "msg.target.pgservice.hint": "configure the metadata store with PETCARE_DATABASE_URL and "
    "unset PGSERVICE, or have an admin mark this connection to use ambient credentials",
    "msg.target.host_files": "the stored URL sets {options}, which reads files of the app's host",
    "msg.target.host_files.hint": "put host, user and password in the URL, or have an admin mark "
    "the connection to use ambient credentials",
    "msg.target.no_password": "the stored URL has no password and the server asks for one: "
    "stored connections never use the app's PGPASSWORD, .pgpass or service files",
    "msg.target.no_password.hint": "add the password to the connection's URL, or have an admin "
    "mark the connection to use ambient credentials (petcare-dba connection set-policy NAME "
    "--ambient-credentials)",
    "msg.target.busy": "busy: you already run {n} statement(s) on this connection "
    "(max_connections_per_user={n}); waited {waited} s",
    "msg.target.busy_instances": "busy: you already use {n} connection(s) to this database "
    "across the app's instances (max_connections_per_user={n}); waited {waited} s",
    "msg.target.busy.hint": "retry when one finishes, or cancel it",
    "msg.target.connect_timeout": "could not connect within {s} s (connect_timeout_s)",
    "msg.target.connect_timeout.hint": "check that the database host is reachable",
    "msg.target.shutting_down": "the app is shutting down: no new statements start",
    "msg.target.shutting_down.hint": "retry once the app is back",
    "msg.target.no_relation": "there is no relation {name}",
    "msg.target.filter_value": "the filter on {column} needs a value",
    "msg.target.filter_operator": "unknown filter operator {op}",
    "msg.target.type_unresolved": "column {column}: the recorded type {type} does not resolve to "
    "a type on this server; nothing was restored",
    "msg.target.type_unresolved.hint": "the backup or its catalogue entry was altered, or the "
    "type is missing",
    "msg.target.collation_unresolved": "column {column}: the recorded collation {collation} does "
    "not resolve on this server; nothing was restored",
    "msg.target.rows_differ": "restored {rows} rows but the backup holds {expected}; rolled back",
    "msg.target.checksum_differs": "the restored table's checksum differs from the backup's; "
    "rolled back",
    "msg.target.checksums": "expected {expected}, got {got}",
    "msg.target.tree_changed": "the partitions of {table} changed since the backup (members, "
    "keys or bounds differ); nothing was changed",
    "msg.target.tree_changed.hint": "restore into a new table instead (--into), then move the "
    "rows you need",
    "msg.target.leaf_rows_differ": "restored {rows} rows into {table} but the backup holds "
    "{expected}; rolled back",
    "msg.target.leaf_checksum_differs": "the restored {table}'s checksum differs from the "
    "backup's; rolled back",
    "msg.target.partition_not_table": "partition {name} is not a table (relkind {relkind}); only "
    "tables can be backed up",
    "msg.target.not_sequence_type": "column {column}: {type} is no sequence type",
    "msg.target.file_unopenable": "the backup file {name} cannot be opened: {problem}",
    "msg.target.file_unopenable.hint": "backup files must be regular files inside the backup's "
    "own folder, not links",
    "msg.target.file_not_regular": "the backup file {name} is not a regular file",
    "msg.target.not_copy_file": "not a binary COPY file (bad signature)",
    "msg.target.truncated": "the backup file is truncated (no trailer)",
    "msg.target.truncated_row": "the backup file is truncated inside a row",
    "msg.target.truncated_value": "the backup file is truncated inside a value",
    "msg.target.no_client": "no {tool} for PostgreSQL {major} on this machine (found: {found})",
    "msg.target.no_client.hint": "install the PostgreSQL {major} client (Debian: "
    "postgresql-client-{major})",
    "msg.target.found_none": "none",
    "msg.target.dump_failed": "pg_dump of {database} failed (exit {code}): {output}",
    "msg.target.restore_failed": "pg_restore into {name} failed (exit {code}): {output}",
    "msg.target.no_output": "no message",
    "msg.target.archive_unreadable": "pg_restore --list cannot read the archive: {problem}",
    "msg.target.export_stalled": "the export sent nothing for {s} s and did not answer a cancel; "
    "its connection was closed",
    "msg.target.rule.same_reading": "the server reads the text exactly as the app checked it",
    "msg.target.drift": "{where} was not sent because an earlier statement changed how the "
    "server reads text ({what}); it would not run as it was checked",
    "msg.target.drift.statement": "statement {n}",
    "msg.target.drift.this_statement": "this statement",
    "msg.target.drift.setting": "{name} is now {value}",
    "msg.target.drift.hint": "set it back (e.g. SET standard_conforming_strings = on, SET "
    "client_encoding = 'UTF8') or start a new transaction; rule: {rule}",
}

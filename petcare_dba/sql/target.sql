-- name: target_begin_repeatable_read_only
-- Opens a read-only snapshot on a target (explorer reads, backups' COPY): several statements see one state.
BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY

-- name: target_set_local
-- One transaction-local setting of the opening message (composed: name and value are placeholders).
SELECT pg_catalog.set_config({name}, {value}, true)


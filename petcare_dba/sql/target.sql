-- name: target_begin_repeatable_read_only
-- Opens a read-only snapshot on a target (explorer reads, backups' COPY): several statements see one state.
BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY

-- name: target_catalog_first
-- pg_catalog ahead of the target's own search_path for the app's transactions (what follows still finds the user's schemas): a database owner who puts their schema before pg_catalog (ALTER DATABASE ... SET search_path) cannot have their functions or operators stand in for built-ins and run as the app's login role. Built with qualified functions only (an unqualified || would itself be theirs).
SELECT pg_catalog.set_config('search_path',
           pg_catalog.concat('pg_catalog, ', pg_catalog.current_setting('search_path')), true)

-- name: target_set_local
-- One transaction-local setting of the opening message (composed: name and value are placeholders).
SELECT pg_catalog.set_config({name}, {value}, true)


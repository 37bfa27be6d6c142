-- name: meta_identity
-- Start every metadata transaction as petcare_app with the signed-in user; `true` keeps both to this transaction.
SELECT set_config('role', 'petcare_app', true),
       set_config('app.user_id', %(_identity_user)s, true),
       set_config('app.session', %(_identity_session)s, true)

-- name: meta_who
-- Who the current metadata transaction runs as; tests use it to prove the identity ends with the transaction.
SELECT current_setting('app.user_id', true) AS user_id, current_user AS role

-- name: meta_schema_version
-- The metadata store's latest applied migration (health check).
SELECT max(version) AS version FROM petcare.schema_migrations

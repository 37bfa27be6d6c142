-- name: ai_schema_index
-- One row per user table or view with its column names and outgoing foreign keys (context ranking).
SELECT n.nspname AS schema, c.relname AS name,
       coalesce(pg_catalog.obj_description(c.oid, 'pg_class'), '') AS comment,
       greatest(c.reltuples, 0)::bigint AS estimated_rows,
       coalesce((SELECT array_agg(a.attname::text ORDER BY a.attnum)
                   FROM pg_catalog.pg_attribute a
                  WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped),
                '{}') AS columns,
       coalesce((SELECT string_agg(coalesce(pg_catalog.col_description(c.oid, a.attnum), ''), ' '
                                   ORDER BY a.attnum)
                   FROM pg_catalog.pg_attribute a
                  WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '')
           AS column_comments,
       coalesce((SELECT array_agg(DISTINCT (fn.nspname || '.' || fc.relname))
                   FROM pg_catalog.pg_constraint con
                   JOIN pg_catalog.pg_class fc ON fc.oid = con.confrelid
                   JOIN pg_catalog.pg_namespace fn ON fn.oid = fc.relnamespace
                  WHERE con.conrelid = c.oid AND con.contype = 'f'), '{}') AS refs
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND NOT c.relispartition
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp%'
ORDER BY n.nspname, c.relname

-- name: ai_table_columns
-- Columns of the named tables (schema.name) with types, nullability, defaults and comments.
SELECT n.nspname AS schema, c.relname AS name, a.attname AS column_name,
       pg_catalog.format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null,
       pg_catalog.pg_get_expr(d.adbin, d.adrelid) AS column_default,
       pg_catalog.col_description(c.oid, a.attnum) AS comment,
       s.null_frac, s.n_distinct
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
LEFT JOIN pg_catalog.pg_stats s
       ON s.schemaname = n.nspname AND s.tablename = c.relname AND s.attname = a.attname
      AND NOT s.inherited
WHERE (n.nspname || '.' || c.relname) = ANY (%(tables)s::text[])
ORDER BY n.nspname, c.relname, a.attnum

-- name: ai_table_constraints
-- Primary, unique, foreign-key and check constraints and indexes of the named tables.
SELECT n.nspname AS schema, c.relname AS name, 'constraint' AS kind, con.conname AS object,
       pg_catalog.pg_get_constraintdef(con.oid) AS definition
FROM pg_catalog.pg_constraint con
JOIN pg_catalog.pg_class c ON c.oid = con.conrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE (n.nspname || '.' || c.relname) = ANY (%(tables)s::text[])
UNION ALL
SELECT n.nspname, c.relname, 'index', ic.relname, pg_catalog.pg_get_indexdef(i.indexrelid)
FROM pg_catalog.pg_index i
JOIN pg_catalog.pg_class c ON c.oid = i.indrelid
JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE (n.nspname || '.' || c.relname) = ANY (%(tables)s::text[])
  AND NOT i.indisprimary
ORDER BY 1, 2, 3, 4

-- name: ai_table_stats
-- Size and activity statistics of the named tables (consent 'stats' and above).
SELECT s.schemaname AS schema, s.relname AS name, s.n_live_tup, s.n_dead_tup, s.seq_scan,
       s.idx_scan, s.last_autovacuum, s.last_autoanalyze,
       pg_catalog.pg_total_relation_size(s.relid) AS total_bytes
FROM pg_catalog.pg_stat_user_tables s
WHERE (s.schemaname || '.' || s.relname) = ANY (%(tables)s::text[])
ORDER BY s.schemaname, s.relname

-- name: ai_server_facts
-- Server version and the settings that matter when reasoning about queries.
SELECT pg_catalog.current_setting('server_version') AS server_version,
       pg_catalog.current_database() AS database,
       (SELECT pg_catalog.jsonb_object_agg(name, setting || coalesce(unit, '') ORDER BY name)
          FROM pg_catalog.pg_settings
         WHERE name IN ('max_connections', 'shared_buffers', 'work_mem',
                        'maintenance_work_mem', 'effective_cache_size', 'random_page_cost',
                        'default_statistics_target', 'statement_timeout', 'lock_timeout',
                        'jit', 'max_parallel_workers_per_gather', 'autovacuum',
                        'shared_preload_libraries', 'default_transaction_read_only'))
           AS settings

-- name: ai_conversation_create
-- Start a conversation for the current user.
INSERT INTO petcare.ai_conversations (user_id, connection_id, title)
VALUES (%(user_id)s, %(connection_id)s, %(title)s)
RETURNING id

-- name: ai_conversation_list
-- The current user's conversations, newest first (RLS: own rows only).
SELECT c.id, c.title, c.tokens_total, c.created_at, c.updated_at, k.name AS connection,
       (SELECT count(*) FROM petcare.duvidas_analitics_ia m WHERE m.conversation_id = c.id)
           AS messages
FROM petcare.ai_conversations c
LEFT JOIN petcare.connections k ON k.id = c.connection_id
WHERE c.deleted_at IS NULL
ORDER BY c.updated_at DESC, c.id DESC
LIMIT %(limit)s

-- name: ai_conversation_get
-- One visible, not deleted conversation.
SELECT c.id, c.title, c.tokens_total, c.summary, c.created_at, c.updated_at,
       k.name AS connection
FROM petcare.ai_conversations c
LEFT JOIN petcare.connections k ON k.id = c.connection_id
WHERE c.id = %(id)s AND c.deleted_at IS NULL

-- name: ai_conversation_touch
-- Add tokens to a conversation and set its summary when compacted.
UPDATE petcare.ai_conversations
SET tokens_total = tokens_total + %(tokens)s, updated_at = now(),
    summary = coalesce(%(summary)s, summary)
WHERE id = %(id)s

-- name: ai_conversation_rename
-- Retitle a conversation.
UPDATE petcare.ai_conversations SET title = %(title)s, updated_at = now()
WHERE id = %(id)s AND deleted_at IS NULL RETURNING id

-- name: ai_conversation_delete
-- Soft-delete a conversation; token counts stay for the daily quota.
UPDATE petcare.ai_conversations SET deleted_at = now(), title = '', summary = NULL
WHERE id = %(id)s AND deleted_at IS NULL RETURNING id

-- name: ai_conversation_scrub
-- Erase the text of a deleted conversation's messages (token counts stay for the quota).
UPDATE petcare.duvidas_analitics_ia
SET content = '', tool_args = NULL, context_sent = NULL
WHERE conversation_id = %(id)s

-- name: ai_message_insert
-- Store one message of a conversation.
INSERT INTO petcare.duvidas_analitics_ia (conversation_id, user_id, role, content, tool_name,
                                          tool_args, context_sent, model, tokens_in, tokens_out)
VALUES (%(conversation_id)s, %(user_id)s, %(role)s, %(content)s, %(tool_name)s,
        %(tool_args)s::jsonb, %(context_sent)s::jsonb, %(model)s, %(tokens_in)s, %(tokens_out)s)
RETURNING id

-- name: ai_message_list
-- Messages of one conversation in order.
SELECT id, role, content, tool_name, tool_args, context_sent, model, tokens_in, tokens_out,
       created_at
FROM petcare.duvidas_analitics_ia
WHERE conversation_id = %(id)s
ORDER BY id

-- name: ai_message_get
-- One message of the current user by id.
SELECT m.id, m.conversation_id, m.role, m.content, m.tool_name, m.tool_args, m.created_at
FROM petcare.duvidas_analitics_ia m
WHERE m.id = %(id)s

-- name: ai_tokens_today
-- Tokens the current user spent today (UTC), deleted conversations included.
SELECT coalesce(sum(tokens_in + tokens_out), 0)::bigint
FROM petcare.duvidas_analitics_ia
WHERE user_id = %(user_id)s AND created_at >= date_trunc('day', now() AT TIME ZONE 'UTC')
      AT TIME ZONE 'UTC'

-- name: ai_consent_set
-- Change a connection's AI consent level (admin only; RLS also restricts the row).
UPDATE petcare.connections SET ai_consent = %(consent)s, updated_at = now()
WHERE name = %(name)s RETURNING id

-- name: assistant_sample_rows
-- A few rows of one table for the assistant's context, run through the engine's AI path (composed: table is an Identifier, limit a Literal).
SELECT * FROM {table} LIMIT {limit}

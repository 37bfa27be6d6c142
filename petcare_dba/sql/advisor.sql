-- name: advisor_run_insert
-- Record one advisor run of a connection (findings counted by the caller).
INSERT INTO petcare.advisor_runs (connection_id, run_by, findings, new_findings,
    resolved_findings, unavailable)
VALUES (%(conn)s, petcare.current_user_id(), %(findings)s, %(new)s, %(resolved)s, %(unavailable)s)
RETURNING id, at

-- name: advisor_findings_insert
-- Store a run's findings (status new, open or resolved).
INSERT INTO petcare.advisor_findings (run_id, cache_key, name, title, level, category, object,
    detail, remediation, status)
SELECT %(run)s, f.cache_key, f.name, f.title, f.level, f.category, f.object, f.detail,
       f.remediation, f.status
FROM jsonb_to_recordset(%(rows)s::jsonb) AS f(cache_key text, name text, title text, level text,
    category text, object text, detail text, remediation text, status text)
ON CONFLICT (run_id, cache_key) DO NOTHING

-- name: advisor_previous_findings
-- The findings still open after the previous run of a connection.
SELECT f.cache_key, f.name, f.title, f.level, f.category, f.object, f.detail, f.remediation
FROM petcare.advisor_findings f
WHERE f.status <> 'resolved'
  AND f.run_id = (SELECT r.id FROM petcare.advisor_runs r WHERE r.connection_id = %(conn)s
                  ORDER BY r.at DESC, r.id DESC LIMIT 1)
ORDER BY f.cache_key

-- name: advisor_exclusions_list
-- Excluded findings of a connection.
SELECT e.cache_key, e.reason, u.username AS created_by, e.created_at
FROM petcare.advisor_exclusions e
LEFT JOIN petcare.users u ON u.id = e.created_by
WHERE e.connection_id = %(conn)s
ORDER BY e.cache_key

-- name: advisor_exclusion_insert
-- Exclude one finding (by cache_key) from future runs of a connection (dbas).
INSERT INTO petcare.advisor_exclusions (connection_id, cache_key, reason, created_by)
VALUES (%(conn)s, %(cache_key)s, %(reason)s, petcare.current_user_id())
ON CONFLICT (connection_id, cache_key) DO UPDATE SET reason = EXCLUDED.reason
RETURNING cache_key

-- name: advisor_exclusion_delete
-- Include a finding again.
DELETE FROM petcare.advisor_exclusions
WHERE connection_id = %(conn)s AND cache_key = %(cache_key)s
RETURNING cache_key

-- name: advisor_runs_list
-- Recent advisor runs of a connection.
SELECT r.id, r.at, u.username AS run_by, r.findings, r.new_findings, r.resolved_findings,
       r.unavailable
FROM petcare.advisor_runs r
LEFT JOIN petcare.users u ON u.id = r.run_by
WHERE r.connection_id = %(conn)s
ORDER BY r.at DESC, r.id DESC
LIMIT %(limit)s

-- name: advisor_run_findings
-- The findings stored for one run.
SELECT f.name, f.title, f.level, f.category, f.object, f.detail, f.remediation, f.cache_key,
       f.status
FROM petcare.advisor_findings f
WHERE f.run_id = %(run)s
ORDER BY CASE f.level WHEN 'ERROR' THEN 0 WHEN 'WARN' THEN 1 ELSE 2 END, f.name, f.object

-- name: idx_target_slow_statements
-- Statements of this database worth an index: mean time above the threshold, by total time.
SELECT s.queryid, s.query, s.calls, s.mean_exec_time AS mean_ms
FROM pg_stat_statements s
WHERE s.dbid = (SELECT d.oid FROM pg_catalog.pg_database d
                WHERE d.datname = pg_catalog.current_database())
  AND s.toplevel AND s.mean_exec_time >= %(min_mean_ms)s AND s.calls >= %(min_calls)s
ORDER BY s.total_exec_time DESC, s.queryid
LIMIT %(limit)s

-- name: idx_target_table
-- A table by (possibly unqualified) name, with its size and the leading column of each index.
SELECT n.nspname AS schema, c.relname AS name, pg_catalog.pg_total_relation_size(c.oid) AS bytes,
       ARRAY(SELECT a.attname::text
             FROM pg_catalog.pg_index i
             JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid
                  AND a.attnum = i.indkey[0]
             WHERE i.indrelid = c.oid AND i.indisvalid
             ORDER BY a.attname) AS leading_columns,
       ARRAY(SELECT s.attname::text FROM pg_catalog.pg_stats s
             WHERE s.schemaname = n.nspname AND s.tablename = c.relname
             ORDER BY CASE WHEN s.n_distinct < 0 THEN -s.n_distinct * c.reltuples
                           ELSE s.n_distinct END DESC, s.attname) AS by_selectivity,
       EXISTS (SELECT 1 FROM pg_catalog.pg_extension e WHERE e.extname = 'hypopg') AS hypopg
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.oid = pg_catalog.to_regclass(%(name)s) AND c.relkind IN ('r', 'm', 'p')

-- name: idx_index_sql
-- CREATE INDEX statements (plain and CONCURRENTLY) for a table and columns, safely quoted, with the parts a what-if composes again.
SELECT pg_catalog.format('CREATE INDEX ON %%I.%%I (%%s)', %(schema)s::text, %(table)s::text, cols) AS plain,
       pg_catalog.format('CREATE INDEX CONCURRENTLY ON %%I.%%I (%%s);', %(schema)s::text, %(table)s::text, cols)
           AS concurrent,
       %(schema)s::text AS schema, %(table)s::text AS "table", %(columns)s::text[] AS columns
FROM (SELECT string_agg(pg_catalog.quote_ident(u.c), ', ' ORDER BY u.o) AS cols
      FROM unnest(%(columns)s::text[]) WITH ORDINALITY AS u(c, o)) x

-- name: idx_generic_plan
-- Plan every EXECUTE generically, so EXPLAIN of a statement with $n parameters needs no values.
SELECT pg_catalog.set_config('plan_cache_mode', 'force_generic_plan', true)

-- name: idx_hypopg_create
-- A hypothetical index (hypopg): visible to EXPLAIN in this session only, nothing is built.
SELECT indexrelid FROM hypopg_create_index(%(sql)s)

-- name: idx_whatif_untrusted
-- What a statement names that is not built into PostgreSQL (planning it could run that code).
WITH RECURSIVE
searched AS (
    SELECT n.oid FROM pg_catalog.pg_namespace n
    WHERE n.nspname = ANY (pg_catalog.current_schemas(true))
),
want_f AS (SELECT * FROM pg_catalog.jsonb_to_recordset(%(functions)s::jsonb) AS x(schema text, name text)),
want_o AS (SELECT * FROM pg_catalog.jsonb_to_recordset(%(operators)s::jsonb) AS x(schema text, name text)),
want_t AS (SELECT * FROM pg_catalog.jsonb_to_recordset(%(types)s::jsonb) AS x(schema text, name text)),
want_r AS (
    SELECT x.schema, x.name,
           pg_catalog.to_regclass(CASE WHEN x.schema IS NULL THEN pg_catalog.quote_ident(x.name)
                                       ELSE pg_catalog.quote_ident(x.schema) || '.'
                                            || pg_catalog.quote_ident(x.name) END) AS oid
    FROM pg_catalog.jsonb_to_recordset(%(relations)s::jsonb) AS x(schema text, name text)
),
tree AS (
    SELECT w.oid, coalesce(w.schema || '.', '') || w.name AS shown FROM want_r w WHERE w.oid IS NOT NULL
    UNION
    SELECT i.inhrelid::pg_catalog.regclass, t.shown
    FROM tree t JOIN pg_catalog.pg_inherits i ON i.inhparent = t.oid
),
owned AS (
    SELECT t.shown, 'pg_catalog.pg_class'::pg_catalog.regclass AS classid, t.oid::pg_catalog.oid AS objid FROM tree t
    UNION ALL SELECT t.shown, 'pg_catalog.pg_class'::pg_catalog.regclass, i.indexrelid
    FROM tree t JOIN pg_catalog.pg_index i ON i.indrelid = t.oid
    UNION ALL SELECT t.shown, 'pg_catalog.pg_attrdef'::pg_catalog.regclass, d.oid
    FROM tree t JOIN pg_catalog.pg_attrdef d ON d.adrelid = t.oid
    UNION ALL SELECT t.shown, 'pg_catalog.pg_constraint'::pg_catalog.regclass, c.oid
    FROM tree t JOIN pg_catalog.pg_constraint c ON c.conrelid = t.oid
    UNION ALL SELECT t.shown, 'pg_catalog.pg_policy'::pg_catalog.regclass, p.oid
    FROM tree t JOIN pg_catalog.pg_policy p ON p.polrelid = t.oid
    UNION ALL SELECT t.shown, 'pg_catalog.pg_rewrite'::pg_catalog.regclass, w.oid
    FROM tree t JOIN pg_catalog.pg_rewrite w ON w.ev_class = t.oid
    UNION ALL SELECT t.shown, 'pg_catalog.pg_statistic_ext'::pg_catalog.regclass, s.oid
    FROM tree t JOIN pg_catalog.pg_statistic_ext s ON s.stxrelid = t.oid
),
foreign_code AS (
    SELECT o.shown
    FROM owned o JOIN pg_catalog.pg_depend d ON d.classid = o.classid AND d.objid = o.objid
    WHERE (d.refclassid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND EXISTS (
               SELECT 1 FROM pg_catalog.pg_proc p WHERE p.oid = d.refobjid
               AND NOT (p.pronamespace = 'pg_catalog'::pg_catalog.regnamespace AND p.proowner = 10)))
       OR (d.refclassid = 'pg_catalog.pg_operator'::pg_catalog.regclass AND EXISTS (
               SELECT 1 FROM pg_catalog.pg_operator p WHERE p.oid = d.refobjid
               AND NOT (p.oprnamespace = 'pg_catalog'::pg_catalog.regnamespace AND p.oprowner = 10)))
       OR (d.refclassid = 'pg_catalog.pg_type'::pg_catalog.regclass AND EXISTS (
               SELECT 1 FROM pg_catalog.pg_type p WHERE p.oid = d.refobjid
               AND NOT (p.typnamespace = 'pg_catalog'::pg_catalog.regnamespace AND p.typowner = 10)))
)
SELECT 'function' AS kind, coalesce(w.schema || '.', '') || w.name AS name,
       CASE WHEN count(p.oid) = 0 THEN 'not found (refused: it cannot be checked)'
            ELSE 'not built into PostgreSQL' END AS reason
FROM want_f w
LEFT JOIN pg_catalog.pg_proc p ON p.proname = w.name
     AND (CASE WHEN w.schema IS NULL THEN p.pronamespace IN (SELECT oid FROM searched)
               ELSE p.pronamespace::pg_catalog.regnamespace::text = pg_catalog.quote_ident(w.schema) END)
GROUP BY w.schema, w.name
HAVING count(p.oid) = 0
    OR bool_or(NOT (p.pronamespace = 'pg_catalog'::pg_catalog.regnamespace AND p.proowner = 10))
UNION ALL
SELECT 'operator', coalesce(w.schema || '.', '') || w.name,
       CASE WHEN count(p.oid) = 0 THEN 'not found (refused: it cannot be checked)'
            ELSE 'not built into PostgreSQL' END
FROM want_o w
LEFT JOIN pg_catalog.pg_operator p ON p.oprname = w.name
     AND (CASE WHEN w.schema IS NULL THEN p.oprnamespace IN (SELECT oid FROM searched)
               ELSE p.oprnamespace::pg_catalog.regnamespace::text = pg_catalog.quote_ident(w.schema) END)
GROUP BY w.schema, w.name
HAVING count(p.oid) = 0
    OR bool_or(NOT (p.oprnamespace = 'pg_catalog'::pg_catalog.regnamespace AND p.oprowner = 10))
UNION ALL
SELECT 'type', coalesce(w.schema || '.', '') || w.name,
       CASE WHEN count(p.oid) = 0 THEN 'not found (refused: it cannot be checked)'
            ELSE 'not built into PostgreSQL' END
FROM want_t w
LEFT JOIN pg_catalog.pg_type p ON p.typname = w.name
     AND (CASE WHEN w.schema IS NULL THEN p.typnamespace IN (SELECT oid FROM searched)
               ELSE p.typnamespace::pg_catalog.regnamespace::text = pg_catalog.quote_ident(w.schema) END)
GROUP BY w.schema, w.name
HAVING count(p.oid) = 0
    OR bool_or(NOT (p.typnamespace = 'pg_catalog'::pg_catalog.regnamespace AND p.typowner = 10))
UNION ALL
SELECT 'relation', coalesce(w.schema || '.', '') || w.name, 'not found (refused: it cannot be checked)'
FROM want_r w WHERE w.oid IS NULL
UNION ALL
SELECT 'relation', t.shown,
       CASE WHEN c.relkind NOT IN ('r', 'p', 'm')
                 THEN 'is a view, foreign table or other relation whose planning runs its definition'
            WHEN c.relrowsecurity THEN 'has row-level security (its policies would be planned)'
            ELSE 'has a column of a type that is not built into PostgreSQL' END
FROM tree t JOIN pg_catalog.pg_class c ON c.oid = t.oid
WHERE c.relkind NOT IN ('r', 'p', 'm') OR c.relrowsecurity
   OR EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type ty ON ty.oid = a.atttypid
              WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                AND NOT (ty.typnamespace = 'pg_catalog'::pg_catalog.regnamespace AND ty.typowner = 10))
UNION ALL
SELECT DISTINCT 'relation', f.shown,
       'an index, default, constraint, policy, rule or statistics object uses code that is not built in'
FROM foreign_code f
ORDER BY 1, 2, 3

-- name: idx_whatif_deallocate
-- Forget earlier prepared statements of this session before the what-if prepares its own.
DEALLOCATE ALL

-- name: idx_whatif_prepare
-- The what-if's statement, prepared (composed: {query} is pglast's deparse of the checked statement, re-parsed by the caller).
PREPARE petcare_whatif AS {query}

-- name: idx_whatif_explain
-- The generic plan of the what-if's prepared statement (composed: {args} is NULL per parameter).
EXPLAIN (FORMAT JSON) EXECUTE petcare_whatif{args}

-- name: idx_whatif_build_index
-- The candidate index built for real inside a what-if transaction that is always rolled back (composed: identifiers).
CREATE INDEX ON {table} ({columns})

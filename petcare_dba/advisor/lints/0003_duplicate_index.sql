-- Indexes identical to another on the same table (same columns, expressions, predicate, method
-- and uniqueness): they cost writes and space and never help a read.
SELECT 'duplicate_index' AS name,
       'Duplicate index' AS title,
       'WARN' AS level,
       'performance' AS category,
       pg_catalog.format('%I.%I', n.nspname, t.relname) AS object,
       pg_catalog.format('%I duplicates %I', dup.relname, keep.relname) AS detail,
       pg_catalog.format('DROP INDEX CONCURRENTLY %I.%I;', n.nspname, dup.relname) AS remediation,
       pg_catalog.format('duplicate_index:%s.%s', n.nspname, dup.relname) AS cache_key
FROM pg_catalog.pg_index a
JOIN pg_catalog.pg_index b ON a.indrelid = b.indrelid AND a.indexrelid > b.indexrelid
    AND a.indkey::text = b.indkey::text AND a.indclass::text = b.indclass::text
    AND a.indisunique = b.indisunique
    AND coalesce(pg_catalog.pg_get_expr(a.indexprs, a.indrelid), '')
        = coalesce(pg_catalog.pg_get_expr(b.indexprs, b.indrelid), '')
    AND coalesce(pg_catalog.pg_get_expr(a.indpred, a.indrelid), '')
        = coalesce(pg_catalog.pg_get_expr(b.indpred, b.indrelid), '')
JOIN pg_catalog.pg_class dup ON dup.oid = a.indexrelid
JOIN pg_catalog.pg_class keep ON keep.oid = b.indexrelid
JOIN pg_catalog.pg_class t ON t.oid = a.indrelid
JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND NOT a.indisprimary
ORDER BY object, detail

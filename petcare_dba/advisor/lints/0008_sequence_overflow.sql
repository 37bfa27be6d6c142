-- Sequences that have used advisor_sequence_used_pct percent of their range (ERROR from
-- advisor_sequence_error_pct), where the range is the smaller of the sequence's maximum and the
-- maximum of the integer column it feeds (an int4 column fed by a bigint sequence overflows at
-- 2^31 - 1). A range that ends at or below zero has no meaningful share used and is skipped
-- (nullif: PostgreSQL may evaluate the division before the filter).
WITH p AS (
    SELECT %(advisor_sequence_used_pct)s::numeric AS pct,
           %(advisor_sequence_error_pct)s::numeric AS error_pct),
seqs AS (
    SELECT s.schemaname, s.sequencename, s.last_value, s.max_value, s.data_type::text AS seq_type,
           col.table_ref, col.attname, col.col_type,
           least(s.max_value::numeric, CASE col.col_type WHEN 'smallint' THEN 32767
                                                          WHEN 'integer' THEN 2147483647
                                                          ELSE s.max_value::numeric END) AS limit_value
    FROM pg_catalog.pg_sequences s
    LEFT JOIN LATERAL (
        SELECT pg_catalog.format('%%I.%%I', tn.nspname, t.relname) AS table_ref, a.attname,
               pg_catalog.format_type(a.atttypid, NULL) AS col_type
        FROM pg_catalog.pg_class sc
        JOIN pg_catalog.pg_namespace sn ON sn.oid = sc.relnamespace
        JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_class'::regclass
             AND d.objid = sc.oid AND d.refclassid = 'pg_catalog.pg_class'::regclass
             AND d.deptype IN ('a', 'i')
        JOIN pg_catalog.pg_class t ON t.oid = d.refobjid
        JOIN pg_catalog.pg_namespace tn ON tn.oid = t.relnamespace
        JOIN pg_catalog.pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
        WHERE sc.relname = s.sequencename AND sn.nspname = s.schemaname
        LIMIT 1) col ON true
    WHERE s.increment_by > 0 AND s.last_value IS NOT NULL)
SELECT 'sequence_overflow' AS name,
       'Sequence close to overflow' AS title,
       CASE WHEN 100.0 * q.last_value / nullif(q.limit_value, 0) >= p.error_pct THEN 'ERROR'
            ELSE 'WARN' END AS level,
       'availability' AS category,
       pg_catalog.format('%%I.%%I', q.schemaname, q.sequencename) AS object,
       pg_catalog.format('%%s of %%s used (%%s%%%%)%%s', q.last_value, q.limit_value,
           round(100.0 * q.last_value / nullif(q.limit_value, 0), 1),
           CASE WHEN q.table_ref IS NOT NULL
                THEN pg_catalog.format('; feeds %%s.%%I (%%s)', q.table_ref, q.attname, q.col_type)
                ELSE '' END) AS detail,
       CASE WHEN q.col_type IN ('smallint', 'integer')
            THEN pg_catalog.format(E'ALTER TABLE %%s ALTER COLUMN %%I TYPE bigint;\nALTER SEQUENCE %%I.%%I AS bigint;',
                     q.table_ref, q.attname, q.schemaname, q.sequencename)
            ELSE pg_catalog.format('ALTER SEQUENCE %%I.%%I AS bigint;', q.schemaname, q.sequencename)
       END AS remediation,
       pg_catalog.format('sequence_overflow:%%s.%%s', q.schemaname, q.sequencename) AS cache_key
FROM seqs q, p
WHERE q.limit_value > 0 AND 100.0 * q.last_value / nullif(q.limit_value, 0) >= p.pct
ORDER BY object

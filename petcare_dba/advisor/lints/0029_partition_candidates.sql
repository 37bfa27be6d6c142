-- Large tables that are partitioning candidates: at least advisor_partition_bytes on disk, a
-- timestamp or date column leading a valid index (range pruning and cheap "older than"), and a
-- retention pattern: rows deleted or dead since the statistics reset above
-- advisor_partition_churn_pct percent of the live rows. Partitioned tables and partitions are
-- skipped. The remediation is the DDL to get there, every name quoted by format('%%I').
WITH p AS (
    SELECT %(advisor_partition_bytes)s::numeric AS min_bytes,
           %(advisor_partition_churn_pct)s::numeric AS pct,
           pg_catalog.date_trunc('month', pg_catalog.now())::date AS month),
big AS (
    SELECT c.oid, n.nspname, c.relname, s.n_live_tup, s.n_tup_del, s.n_dead_tup,
           pg_catalog.pg_total_relation_size(c.oid) AS bytes
    FROM pg_catalog.pg_stat_user_tables s
    JOIN pg_catalog.pg_class c ON c.oid = s.relid
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    CROSS JOIN p
    WHERE c.relkind = 'r' AND NOT c.relispartition
      AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND pg_catalog.pg_total_relation_size(c.oid) >= p.min_bytes
      AND GREATEST(s.n_tup_del, s.n_dead_tup) > 0
      AND GREATEST(s.n_tup_del, s.n_dead_tup) >= p.pct / 100.0 * s.n_live_tup),
candidate AS (
    SELECT DISTINCT ON (b.oid) b.*, a.attname, x.relname AS indexname,
           pg_catalog.format_type(a.atttypid, a.atttypmod) AS coltype
    FROM big b
    JOIN pg_catalog.pg_index i ON i.indrelid = b.oid AND i.indisvalid
    JOIN pg_catalog.pg_class x ON x.oid = i.indexrelid
    JOIN pg_catalog.pg_attribute a ON a.attrelid = b.oid AND a.attnum = i.indkey[0]
    WHERE a.atttypid IN ('pg_catalog.timestamptz'::pg_catalog.regtype,
                         'pg_catalog.timestamp'::pg_catalog.regtype,
                         'pg_catalog.date'::pg_catalog.regtype)
      AND NOT a.attisdropped
    ORDER BY b.oid, a.attnum, x.relname)
SELECT 'partition_candidates' AS name,
       'Partitioning candidate' AS title,
       'INFO' AS level,
       'performance' AS category,
       pg_catalog.format('%%I.%%I', c.nspname, c.relname) AS object,
       pg_catalog.format('%%s on disk, %%s live rows, %%s deleted and %%s dead since the '
           'statistics reset; time column %%I (%%s) leads index %%I: dropping old partitions '
           'would replace the deletes', pg_catalog.pg_size_pretty(c.bytes), c.n_live_tup,
           c.n_tup_del, c.n_dead_tup, c.attname, c.coltype, c.indexname) AS detail,
       pg_catalog.concat_ws(E'\n',
           '-- 1. A partitioned copy with a first monthly partition and a default one.',
           pg_catalog.format('CREATE TABLE %%I.%%I (LIKE %%I.%%I INCLUDING DEFAULTS '
               'INCLUDING CONSTRAINTS) PARTITION BY RANGE (%%I);',
               c.nspname, c.relname || '_partitioned', c.nspname, c.relname, c.attname),
           pg_catalog.format('CREATE TABLE %%I.%%I PARTITION OF %%I.%%I FOR VALUES FROM (%%L) '
               'TO (%%L);', c.nspname, c.relname || pg_catalog.to_char(p.month, '_YYYY_MM'),
               c.nspname, c.relname || '_partitioned', pg_catalog.to_char(p.month, 'YYYY-MM-DD'),
               pg_catalog.to_char(p.month + interval '1 month', 'YYYY-MM-DD')),
           pg_catalog.format('CREATE TABLE %%I.%%I PARTITION OF %%I.%%I DEFAULT;', c.nspname,
               c.relname || '_default', c.nspname, c.relname || '_partitioned'),
           pg_catalog.format('CREATE INDEX ON %%I.%%I (%%I);', c.nspname,
               c.relname || '_partitioned', c.attname),
           '-- 2. Copy and swap while writers wait (batch the copy by time range if it is long).',
           'BEGIN;',
           pg_catalog.format('LOCK TABLE %%I.%%I IN EXCLUSIVE MODE;', c.nspname, c.relname),
           pg_catalog.format('INSERT INTO %%I.%%I SELECT * FROM %%I.%%I;', c.nspname,
               c.relname || '_partitioned', c.nspname, c.relname),
           pg_catalog.format('ALTER TABLE %%I.%%I RENAME TO %%I;', c.nspname, c.relname,
               c.relname || '_unpartitioned'),
           pg_catalog.format('ALTER TABLE %%I.%%I RENAME TO %%I;', c.nspname,
               c.relname || '_partitioned', c.relname),
           'COMMIT;',
           '-- 3. Then: split older rows out of the default partition into monthly ones, add the',
           '-- primary key and unique indexes (they must include the time column), foreign keys,',
           '-- triggers and grants; move sequences the old table owns (ALTER SEQUENCE ... OWNED',
           pg_catalog.format('-- BY); DROP TABLE %%I.%%I once checked. Retention then drops a '
               'partition instead of deleting rows.', c.nspname,
               c.relname || '_unpartitioned')) AS remediation,
       pg_catalog.format('partition_candidates:%%s.%%s', c.nspname, c.relname) AS cache_key
FROM candidate c CROSS JOIN p
ORDER BY c.bytes DESC, object

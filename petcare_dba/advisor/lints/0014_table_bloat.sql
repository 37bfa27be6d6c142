-- Tables whose pages hold far fewer rows than they could: the estimated free space (pages on
-- disk minus pages the live rows need, from pg_stats widths and the fillfactor) is at least
-- advisor_bloat_pct percent of the table and advisor_bloat_bytes bytes.
-- Needs ANALYZE statistics; a rough estimate in the spirit of PgHero's bloat check.
WITH p AS (
    SELECT %(advisor_bloat_pct)s::numeric AS pct,
           %(advisor_bloat_bytes)s::numeric AS min_bytes),
t AS (
    SELECT n.nspname, c.relname, c.relpages, c.reltuples,
           pg_catalog.current_setting('block_size')::numeric AS bs,
           coalesce((regexp_match(array_to_string(c.reloptions, ','),
                                  'fillfactor=(\d+)'))[1]::numeric, 100) AS ff,
           (SELECT sum(s.avg_width) FROM pg_catalog.pg_stats s
             WHERE s.schemaname = n.nspname AND s.tablename = c.relname) AS width,
           (SELECT count(*) FROM pg_catalog.pg_stats s
             WHERE s.schemaname = n.nspname AND s.tablename = c.relname) AS with_stats,
           (SELECT count(*) FROM pg_catalog.pg_attribute a
             WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS columns
    FROM pg_catalog.pg_class c
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'm') AND c.relpages > 0 AND c.reltuples >= 0
      AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%%'),
e AS (
    -- 24-byte tuple header (aligned) + 4-byte line pointer per row; 24-byte page header.
    SELECT t.*, ceil(t.reltuples * (28 + t.width) / ((t.bs - 24) * t.ff / 100)) AS need_pages
    FROM t WHERE t.with_stats = t.columns AND t.columns > 0)
SELECT 'table_bloat' AS name,
       'Bloated table' AS title,
       'WARN' AS level,
       'performance' AS category,
       pg_catalog.format('%%I.%%I', e.nspname, e.relname) AS object,
       pg_catalog.format('about %%s of %%s (%%s%%%%) is free space left by updates and deletes',
           pg_catalog.pg_size_pretty(((e.relpages - e.need_pages) * e.bs)::bigint),
           pg_catalog.pg_size_pretty((e.relpages * e.bs)::bigint),
           round(100.0 * (e.relpages - e.need_pages) / e.relpages)) AS detail,
       pg_catalog.format(E'-- rewrites the table under an ACCESS EXCLUSIVE lock; pg_repack avoids '
           'the lock\nVACUUM (FULL, ANALYZE) %%I.%%I;', e.nspname, e.relname) AS remediation,
       pg_catalog.format('table_bloat:%%s.%%s', e.nspname, e.relname) AS cache_key
FROM e, p
WHERE e.relpages > e.need_pages
  AND (e.relpages - e.need_pages) * e.bs >= p.min_bytes
  AND 100.0 * (e.relpages - e.need_pages) / e.relpages >= p.pct
ORDER BY (e.relpages - e.need_pages) DESC, object

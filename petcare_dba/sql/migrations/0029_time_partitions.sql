-- Issue 18 (partitioning): the monitoring time series become declaratively partitioned by time
-- and are pruned by dropping whole partitions instead of a DELETE every retention round (50
-- connections sampled every 15 s reach about 20 M rows in two days).
--   metric_samples     PARTITION BY LIST (resolution_s): metric_samples_raw (0) and
--                      metric_samples_5m (300), each PARTITION BY RANGE (at), one partition a
--                      UTC day. Raw samples and 5-minute averages have different retentions
--                      (monitoring_raw_retention_hours, monitoring_rollup_retention_days), so
--                      each level's partitions can be dropped whole.
--   statement_deltas   PARTITION BY RANGE (at), one partition a UTC day.
-- Every range parent keeps a DEFAULT partition so that a sample is never refused because the
-- job that creates partitions ahead did not run; the job (monitoring_partitions_maintain,
-- called by the retention job) moves whatever reached a default into the day's own partition,
-- so the default never keeps data (it is empty after every run, and the job reports what it
-- moved). Existing rows are copied; ids are kept.
-- Access: queries go through the parents, whose RLS (ENABLE + FORCE), policies and grants are
-- those of 0007. Partitions (and the two sub-parents) are closed to petcare_app: no privilege,
-- RLS ENABLE + FORCE with only an owner policy (for the SECURITY DEFINER maintenance), so a
-- partition named directly cannot be used to step around the parent's policies.
-- The helpers below are generic (0030 uses them for the audit log) and owned by petcare_owner;
-- only the checked entry points are granted to petcare_app.

-- [lo, hi) of a range partition, read from its bound (NULL for the DEFAULT partition).
CREATE FUNCTION petcare.partition_range(part regclass, OUT lo timestamptz, OUT hi timestamptz)
    LANGUAGE sql STABLE SET search_path = pg_catalog SET "TimeZone" = 'UTC'
    SET "DateStyle" = 'ISO' AS $$
    SELECT m[1]::timestamptz, m[2]::timestamptz
    FROM (SELECT regexp_match(pg_get_expr(c.relpartbound, c.oid),
                              $r$^FOR VALUES FROM \('([^']+)'\) TO \('([^']+)'\)$r$) AS m
          FROM pg_class c WHERE c.oid = part) b $$;

-- The DEFAULT partition of a range parent, if any.
CREATE FUNCTION petcare.partition_default(parent regclass) RETURNS regclass
    LANGUAGE sql STABLE SET search_path = pg_catalog AS $$
    SELECT i.inhrelid::regclass FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = parent AND pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT' $$;

-- Close a partition to everyone but its owner (see the header), and give it the statement-level
-- TRUNCATE triggers of its ancestors: PostgreSQL clones row triggers to partitions but not
-- statement triggers, and a TRUNCATE naming a partition fires only the partition's own. A
-- partition made by an operator's superuser session is handed to its parent's owner.
CREATE FUNCTION petcare.partition_secure(part regclass) RETURNS void
    LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE
    t record;
    owner name;
BEGIN
    SELECT c.relowner::regrole::name INTO owner FROM pg_inherits i JOIN pg_class c
        ON c.oid = i.inhparent WHERE i.inhrelid = part;
    IF owner IS NOT NULL AND owner IS DISTINCT FROM
       (SELECT c.relowner::regrole::name FROM pg_class c WHERE c.oid = part) THEN
        EXECUTE format('ALTER TABLE %s OWNER TO %I', part, owner);
    END IF;
    EXECUTE format('REVOKE ALL ON %s FROM PUBLIC, petcare_app', part);
    EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', part);
    EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', part);
    IF NOT EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = part) THEN
        EXECUTE format('CREATE POLICY partition_owner ON %s TO petcare_owner '
                       'USING (true) WITH CHECK (true)', part);
    END IF;
    FOR t IN SELECT g.tgname, g.tgfoid::regproc AS fn
             FROM pg_partition_ancestors(part) a JOIN pg_trigger g ON g.tgrelid = a.relid
             WHERE a.relid <> part AND NOT g.tgisinternal
               AND (g.tgtype::integer & 32) <> 0 AND (g.tgtype::integer & 1) = 0 LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_trigger g WHERE g.tgrelid = part
                       AND g.tgname = t.tgname) THEN
            EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON %s FOR EACH STATEMENT '
                           'EXECUTE FUNCTION %s()', t.tgname, part, t.fn);
        END IF;
    END LOOP;
END $$;

-- Create the partition [lo, hi) of a range parent, named <parent>_p<suffix>. A DEFAULT partition
-- holding rows of that range blocks CREATE ... PARTITION OF, so those rows are first moved into
-- the new table, which is then attached (may_move); without may_move (the append-only audit
-- log) the range is left alone and NULL is returned. Returns the rows moved.
CREATE FUNCTION petcare.partition_add(parent regclass, lo timestamptz, hi timestamptz,
                                      suffix text, may_move boolean) RETURNS bigint
    LANGUAGE plpgsql SET search_path = pg_catalog SET "TimeZone" = 'UTC'
    SET "DateStyle" = 'ISO' AS $$
DECLARE
    part text;
    dflt regclass := petcare.partition_default(parent);
    key text;
    held boolean := false;
    moved bigint := 0;
BEGIN
    SELECT format('%I.%I', n.nspname, c.relname || '_p' || suffix) INTO part
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = parent;
    SELECT a.attname INTO key FROM pg_partitioned_table p
    JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0]
    WHERE p.partrelid = parent;
    IF dflt IS NOT NULL THEN
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s WHERE %I >= $1 AND %I < $2)',
                       dflt, key, key) INTO held USING lo, hi;
    END IF;
    IF held AND NOT may_move THEN
        RETURN NULL;
    ELSIF held THEN
        EXECUTE format('CREATE TABLE %s (LIKE %s INCLUDING DEFAULTS INCLUDING CONSTRAINTS)',
                       part, parent);
        EXECUTE format('WITH m AS (DELETE FROM %s WHERE %I >= $1 AND %I < $2 RETURNING *) '
                       'INSERT INTO %s SELECT * FROM m', dflt, key, key, part) USING lo, hi;
        GET DIAGNOSTICS moved = ROW_COUNT;
        EXECUTE format('ALTER TABLE %s ATTACH PARTITION %s FOR VALUES FROM (%L) TO (%L)',
                       parent, part, lo, hi);
    ELSE
        EXECUTE format('CREATE TABLE %s PARTITION OF %s FOR VALUES FROM (%L) TO (%L)',
                       part, parent, lo, hi);
    END IF;
    PERFORM petcare.partition_secure(part::regclass);
    RETURN moved;
END $$;

-- Every missing `unit` ('day' or 'month', UTC) bucket holding an instant of [from_ts, to_ts].
CREATE FUNCTION petcare.partitions_ensure(parent regclass, unit text, from_ts timestamptz,
                                          to_ts timestamptz, may_move boolean,
                                          OUT created integer, OUT moved bigint,
                                          OUT skipped integer)
    LANGUAGE plpgsql SET search_path = pg_catalog SET "TimeZone" = 'UTC' AS $$
DECLARE
    b timestamptz := date_trunc(unit, from_ts);
    nb timestamptz;
    n bigint;
BEGIN
    IF unit NOT IN ('day', 'month') THEN
        RAISE EXCEPTION 'partition unit must be day or month' USING ERRCODE = '22023';
    END IF;
    created := 0; moved := 0; skipped := 0;
    WHILE b <= to_ts LOOP
        nb := b + ('1 ' || unit)::interval;
        IF NOT EXISTS (SELECT 1 FROM pg_inherits i, petcare.partition_range(i.inhrelid) r
                       WHERE i.inhparent = parent AND r.lo < nb AND r.hi > b) THEN
            n := petcare.partition_add(parent, b, nb,
                                       to_char(b, CASE unit WHEN 'day' THEN 'YYYYMMDD'
                                                            ELSE 'YYYYMM' END), may_move);
            IF n IS NULL THEN
                skipped := skipped + 1;
            ELSE
                created := created + 1; moved := moved + n;
            END IF;
        END IF;
        b := nb;
    END LOOP;
END $$;

-- Give every row the DEFAULT partition holds its own bucket (moving them, if may_move);
-- `left_over` is what the default still holds afterwards.
CREATE FUNCTION petcare.partitions_drain(parent regclass, unit text, may_move boolean,
                                         OUT created integer, OUT moved bigint,
                                         OUT left_over bigint)
    LANGUAGE plpgsql SET search_path = pg_catalog SET "TimeZone" = 'UTC' AS $$
DECLARE
    dflt regclass := petcare.partition_default(parent);
    key text;
    b timestamptz;
    r record;
BEGIN
    created := 0; moved := 0; left_over := 0;
    IF dflt IS NULL THEN
        RETURN;
    END IF;
    SELECT a.attname INTO key FROM pg_partitioned_table p
    JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0]
    WHERE p.partrelid = parent;
    FOR b IN EXECUTE format('SELECT DISTINCT date_trunc(%L, %I) FROM %s', unit, key, dflt) LOOP
        SELECT * INTO r FROM petcare.partitions_ensure(parent, unit, b, b, may_move);
        created := created + r.created; moved := moved + r.moved;
    END LOOP;
    EXECUTE format('SELECT count(*) FROM %s', dflt) INTO left_over;
END $$;

-- Drop the partitions of a range parent that end at or before `cutoff` (never the default).
CREATE FUNCTION petcare.partitions_drop_before(parent regclass, cutoff timestamptz)
    RETURNS integer
    LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE
    part regclass;
    n integer := 0;
BEGIN
    FOR part IN SELECT i.inhrelid::regclass
                FROM pg_inherits i, petcare.partition_range(i.inhrelid) r
                WHERE i.inhparent = parent AND r.hi <= cutoff ORDER BY r.lo LOOP
        EXECUTE format('DROP TABLE %s', part);
        n := n + 1;
    END LOOP;
    RETURN n;
END $$;

REVOKE EXECUTE ON FUNCTION petcare.partition_range(regclass),
    petcare.partition_default(regclass), petcare.partition_secure(regclass),
    petcare.partition_add(regclass, timestamptz, timestamptz, text, boolean),
    petcare.partitions_ensure(regclass, text, timestamptz, timestamptz, boolean),
    petcare.partitions_drain(regclass, text, boolean),
    petcare.partitions_drop_before(regclass, timestamptz) FROM PUBLIC;

-- metric_samples: the old table is read by its owner here, so FORCE is lifted first (under FORCE
-- with no owner policy the owner would see no row and copy nothing).
ALTER TABLE petcare.metric_samples NO FORCE ROW LEVEL SECURITY;
ALTER TABLE petcare.metric_samples RENAME TO metric_samples_unpartitioned;
ALTER SEQUENCE petcare.metric_samples_id_seq RENAME TO metric_samples_unpartitioned_id_seq;

CREATE TABLE petcare.metric_samples (
    id bigint GENERATED ALWAYS AS IDENTITY,
    connection_id bigint,
    metric text NOT NULL,
    at timestamptz NOT NULL,
    resolution_s integer NOT NULL DEFAULT 0
        CONSTRAINT metric_samples_resolution_s_check CHECK (resolution_s IN (0, 300)),
    value double precision NOT NULL,
    max_value double precision
) PARTITION BY LIST (resolution_s);
COMMENT ON TABLE petcare.metric_samples IS 'Time series: raw samples (resolution 0) and 5-minute averages (300). connection_id NULL: app or host metric. Partitioned: metric_samples_raw / metric_samples_5m, one partition a UTC day.';
CREATE TABLE petcare.metric_samples_raw PARTITION OF petcare.metric_samples
    FOR VALUES IN (0) PARTITION BY RANGE (at);
CREATE TABLE petcare.metric_samples_5m PARTITION OF petcare.metric_samples
    FOR VALUES IN (300) PARTITION BY RANGE (at);
CREATE TABLE petcare.metric_samples_raw_default PARTITION OF petcare.metric_samples_raw DEFAULT;
CREATE TABLE petcare.metric_samples_5m_default PARTITION OF petcare.metric_samples_5m DEFAULT;

ALTER TABLE petcare.statement_deltas NO FORCE ROW LEVEL SECURITY;
ALTER TABLE petcare.statement_deltas RENAME TO statement_deltas_unpartitioned;
ALTER SEQUENCE petcare.statement_deltas_id_seq RENAME TO statement_deltas_unpartitioned_id_seq;

CREATE TABLE petcare.statement_deltas (
    id bigint GENERATED ALWAYS AS IDENTITY,
    connection_id bigint NOT NULL,
    at timestamptz NOT NULL,
    queryid bigint NOT NULL,
    userid oid NOT NULL,
    calls bigint NOT NULL CONSTRAINT statement_deltas_calls_check CHECK (calls >= 0),
    total_ms double precision NOT NULL
        CONSTRAINT statement_deltas_total_ms_check CHECK (total_ms >= 0),
    rows bigint NOT NULL CONSTRAINT statement_deltas_rows_check CHECK (rows >= 0),
    blks_hit bigint NOT NULL CONSTRAINT statement_deltas_blks_hit_check CHECK (blks_hit >= 0),
    blks_read bigint NOT NULL CONSTRAINT statement_deltas_blks_read_check CHECK (blks_read >= 0)
) PARTITION BY RANGE (at);
COMMENT ON TABLE petcare.statement_deltas IS 'Per-round pg_stat_statements deltas. Partitioned: one partition a UTC day.';
CREATE TABLE petcare.statement_deltas_default PARTITION OF petcare.statement_deltas DEFAULT;

-- The days the existing rows need (the last 90 at most: older rows past any retention land in
-- the default and the first job run moves and then drops them) and three days ahead.
SELECT petcare.partitions_ensure('petcare.metric_samples_raw', 'day',
    greatest(coalesce(min(s.at), now()), now() - interval '90 days'), now() + interval '3 days',
    true) FROM petcare.metric_samples_unpartitioned s WHERE s.resolution_s = 0;
SELECT petcare.partitions_ensure('petcare.metric_samples_5m', 'day',
    greatest(coalesce(min(s.at), now()), now() - interval '90 days'), now() + interval '3 days',
    true) FROM petcare.metric_samples_unpartitioned s WHERE s.resolution_s = 300;
SELECT petcare.partitions_ensure('petcare.statement_deltas', 'day',
    greatest(coalesce(min(d.at), now()), now() - interval '90 days'), now() + interval '3 days',
    true) FROM petcare.statement_deltas_unpartitioned d;

INSERT INTO petcare.metric_samples (id, connection_id, metric, at, resolution_s, value, max_value)
    OVERRIDING SYSTEM VALUE
SELECT id, connection_id, metric, at, resolution_s, value, max_value
FROM petcare.metric_samples_unpartitioned;
INSERT INTO petcare.statement_deltas (id, connection_id, at, queryid, userid, calls, total_ms,
    rows, blks_hit, blks_read) OVERRIDING SYSTEM VALUE
SELECT id, connection_id, at, queryid, userid, calls, total_ms, rows, blks_hit, blks_read
FROM petcare.statement_deltas_unpartitioned;
SELECT setval(pg_get_serial_sequence('petcare.metric_samples', 'id'),
              coalesce(max(id), 1), max(id) IS NOT NULL) FROM petcare.metric_samples;
SELECT setval(pg_get_serial_sequence('petcare.statement_deltas', 'id'),
              coalesce(max(id), 1), max(id) IS NOT NULL) FROM petcare.statement_deltas;
DROP TABLE petcare.metric_samples_unpartitioned;
DROP TABLE petcare.statement_deltas_unpartitioned;

-- Keys and indexes of 0007 (a unique key of a partitioned table must hold the partition keys).
ALTER TABLE petcare.metric_samples ADD CONSTRAINT metric_samples_pkey
    PRIMARY KEY (id, resolution_s, at);
ALTER TABLE petcare.metric_samples ADD CONSTRAINT metric_samples_connection_id_fkey
    FOREIGN KEY (connection_id) REFERENCES petcare.connections (id) ON DELETE CASCADE;
CREATE UNIQUE INDEX metric_samples_key ON petcare.metric_samples
    (connection_id, metric, resolution_s, at) NULLS NOT DISTINCT;
CREATE INDEX metric_samples_at_idx ON petcare.metric_samples (at);
ALTER TABLE petcare.statement_deltas ADD CONSTRAINT statement_deltas_pkey PRIMARY KEY (id, at);
ALTER TABLE petcare.statement_deltas ADD CONSTRAINT statement_deltas_connection_id_fkey
    FOREIGN KEY (connection_id) REFERENCES petcare.connections (id) ON DELETE CASCADE;
CREATE INDEX statement_deltas_conn_at_idx ON petcare.statement_deltas (connection_id, at);
CREATE INDEX statement_deltas_at_idx ON petcare.statement_deltas (at);

-- The two sub-parents and the defaults are closed like every partition.
SELECT petcare.partition_secure(p) FROM unnest(ARRAY[
    'petcare.metric_samples_raw', 'petcare.metric_samples_5m',
    'petcare.metric_samples_raw_default', 'petcare.metric_samples_5m_default',
    'petcare.statement_deltas_default']::regclass[]) p;

-- Grants and RLS of the parents exactly as in 0007.
GRANT SELECT, INSERT, UPDATE, DELETE ON petcare.metric_samples, petcare.statement_deltas
    TO petcare_app;
ALTER TABLE petcare.metric_samples ENABLE ROW LEVEL SECURITY;
ALTER TABLE petcare.metric_samples FORCE ROW LEVEL SECURITY;
CREATE POLICY metric_samples_select ON petcare.metric_samples FOR SELECT TO petcare_app
    USING (connection_id IN (SELECT petcare.usable_connection_ids())
           OR (connection_id IS NULL AND (SELECT petcare.current_user_id()) IS NOT NULL));
CREATE POLICY metric_samples_insert ON petcare.metric_samples FOR INSERT TO petcare_app
    WITH CHECK ((SELECT petcare.is_admin()));
CREATE POLICY metric_samples_update ON petcare.metric_samples FOR UPDATE TO petcare_app
    USING ((SELECT petcare.is_admin())) WITH CHECK ((SELECT petcare.is_admin()));
CREATE POLICY metric_samples_delete ON petcare.metric_samples FOR DELETE TO petcare_app
    USING ((SELECT petcare.is_admin()));

ALTER TABLE petcare.statement_deltas ENABLE ROW LEVEL SECURITY;
ALTER TABLE petcare.statement_deltas FORCE ROW LEVEL SECURITY;
CREATE POLICY statement_deltas_select ON petcare.statement_deltas FOR SELECT TO petcare_app
    USING (connection_id IN (SELECT petcare.usable_connection_ids()));
CREATE POLICY statement_deltas_insert ON petcare.statement_deltas FOR INSERT TO petcare_app
    WITH CHECK ((SELECT petcare.is_admin()));
CREATE POLICY statement_deltas_update ON petcare.statement_deltas FOR UPDATE TO petcare_app
    USING ((SELECT petcare.is_admin())) WITH CHECK ((SELECT petcare.is_admin()));
CREATE POLICY statement_deltas_delete ON petcare.statement_deltas FOR DELETE TO petcare_app
    USING ((SELECT petcare.is_admin()));

-- The retention job's entry point (an admin identity: the job's system actor): move what
-- reached a default into its day, create `ahead_days` days ahead, drop the days past retention
-- (raw samples: raw_keep; 5-minute averages and statement deltas: keep). A short lock_timeout:
-- creating or dropping a partition locks its parent, and a long reader must delay the job (it
-- retries next round), not every writer queued behind it.
CREATE FUNCTION petcare.monitoring_partitions_maintain(raw_keep interval, keep interval,
                                                       ahead_days integer,
                                                       OUT created integer, OUT moved bigint,
                                                       OUT dropped integer)
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog SET "TimeZone" = 'UTC'
    SET lock_timeout = '5s' AS $$
DECLARE
    parent regclass;
    d record;
    e record;
BEGIN
    IF NOT petcare.is_admin() THEN
        RAISE EXCEPTION 'only an admin may maintain partitions' USING ERRCODE = '42501';
    END IF;
    IF raw_keep < interval '1 hour' OR keep < interval '1 day' OR ahead_days NOT BETWEEN 1 AND 31
    THEN
        RAISE EXCEPTION 'retention below its minimum or ahead_days outside 1..31'
            USING ERRCODE = '22023';
    END IF;
    created := 0; moved := 0; dropped := 0;
    FOREACH parent IN ARRAY ARRAY['petcare.metric_samples_raw', 'petcare.metric_samples_5m',
                                  'petcare.statement_deltas']::regclass[] LOOP
        SELECT * INTO d FROM petcare.partitions_drain(parent, 'day', true);
        SELECT * INTO e FROM petcare.partitions_ensure(parent, 'day', now(),
                                       now() + make_interval(days => ahead_days), true);
        created := created + d.created + e.created;
        moved := moved + d.moved + e.moved;
        dropped := dropped + petcare.partitions_drop_before(parent, now() - CASE
            WHEN parent = 'petcare.metric_samples_raw'::regclass THEN raw_keep ELSE keep END);
    END LOOP;
END $$;
REVOKE EXECUTE ON FUNCTION petcare.monitoring_partitions_maintain(interval, interval, integer)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION petcare.monitoring_partitions_maintain(interval, interval, integer)
    TO petcare_app;

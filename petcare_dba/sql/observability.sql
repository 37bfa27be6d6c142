-- name: obs_audit_lag
-- Audit lag for /metrics: statement intents of the last day still without an outcome, the age of the oldest, and the age of the newest audit row.
SELECT count(*)::bigint AS open_intents,
       coalesce(extract(epoch FROM clock_timestamp() - min(i.at)), 0)::float8 AS oldest_open_s,
       (SELECT extract(epoch FROM clock_timestamp() - max(a.at))::float8
        FROM petcare.audit_log a) AS newest_row_age_s
FROM petcare.audit_log i
WHERE i.outcome = 'intent' AND i.at > now() - interval '1 day'
  AND NOT EXISTS (SELECT 1 FROM petcare.audit_log o
                  WHERE o.event_id = i.event_id AND o.outcome <> 'intent')

-- name: obs_latest_samples
-- The newest raw sample of every metric per connection (NULL connection: app or host metric) from the last hour, as the collector stored it: /metrics reads these and never queries a target.
SELECT DISTINCT ON (s.connection_id, s.metric)
       c.name AS connection, s.metric, s.value,
       extract(epoch FROM now() - s.at)::float8 AS age_s
FROM petcare.metric_samples s
LEFT JOIN petcare.connections c ON c.id = s.connection_id
WHERE s.resolution_s = 0 AND s.at > now() - interval '1 hour'
  AND (s.connection_id IS NULL OR c.id IS NOT NULL)
ORDER BY s.connection_id, s.metric, s.at DESC

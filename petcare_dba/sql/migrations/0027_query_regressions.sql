-- Query-regression alerts (issue 20, part 3): a rule kind besides metric thresholds. A rule of
-- kind 'query_regression' is evaluated per statement (queryid and user of one connection) from
-- the collector's statement deltas, so one rule can have several firing events on a connection:
-- events get a `subject` (the statement key; '' for metric rules) and a `detail` (the statement
-- text, before/after figures and its plan), and the one-firing index takes the subject in. No new
-- table, so no new policy: alert_rules and alert_events keep their RLS (ENABLE + FORCE).
ALTER TABLE petcare.alert_rules ADD COLUMN kind text NOT NULL DEFAULT 'metric'
    CHECK (kind IN ('metric', 'query_regression'));
ALTER TABLE petcare.alert_events ADD COLUMN subject text NOT NULL DEFAULT '';
ALTER TABLE petcare.alert_events ADD COLUMN detail jsonb;
DROP INDEX petcare.alert_events_one_firing;
CREATE UNIQUE INDEX alert_events_one_firing ON petcare.alert_events
    (rule_id, connection_id, subject) NULLS NOT DISTINCT WHERE state = 'firing';

-- The owner has no policy on alert_rules, so FORCE is lifted for the insert (as in 0014).
ALTER TABLE petcare.alert_rules NO FORCE ROW LEVEL SECURITY;
INSERT INTO petcare.alert_rules (name, metric, comparator, threshold, duration_s, severity,
                                 scope, description, kind) VALUES
    ('query-regression', 'statement_mean_ratio', '>=', 2, 0, 'warning', 'connection',
     'A statement''s mean time over the recent window rose past regression_ratio times its '
     'own baseline (settings regression_*; the threshold here is not used).', 'query_regression');
ALTER TABLE petcare.alert_rules FORCE ROW LEVEL SECURITY;

-- The security events of the audit log that were only visible on the Audit page become alert
-- rules like the failed-login and refused-statement bursts: lockouts (a sign-in refused because
-- the account is locked, in the last 5 minutes) and a broken audit hash chain (the collector
-- verifies the chain once an hour and at start; `audit_chain_broken` is 1 when it fails).
-- The owner has no policy on alert_rules (only dba/admin users write them), so FORCE is lifted
-- for the two inserts and restored in the same transaction.
ALTER TABLE petcare.alert_rules NO FORCE ROW LEVEL SECURITY;
INSERT INTO petcare.alert_rules (name, metric, comparator, threshold, duration_s, severity,
                                 scope, description) VALUES
    ('lockout', 'app_lockouts_5m', '>', 0, 0, 'warning', 'app',
     'Sign-ins refused because the account is locked, in the last 5 minutes.'),
    ('audit-chain-break', 'audit_chain_broken', '>', 0, 0, 'critical', 'app',
     'The audit log''s hash chain does not verify: a row was altered or removed.');
ALTER TABLE petcare.alert_rules FORCE ROW LEVEL SECURITY;

-- audit_reconcile() (a SECURITY DEFINER owned by petcare_owner) must turn execution rows left
-- 'running' by a dead process into 'unknown'. RLS is FORCEd, so the owner needs policies; they
-- are as narrow as that one job: see only 'running' rows, and only write 'unknown' (an UPDATE
-- also checks the new row against the SELECT policy, hence both values there).
CREATE POLICY runs_reconcile_select ON petcare.execucoes_scripts FOR SELECT TO petcare_owner
    USING (outcome IN ('running', 'unknown'));
CREATE POLICY runs_reconcile_update ON petcare.execucoes_scripts FOR UPDATE TO petcare_owner
    USING (outcome = 'running') WITH CHECK (outcome = 'unknown');

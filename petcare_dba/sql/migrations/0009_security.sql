-- Security hardening (issue 8): one-time codes that hand a session token to the server route
-- that sets the HttpOnly session cookie, revocation by token (logout from the cookie route), and
-- TOTP second factor access with replay protection. Secrets stay out of petcare_app's reach:
-- it may write a sealed TOTP secret but reads it only through a definer that checks identity.

CREATE TABLE petcare.session_handoffs (
    code_hash bytea PRIMARY KEY,
    user_id bigint NOT NULL REFERENCES petcare.users (id) ON DELETE CASCADE,
    session_id bigint NOT NULL REFERENCES petcare.sessions (id) ON DELETE CASCADE,
    token_enc bytea NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX session_handoffs_user_id_idx ON petcare.session_handoffs (user_id);
CREATE INDEX session_handoffs_session_id_idx ON petcare.session_handoffs (session_id);
COMMENT ON TABLE petcare.session_handoffs IS
    'Single-use, short-lived codes exchanged by /auth/session for the session cookie; the token is sealed.';

GRANT SELECT, INSERT ON petcare.session_handoffs TO petcare_app;
ALTER TABLE petcare.session_handoffs ENABLE ROW LEVEL SECURITY;
ALTER TABLE petcare.session_handoffs FORCE ROW LEVEL SECURITY;
CREATE POLICY session_handoffs_definer ON petcare.session_handoffs TO petcare_owner
    USING (true) WITH CHECK (true);
-- A user may hand off only one of their own sessions.
CREATE POLICY session_handoffs_insert ON petcare.session_handoffs FOR INSERT TO petcare_app
    WITH CHECK (user_id = (SELECT petcare.current_user_id())
                AND session_id IN (SELECT s.id FROM petcare.sessions s
                                   WHERE s.user_id = (SELECT petcare.current_user_id())
                                     AND s.revoked_at IS NULL));

-- The login page waits until the browser has exchanged its code (its row is gone).
CREATE POLICY session_handoffs_select ON petcare.session_handoffs FOR SELECT TO petcare_app
    USING (user_id = (SELECT petcare.current_user_id()));

-- Take a code: it is deleted whatever happens (single use) and returned only when unexpired.
CREATE FUNCTION petcare.session_handoff_take(p_code_hash bytea)
    RETURNS TABLE (session_id bigint, token_enc bytea)
    LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, petcare AS $$
    DELETE FROM petcare.session_handoffs h WHERE h.expires_at < now() - interval '1 hour';
    WITH taken AS (
        DELETE FROM petcare.session_handoffs h WHERE h.code_hash = p_code_hash
        RETURNING h.session_id, h.token_enc, h.expires_at)
    SELECT t.session_id, t.token_enc FROM taken t WHERE t.expires_at > now() $$;

-- Revoke the session a token names (the cookie route has a token but no identity).
CREATE FUNCTION petcare.session_revoke_token(p_token_hash bytea) RETURNS boolean
    LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, petcare AS $$
    WITH revoked AS (
        UPDATE petcare.sessions s SET revoked_at = now()
        WHERE s.token_hash = p_token_hash AND s.revoked_at IS NULL RETURNING s.id)
    SELECT EXISTS (SELECT 1 FROM revoked) $$;

-- TOTP: the last accepted time step, so a code cannot be replayed within its window.
ALTER TABLE petcare.users ADD COLUMN totp_last_step bigint;

-- The sealed TOTP secret of the user whose password was just verified (identity = that user).
CREATE FUNCTION petcare.auth_totp(p_user_id bigint)
    RETURNS TABLE (totp_secret_enc bytea, totp_last_step bigint)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, petcare AS $$
    SELECT u.totp_secret_enc, u.totp_last_step FROM petcare.users u
    WHERE u.id = p_user_id AND u.id = petcare.current_user_id() AND u.totp_enabled $$;

-- Accept a TOTP time step once: true when it is newer than the last accepted one.
CREATE FUNCTION petcare.auth_totp_accept(p_user_id bigint, p_step bigint) RETURNS boolean
    LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, petcare AS $$
    WITH accepted AS (
        UPDATE petcare.users u SET totp_last_step = p_step
        WHERE u.id = p_user_id AND u.id = petcare.current_user_id()
          AND (u.totp_last_step IS NULL OR u.totp_last_step < p_step) RETURNING u.id)
    SELECT EXISTS (SELECT 1 FROM accepted) $$;

-- OIDC (st.login): the enabled user an identity maps to, by subject, else by verified e-mail
-- when that user has no subject bound yet. Unknown identities map to nothing.
CREATE FUNCTION petcare.auth_oidc_lookup(p_subject text, p_email text)
    RETURNS TABLE (id bigint, username text, role text, language text, by_email boolean)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, petcare AS $$
    SELECT u.id, u.username, u.role, u.language, false FROM petcare.users u
    WHERE u.oidc_subject = p_subject AND NOT u.disabled
    UNION ALL
    SELECT u.id, u.username, u.role, u.language, true FROM petcare.users u
    WHERE p_email IS NOT NULL AND lower(u.email) = lower(p_email) AND u.oidc_subject IS NULL
      AND NOT u.disabled
      AND NOT EXISTS (SELECT 1 FROM petcare.users s WHERE s.oidc_subject = p_subject)
    LIMIT 1 $$;

-- The newest row of the audit chain (admins), exported to append-only storage (reliability A5).
CREATE FUNCTION petcare.audit_chain_tip(OUT last_seq bigint, OUT last_hash text)
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, petcare AS $$
BEGIN
    IF NOT petcare.is_admin() THEN
        RAISE EXCEPTION 'only an admin may read the audit chain head' USING ERRCODE = '42501';
    END IF;
    SELECT h.last_seq, h.last_hash INTO last_seq, last_hash FROM petcare.audit_chain_head h;
END $$;

REVOKE EXECUTE ON FUNCTION petcare.session_handoff_take(bytea),
    petcare.session_revoke_token(bytea), petcare.auth_totp(bigint),
    petcare.auth_totp_accept(bigint, bigint), petcare.audit_chain_tip(),
    petcare.auth_oidc_lookup(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION petcare.session_handoff_take(bytea),
    petcare.session_revoke_token(bytea), petcare.auth_totp(bigint),
    petcare.auth_totp_accept(bigint, bigint), petcare.audit_chain_tip(),
    petcare.auth_oidc_lookup(text, text) TO petcare_app;

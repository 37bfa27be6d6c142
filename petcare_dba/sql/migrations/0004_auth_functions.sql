-- Login and session resolution happen before an identity exists, so they go through narrow
-- SECURITY DEFINER functions instead of policies that would have to open users to everyone.

CREATE FUNCTION petcare.auth_lookup(p_username text)
    RETURNS TABLE (id bigint, username text, role text, password_hash text, disabled boolean,
                   locked_until timestamptz, totp_enabled boolean, language text)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, petcare
    AS $$ SELECT u.id, u.username, u.role, u.password_hash, u.disabled, u.locked_until,
                 u.totp_enabled, u.language
          FROM petcare.users u WHERE lower(u.username) = lower(p_username) $$;

-- Records one attempt and returns the failure counts that drive lockout and throttling.
CREATE FUNCTION petcare.auth_record_attempt(
    p_username text, p_client_addr text, p_succeeded boolean, p_reason text,
    p_user_window interval, p_addr_window interval,
    OUT user_failures bigint, OUT addr_failures bigint)
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, petcare AS $$
BEGIN
    INSERT INTO petcare.login_attempts (username, client_addr, succeeded, reason)
    VALUES (left(p_username, 200), p_client_addr, p_succeeded, p_reason);
    SELECT count(*) INTO user_failures FROM petcare.login_attempts a
    WHERE lower(a.username) = lower(p_username) AND NOT a.succeeded
      AND a.at > now() - p_user_window
      AND a.at > coalesce((SELECT max(s.at) FROM petcare.login_attempts s
                           WHERE lower(s.username) = lower(p_username)
                             AND (s.succeeded OR s.reason = 'unlocked')), '-infinity');
    SELECT count(*) INTO addr_failures FROM petcare.login_attempts a
    WHERE a.client_addr IS NOT DISTINCT FROM p_client_addr AND NOT a.succeeded
      AND a.at > now() - p_addr_window;
END $$;

-- Failure counts without recording (checked before verifying a password).
CREATE FUNCTION petcare.auth_failures(
    p_username text, p_client_addr text, p_user_window interval, p_addr_window interval,
    OUT user_failures bigint, OUT addr_failures bigint)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, petcare AS $$
    SELECT (SELECT count(*) FROM petcare.login_attempts a
            WHERE lower(a.username) = lower(p_username) AND NOT a.succeeded
              AND a.at > now() - p_user_window
              AND a.at > coalesce((SELECT max(s.at) FROM petcare.login_attempts s
                                   WHERE lower(s.username) = lower(p_username)
                                     AND (s.succeeded OR s.reason = 'unlocked')), '-infinity')),
           (SELECT count(*) FROM petcare.login_attempts a
            WHERE a.client_addr IS NOT DISTINCT FROM p_client_addr AND NOT a.succeeded
              AND a.at > now() - p_addr_window) $$;

-- Resolve a session token hash to its user, enforcing idle and absolute expiry, revocation and
-- disabled users; touches last_seen_at so idle expiry slides.
CREATE FUNCTION petcare.session_resolve(p_token_hash bytea, p_idle interval)
    RETURNS TABLE (session_id bigint, user_id bigint, username text, role text,
                   language text, display_name text)
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, petcare AS $$
BEGIN
    RETURN QUERY
    UPDATE petcare.sessions s SET last_seen_at = now()
    FROM petcare.users u
    WHERE s.token_hash = p_token_hash AND u.id = s.user_id
      AND s.revoked_at IS NULL AND s.expires_at > now() AND s.last_seen_at > now() - p_idle
      AND NOT u.disabled AND s.created_at >= u.password_changed_at
    RETURNING s.id, u.id, u.username, u.role, u.language, u.display_name;
END $$;

-- The first admin is created by the migrator; afterwards admins create users through RLS.
CREATE FUNCTION petcare.admin_count() RETURNS bigint
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, petcare
    AS $$ SELECT count(*) FROM petcare.users WHERE role = 'admin' AND NOT disabled $$;

REVOKE EXECUTE ON FUNCTION petcare.auth_lookup(text),
    petcare.auth_record_attempt(text, text, boolean, text, interval, interval),
    petcare.auth_failures(text, text, interval, interval),
    petcare.session_resolve(bytea, interval), petcare.admin_count() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION petcare.auth_lookup(text),
    petcare.auth_record_attempt(text, text, boolean, text, interval, interval),
    petcare.auth_failures(text, text, interval, interval),
    petcare.session_resolve(bytea, interval), petcare.admin_count() TO petcare_app;

-- Issue 13 (login, identity, administration): a lockout policy that slows guessing without letting
-- a stranger lock an account out, a login path that reads a password hash only together with a
-- recorded, throttled attempt, and a database guard that keeps at least one enabled admin.

-- Attempts that are not guesses: refused while a delay runs, and admin unlocks.
CREATE FUNCTION petcare.login_is_guess(p_succeeded boolean, p_reason text) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT NOT p_succeeded AND p_reason IS DISTINCT FROM 'locked'
                 AND p_reason IS DISTINCT FROM 'unlocked' $$;

CREATE INDEX login_attempts_user_addr_at_idx
    ON petcare.login_attempts (lower(username), client_addr, at);

-- The lockout policy (docs/security.md): how long the next attempt of (account, address) must
-- wait, 0 when it may be evaluated now.
--  * pair: after p_free guesses of one account from one address (since that pair's last success
--    or the account's last admin unlock, within p_window) each further guess waits
--    p_base_s * 2^(n - p_free) seconds after the previous one, capped at p_cap_s;
--  * account: beyond p_account_ceiling guesses on the account in the last hour (all addresses),
--    addresses that never signed in to it get one evaluated attempt per p_account_slow_s;
--  * address: an address with p_addr_threshold guesses in the last hour (any account) waits
--    until the oldest of them leaves the hour. A NULL address has no address bucket.
-- A success from address Y never resets X's pair, and X's failures never delay Y's pair.
CREATE FUNCTION petcare.auth_gate(
    p_username text, p_client_addr text, p_window interval, p_free integer,
    p_base_s double precision, p_cap_s double precision, p_account_ceiling integer,
    p_account_slow_s double precision, p_addr_threshold integer,
    OUT wait_s double precision, OUT pair_failures bigint, OUT account_failures bigint,
    OUT addr_failures bigint)
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, petcare AS $$
DECLARE
    v_user text := lower(left(p_username, 200));
    v_unlock timestamptz;
    v_pair_reset timestamptz;
    v_last timestamptz;
    v_at timestamptz;
BEGIN
    -- The knobs come from the app's settings; floors keep a caller that passes absurd values
    -- (a hostile holder of the runtime credential) from switching the policy off.
    p_window := greatest(p_window, interval '15 minutes');
    p_free := least(greatest(p_free, 1), 20);
    p_base_s := greatest(p_base_s, 0.5);
    p_cap_s := greatest(p_cap_s, p_base_s);
    p_account_ceiling := least(greatest(p_account_ceiling, 1), 1000);
    p_account_slow_s := greatest(p_account_slow_s, 1);
    p_addr_threshold := least(greatest(p_addr_threshold, 1), 1000);
    wait_s := 0;
    SELECT coalesce(max(a.at), '-infinity') INTO v_unlock FROM petcare.login_attempts a
    WHERE lower(a.username) = v_user AND a.reason = 'unlocked';
    SELECT greatest(v_unlock, coalesce(max(a.at), '-infinity')) INTO v_pair_reset
    FROM petcare.login_attempts a
    WHERE lower(a.username) = v_user AND a.succeeded
      AND a.client_addr IS NOT DISTINCT FROM p_client_addr;
    SELECT count(*), max(a.at) INTO pair_failures, v_last FROM petcare.login_attempts a
    WHERE lower(a.username) = v_user AND a.client_addr IS NOT DISTINCT FROM p_client_addr
      AND petcare.login_is_guess(a.succeeded, a.reason)
      AND a.at > now() - p_window AND a.at > v_pair_reset;
    IF pair_failures >= p_free THEN
        wait_s := greatest(wait_s, extract(epoch FROM v_last - clock_timestamp())
            + least(p_cap_s, p_base_s * power(2::double precision,
                                             least(pair_failures - p_free, 40))));
    END IF;

    SELECT count(*), max(a.at) INTO account_failures, v_last FROM petcare.login_attempts a
    WHERE lower(a.username) = v_user AND petcare.login_is_guess(a.succeeded, a.reason)
      AND a.at > now() - interval '1 hour' AND a.at > v_unlock;
    IF account_failures >= p_account_ceiling AND NOT EXISTS (
        SELECT 1 FROM petcare.login_attempts a
        WHERE p_client_addr IS NOT NULL AND lower(a.username) = v_user AND a.succeeded
          AND a.client_addr = p_client_addr AND a.at > now() - interval '30 days') THEN
        wait_s := greatest(wait_s,
                           extract(epoch FROM v_last - clock_timestamp()) + p_account_slow_s);
    END IF;

    addr_failures := 0;
    IF p_client_addr IS NOT NULL THEN
        SELECT count(*) INTO addr_failures FROM petcare.login_attempts a
        WHERE a.client_addr = p_client_addr AND petcare.login_is_guess(a.succeeded, a.reason)
          AND a.at > now() - interval '1 hour';
        IF addr_failures >= p_addr_threshold THEN
            SELECT a.at INTO v_at FROM petcare.login_attempts a
            WHERE a.client_addr = p_client_addr AND petcare.login_is_guess(a.succeeded, a.reason)
              AND a.at > now() - interval '1 hour'
            ORDER BY a.at DESC OFFSET greatest(p_addr_threshold - 1, 0) LIMIT 1;
            wait_s := greatest(wait_s, extract(epoch FROM v_at + interval '1 hour'
                                                       - clock_timestamp()));
        END IF;
    END IF;
    wait_s := greatest(wait_s, 0);
END $$;

-- The only way the runtime role reads a password hash: the gate is checked and the attempt is
-- recorded in the same call. While a delay runs the hash is not returned (the attempt is recorded
-- as 'locked'); otherwise the attempt is recorded as 'verifying', which counts as a failed guess
-- until auth_finish turns it into a success. Reading every user's hash therefore costs one
-- recorded, throttled guess per user and leaves a trail the failed-login alerts see.
CREATE FUNCTION petcare.auth_begin(
    p_username text, p_client_addr text, p_window interval, p_free integer,
    p_base_s double precision, p_cap_s double precision, p_account_ceiling integer,
    p_account_slow_s double precision, p_addr_threshold integer)
    RETURNS TABLE (attempt_id bigint, wait_s double precision, pair_failures bigint,
                   id bigint, username text, role text, password_hash text, disabled boolean,
                   totp_enabled boolean, language text)
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, petcare AS $$
DECLARE
    g record;
    v_attempt bigint;
BEGIN
    SELECT * INTO g FROM petcare.auth_gate(p_username, p_client_addr, p_window, p_free, p_base_s,
        p_cap_s, p_account_ceiling, p_account_slow_s, p_addr_threshold);
    INSERT INTO petcare.login_attempts (username, client_addr, succeeded, reason)
    VALUES (left(p_username, 200), left(p_client_addr, 100), false,
            CASE WHEN g.wait_s > 0 THEN 'locked' ELSE 'verifying' END)
    RETURNING login_attempts.id INTO v_attempt;
    IF g.wait_s > 0 THEN
        RETURN QUERY SELECT v_attempt, g.wait_s, g.pair_failures, NULL::bigint, NULL::text,
            NULL::text, NULL::text, NULL::boolean, NULL::boolean, NULL::text;
        RETURN;
    END IF;
    RETURN QUERY
    SELECT v_attempt, g.wait_s, g.pair_failures + 1, u.id, u.username, u.role, u.password_hash,
           u.disabled, u.totp_enabled, u.language
    FROM (SELECT 1) AS one
    LEFT JOIN petcare.users u ON lower(u.username) = lower(p_username);
END $$;

-- Close an attempt opened by auth_begin (once, within five minutes); returns the guesses of that
-- account from that address that now count.
CREATE FUNCTION petcare.auth_finish(p_attempt_id bigint, p_succeeded boolean, p_reason text,
                                    p_window interval)
    RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, petcare AS $$
DECLARE
    a record;
    n bigint;
BEGIN
    UPDATE petcare.login_attempts l SET succeeded = p_succeeded, reason = p_reason
    WHERE l.id = p_attempt_id AND l.reason = 'verifying' AND l.at > now() - interval '5 minutes'
      AND (p_reason IS NULL OR p_reason NOT IN ('locked', 'unlocked', 'verifying'))
    RETURNING l.username, l.client_addr INTO a;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    SELECT count(*) INTO n FROM petcare.login_attempts l
    WHERE lower(l.username) = lower(a.username)
      AND l.client_addr IS NOT DISTINCT FROM a.client_addr
      AND petcare.login_is_guess(l.succeeded, l.reason) AND l.at > now() - p_window
      AND l.at > (SELECT coalesce(max(s.at), '-infinity') FROM petcare.login_attempts s
                  WHERE lower(s.username) = lower(a.username)
                    AND (s.reason = 'unlocked' OR (s.succeeded
                         AND s.client_addr IS NOT DISTINCT FROM a.client_addr)));
    RETURN n;
END $$;

-- The old lookup handed any user's hash to the runtime role without recording anything.
REVOKE EXECUTE ON FUNCTION petcare.auth_lookup(text) FROM petcare_app;
DROP FUNCTION petcare.auth_lookup(text);

REVOKE EXECUTE ON FUNCTION
    petcare.auth_gate(text, text, interval, integer, double precision, double precision, integer,
                      double precision, integer),
    petcare.auth_begin(text, text, interval, integer, double precision, double precision, integer,
                       double precision, integer),
    petcare.auth_finish(bigint, boolean, text, interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    petcare.login_is_guess(boolean, text),
    petcare.auth_gate(text, text, interval, integer, double precision, double precision, integer,
                      double precision, integer),
    petcare.auth_begin(text, text, interval, integer, double precision, double precision, integer,
                       double precision, integer),
    petcare.auth_finish(bigint, boolean, text, interval) TO petcare_app;

-- At least one enabled admin, always: demoting, disabling or deleting the last one is refused by
-- the database, whoever asks (app, CLI, psql as the runtime role). Concurrent changes serialise on
-- an advisory lock, and each check reads a fresh snapshot, so two admins demoting each other at
-- once cannot both succeed. SQLSTATE PCA01 is translated at db/errors.py.
CREATE FUNCTION petcare.users_keep_admin() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, petcare AS $$
BEGIN
    IF OLD.role = 'admin' AND NOT OLD.disabled
       AND (TG_OP = 'DELETE' OR NEW.role <> 'admin' OR NEW.disabled) THEN
        PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('petcare.users.admins'));
        IF NOT EXISTS (SELECT 1 FROM petcare.users u
                       WHERE u.role = 'admin' AND NOT u.disabled AND u.id <> OLD.id) THEN
            RAISE EXCEPTION 'the last enabled admin cannot be demoted, disabled or deleted'
                USING ERRCODE = 'PCA01',
                      HINT = 'make another user an admin first';
        END IF;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END $$;
REVOKE EXECUTE ON FUNCTION petcare.users_keep_admin() FROM PUBLIC;
CREATE TRIGGER users_keep_admin BEFORE UPDATE OF role, disabled OR DELETE ON petcare.users
    FOR EACH ROW EXECUTE FUNCTION petcare.users_keep_admin();

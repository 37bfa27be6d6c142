-- Issue 13 (the hash lookup): the argon2 digest never leaves the database. auth_begin hands the
-- login path only the parameters and salt of the stored hash (the encoded hash without its final
-- `$<digest>`), or a stable fake prefix for an unknown username; the app computes the digest from
-- the password and auth_verify compares it with the stored one inside the database. Someone who
-- holds the runtime credential can still make throttled, recorded guesses, but can no longer
-- carry a hash away and crack it offline.

-- A per-install secret for the fake salts of unknown usernames. Only the definer functions read
-- it: the runtime role has no grant and no policy, so it cannot recompute a fake salt and tell an
-- unknown username from a known one.
CREATE TABLE petcare.auth_install_secret (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    secret bytea NOT NULL CHECK (length(secret) >= 32)
);
COMMENT ON TABLE petcare.auth_install_secret IS
    'Per-install secret for the fake argon2 salts of unknown usernames; definer functions only.';
-- gen_random_uuid draws from pg_strong_random: two of them give 244 random bits.
INSERT INTO petcare.auth_install_secret (secret)
VALUES (decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex'));
ALTER TABLE petcare.auth_install_secret ENABLE ROW LEVEL SECURITY;
ALTER TABLE petcare.auth_install_secret FORCE ROW LEVEL SECURITY;
CREATE POLICY auth_install_secret_definer ON petcare.auth_install_secret TO petcare_owner
    USING (true) WITH CHECK (true);
REVOKE ALL ON petcare.auth_install_secret FROM PUBLIC;

-- What the login path may see of a user's hash: `$argon2id$v=19$m=..,t=..,p=..$<salt>` and the
-- digest length. For an unknown username (or a user without a password) the prefix has the
-- parameters most users' hashes have and a salt derived from the username and the install
-- secret, so repeated calls agree and its shape is that of a real one.
CREATE FUNCTION petcare.auth_hash_prefix(p_username text, OUT hash_prefix text,
                                         OUT hash_len integer)
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, petcare AS $$
DECLARE
    v_hash text;
    v_params text;
BEGIN
    SELECT u.password_hash INTO v_hash FROM petcare.users u
    WHERE lower(u.username) = lower(left(p_username, 200)) AND u.password_hash LIKE '$argon2%';
    IF v_hash IS NOT NULL THEN
        hash_prefix := regexp_replace(v_hash, '\$[^$]*$', '');
        hash_len := (length(substring(v_hash FROM '\$([^$]*)$')) * 3) / 4;
        RETURN;
    END IF;
    SELECT regexp_replace(u.password_hash, '\$[^$]*\$[^$]*$', ''),
           (length(substring(u.password_hash FROM '\$([^$]*)$')) * 3) / 4
    INTO v_params, hash_len
    FROM petcare.users u WHERE u.password_hash LIKE '$argon2id$v=19$%'
    GROUP BY 1, 2 ORDER BY count(*) DESC, 1 DESC LIMIT 1;
    SELECT coalesce(v_params, '$argon2id$v=19$m=65536,t=3,p=4') || '$'
           || rtrim(encode(substring(sha256(s.secret || convert_to(lower(left(p_username, 200)),
                                                                  'UTF8')) FROM 1 FOR 16),
                           'base64'), '=')
    INTO hash_prefix FROM petcare.auth_install_secret s;
    hash_len := coalesce(hash_len, 32);
END $$;

-- The guesses of an account from an address that count now (since that pair's last success or
-- the account's last admin unlock, within p_window).
CREATE FUNCTION petcare.auth_pair_guesses(p_username text, p_client_addr text,
                                          p_window interval) RETURNS bigint
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, petcare AS $$
    SELECT count(*) FROM petcare.login_attempts l
    WHERE lower(l.username) = lower(p_username)
      AND l.client_addr IS NOT DISTINCT FROM p_client_addr
      AND petcare.login_is_guess(l.succeeded, l.reason) AND l.at > now() - p_window
      AND l.at > (SELECT coalesce(max(s.at), '-infinity') FROM petcare.login_attempts s
                  WHERE lower(s.username) = lower(p_username)
                    AND (s.reason = 'unlocked' OR (s.succeeded
                         AND s.client_addr IS NOT DISTINCT FROM p_client_addr)))
$$;

-- Replaces 0015's auth_begin, which returned the whole hash. Same gate, same recording; the
-- result no longer says whether the username exists.
REVOKE EXECUTE ON FUNCTION
    petcare.auth_begin(text, text, interval, integer, double precision, double precision, integer,
                       double precision, integer) FROM petcare_app;
DROP FUNCTION petcare.auth_begin(text, text, interval, integer, double precision,
                                 double precision, integer, double precision, integer);
CREATE FUNCTION petcare.auth_begin(
    p_username text, p_client_addr text, p_window interval, p_free integer,
    p_base_s double precision, p_cap_s double precision, p_account_ceiling integer,
    p_account_slow_s double precision, p_addr_threshold integer)
    RETURNS TABLE (attempt_id bigint, wait_s double precision, pair_failures bigint,
                   hash_prefix text, hash_len integer)
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, petcare AS $$
DECLARE
    g record;
    p record;
    v_attempt bigint;
BEGIN
    SELECT * INTO g FROM petcare.auth_gate(p_username, p_client_addr, p_window, p_free, p_base_s,
        p_cap_s, p_account_ceiling, p_account_slow_s, p_addr_threshold);
    INSERT INTO petcare.login_attempts (username, client_addr, succeeded, reason)
    VALUES (left(p_username, 200), left(p_client_addr, 100), false,
            CASE WHEN g.wait_s > 0 THEN 'locked' ELSE 'verifying' END)
    RETURNING login_attempts.id INTO v_attempt;
    IF g.wait_s > 0 THEN
        RETURN QUERY SELECT v_attempt, g.wait_s, g.pair_failures, NULL::text, NULL::integer;
        RETURN;
    END IF;
    SELECT * INTO p FROM petcare.auth_hash_prefix(p_username);
    RETURN QUERY SELECT v_attempt, g.wait_s, g.pair_failures + 1, p.hash_prefix, p.hash_len;
END $$;

-- Compare the digest the app computed with the stored one and close the attempt, once, within
-- five minutes of auth_begin. A wrong digest (or an unknown username) closes it as a failed
-- guess and returns verified = false and nothing else, whichever it was. A right digest returns
-- the login row; the attempt is closed as a success, as 'disabled' for a disabled user, or, when
-- the user has TOTP, left open as 'second factor' (still a counted guess) for auth_finish.
-- The digests are compared through sha256 so the comparison's time says nothing about them.
CREATE FUNCTION petcare.auth_verify(p_attempt_id bigint, p_digest text, p_window interval)
    RETURNS TABLE (verified boolean, guesses bigint, pending boolean, id bigint, username text,
                   role text, disabled boolean, totp_enabled boolean, language text)
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, petcare AS $$
DECLARE
    a record;
    u record;
    v_ok boolean;
    v_reason text;
BEGIN
    SELECT l.id, l.username, l.client_addr INTO a FROM petcare.login_attempts l
    WHERE l.id = p_attempt_id AND l.reason = 'verifying' AND NOT l.succeeded
      AND l.at > now() - interval '5 minutes'
    FOR UPDATE;
    IF NOT FOUND THEN
        RETURN QUERY SELECT false, NULL::bigint, false, NULL::bigint, NULL::text, NULL::text,
            NULL::boolean, NULL::boolean, NULL::text;
        RETURN;
    END IF;
    SELECT x.id, x.username, x.role, x.disabled, x.totp_enabled, x.language,
           substring(x.password_hash FROM '\$([^$]*)$') AS digest
    INTO u FROM petcare.users x
    WHERE lower(x.username) = lower(a.username) AND x.password_hash LIKE '$argon2%';
    v_ok := u.id IS NOT NULL AND length(u.digest) > 0 AND p_digest IS NOT NULL
        AND sha256(convert_to(u.digest, 'UTF8')) = sha256(convert_to(p_digest, 'UTF8'));
    v_reason := CASE
        WHEN v_ok AND u.disabled THEN 'disabled'
        WHEN v_ok AND u.totp_enabled THEN 'second factor'
        WHEN v_ok THEN NULL
        WHEN u.id IS NULL THEN 'unknown user'
        ELSE 'wrong password' END;
    UPDATE petcare.login_attempts l SET succeeded = v_ok AND v_reason IS NULL, reason = v_reason
    WHERE l.id = a.id;
    IF NOT v_ok THEN
        RETURN QUERY SELECT false, petcare.auth_pair_guesses(a.username, a.client_addr, p_window),
            false, NULL::bigint, NULL::text, NULL::text, NULL::boolean, NULL::boolean,
            NULL::text;
        RETURN;
    END IF;
    RETURN QUERY SELECT true, petcare.auth_pair_guesses(a.username, a.client_addr, p_window),
        v_reason = 'second factor', u.id, u.username, u.role, u.disabled, u.totp_enabled,
        u.language;
END $$;

-- auth_finish now closes only an attempt whose password auth_verify accepted and that waits for
-- the second factor: a success can no longer be recorded without the right digest.
CREATE OR REPLACE FUNCTION petcare.auth_finish(p_attempt_id bigint, p_succeeded boolean,
                                               p_reason text, p_window interval)
    RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, petcare AS $$
DECLARE
    a record;
BEGIN
    UPDATE petcare.login_attempts l SET succeeded = p_succeeded, reason = p_reason
    WHERE l.id = p_attempt_id AND l.reason = 'second factor' AND NOT l.succeeded
      AND l.at > now() - interval '5 minutes'
      AND (p_reason IS NULL
           OR p_reason NOT IN ('locked', 'unlocked', 'verifying', 'second factor'))
      AND (p_succeeded IS DISTINCT FROM false OR p_reason IS NOT NULL)
    RETURNING l.username, l.client_addr INTO a;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    RETURN petcare.auth_pair_guesses(a.username, a.client_addr, p_window);
END $$;

REVOKE EXECUTE ON FUNCTION
    petcare.auth_hash_prefix(text),
    petcare.auth_pair_guesses(text, text, interval),
    petcare.auth_begin(text, text, interval, integer, double precision, double precision, integer,
                       double precision, integer),
    petcare.auth_verify(bigint, text, interval) FROM PUBLIC;
-- auth_hash_prefix and auth_pair_guesses are reached through auth_begin / auth_verify only.
GRANT EXECUTE ON FUNCTION
    petcare.auth_begin(text, text, interval, integer, double precision, double precision, integer,
                       double precision, integer),
    petcare.auth_verify(bigint, text, interval) TO petcare_app;

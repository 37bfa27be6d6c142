-- Issue 20, part 1: per-user API tokens for the MCP server (stdio and Streamable HTTP).
-- A token is `pcd_<public_id>_<secret>`: the public id (64 random bits, hex) finds the row, the
-- secret (256 random bits) is never stored, only the sha256 of the whole token, which the app
-- compares in constant time. A token expires, can be revoked, is scoped to a list of
-- connections (NULL: every connection its user may use) and to a maximum app role; the role a
-- call acts with is the lower of that and the user's role at the time of the call, and a token
-- cannot be created above the user's role (trigger). Calls are counted per token in a one-minute
-- window here, in the shared store, so the rate limit holds across app instances.
-- RLS: a user sees and revokes their own tokens; an admin sees and revokes all. Resolving a
-- token (before anyone is known) goes through the definer functions below.

CREATE TABLE petcare.api_tokens (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id bigint NOT NULL REFERENCES petcare.users (id) ON DELETE CASCADE,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    public_id text NOT NULL UNIQUE CHECK (public_id ~ '^[0-9a-f]{16}$'),
    token_hash bytea NOT NULL CHECK (length(token_hash) = 32),
    max_role text NOT NULL CHECK (max_role IN ('viewer', 'analyst', 'dba', 'admin')),
    connection_ids bigint[],
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz,
    last_used_at timestamptz,
    window_start timestamptz NOT NULL DEFAULT now(),
    window_calls integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK (expires_at > created_at)
);
CREATE INDEX api_tokens_user_idx ON petcare.api_tokens (user_id);

-- The rank of an app role (viewer < analyst < dba < admin).
CREATE FUNCTION petcare.role_rank(p_role text) RETURNS integer
    LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, petcare
    AS $$ SELECT array_position(ARRAY['viewer', 'analyst', 'dba', 'admin'], p_role) $$;

-- A token is created by its own user, never above that user's role.
CREATE FUNCTION petcare.api_tokens_guard() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, petcare AS $$
DECLARE
    v_role text;
BEGIN
    SELECT u.role INTO v_role FROM petcare.users u WHERE u.id = NEW.user_id AND NOT u.disabled;
    IF v_role IS NULL OR petcare.role_rank(NEW.max_role) > petcare.role_rank(v_role) THEN
        RAISE EXCEPTION 'a token cannot exceed its user''s role' USING ERRCODE = '42501';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER api_tokens_guard BEFORE INSERT ON petcare.api_tokens
    FOR EACH ROW EXECUTE FUNCTION petcare.api_tokens_guard();

-- The live token with this public id and its user (not revoked, not expired, user enabled).
-- The hash comes back so that the app compares it in constant time.
CREATE FUNCTION petcare.api_token_lookup(p_public_id text)
    RETURNS TABLE (token_id bigint, token_hash bytea, user_id bigint, username text,
                   role text, max_role text, connection_ids bigint[], language text,
                   display_name text)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, petcare AS $$
    SELECT t.id, t.token_hash, u.id, u.username, u.role, t.max_role, t.connection_ids,
           u.language, u.display_name
    FROM petcare.api_tokens t JOIN petcare.users u ON u.id = t.user_id
    WHERE t.public_id = left(p_public_id, 16) AND t.revoked_at IS NULL
      AND t.expires_at > now() AND NOT u.disabled $$;

-- Count one call of a verified token in its one-minute window; the window's count after it.
CREATE FUNCTION petcare.api_token_use(p_token_id bigint) RETURNS integer
    LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, petcare AS $$
    UPDATE petcare.api_tokens t
    SET window_calls = CASE WHEN t.window_start <= now() - interval '1 minute' THEN 1
                            ELSE t.window_calls + 1 END,
        window_start = CASE WHEN t.window_start <= now() - interval '1 minute' THEN now()
                            ELSE t.window_start END,
        last_used_at = now()
    WHERE t.id = p_token_id AND t.revoked_at IS NULL
    RETURNING t.window_calls $$;

REVOKE EXECUTE ON FUNCTION petcare.api_token_lookup(text), petcare.api_token_use(bigint),
    petcare.api_tokens_guard() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION petcare.api_token_lookup(text), petcare.api_token_use(bigint),
    petcare.role_rank(text) TO petcare_app;
GRANT SELECT, INSERT ON petcare.api_tokens TO petcare_app;
GRANT UPDATE (revoked_at) ON petcare.api_tokens TO petcare_app;

ALTER TABLE petcare.api_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE petcare.api_tokens FORCE ROW LEVEL SECURITY;
CREATE POLICY api_tokens_definer ON petcare.api_tokens TO petcare_owner
    USING (true) WITH CHECK (true);
CREATE POLICY api_tokens_select ON petcare.api_tokens FOR SELECT TO petcare_app
    USING (user_id = (SELECT petcare.current_user_id()) OR (SELECT petcare.is_admin()));
CREATE POLICY api_tokens_insert ON petcare.api_tokens FOR INSERT TO petcare_app
    WITH CHECK (user_id = (SELECT petcare.current_user_id()));
CREATE POLICY api_tokens_update ON petcare.api_tokens FOR UPDATE TO petcare_app
    USING (user_id = (SELECT petcare.current_user_id()) OR (SELECT petcare.is_admin()))
    WITH CHECK (user_id = (SELECT petcare.current_user_id()) OR (SELECT petcare.is_admin()));

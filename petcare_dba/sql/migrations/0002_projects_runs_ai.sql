-- The seed's four data tables (names are a contract with existing deployments) plus the
-- tables their features need: project members, immutable script versions, editor drafts and AI
-- conversations. Access rules: a project is visible to its owner, its members and admins;
-- editors and owners write scripts; versions are immutable; a user sees their own runs, runs of
-- projects they belong to, and admins see all.

CREATE TABLE petcare.projetos_analytics (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description text NOT NULL DEFAULT '',
    created_by text NOT NULL,
    owner_id bigint NOT NULL REFERENCES petcare.users (id),
    membros text[] NOT NULL DEFAULT '{}',
    status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'archived')),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by bigint REFERENCES petcare.users (id)
);
COMMENT ON TABLE petcare.projetos_analytics IS 'SQL projects (seed contract). membros mirrors project_members usernames.';
CREATE INDEX projetos_analytics_owner_id_idx ON petcare.projetos_analytics (owner_id);
CREATE INDEX projetos_analytics_updated_by_idx ON petcare.projetos_analytics (updated_by);

CREATE TABLE petcare.project_members (
    project_id bigint NOT NULL REFERENCES petcare.projetos_analytics (id) ON DELETE CASCADE,
    user_id bigint NOT NULL REFERENCES petcare.users (id) ON DELETE CASCADE,
    role text NOT NULL CHECK (role IN ('owner', 'editor', 'viewer')),
    added_by bigint REFERENCES petcare.users (id),
    added_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (project_id, user_id)
);
CREATE INDEX project_members_user_id_idx ON petcare.project_members (user_id, project_id);
CREATE INDEX project_members_added_by_idx ON petcare.project_members (added_by);

-- Membership lookups bypass the members table's own policy (which depends on membership).
CREATE FUNCTION petcare.my_project_ids() RETURNS SETOF bigint
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, petcare
    AS $$ SELECT m.project_id FROM petcare.project_members m
          WHERE m.user_id = petcare.current_user_id() $$;

CREATE FUNCTION petcare.project_role(p_project bigint) RETURNS text
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, petcare
    AS $$ SELECT m.role FROM petcare.project_members m
          WHERE m.project_id = p_project AND m.user_id = petcare.current_user_id() $$;

CREATE TABLE petcare.scripts_projetos (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id bigint NOT NULL REFERENCES petcare.projetos_analytics (id) ON DELETE CASCADE,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description text NOT NULL DEFAULT '',
    tags text[] NOT NULL DEFAULT '{}',
    default_connection_id bigint REFERENCES petcare.connections (id) ON DELETE SET NULL,
    current_version integer NOT NULL DEFAULT 0,
    created_by bigint NOT NULL REFERENCES petcare.users (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_by bigint REFERENCES petcare.users (id),
    updated_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz
);
COMMENT ON TABLE petcare.scripts_projetos IS 'SQL scripts of a project (seed contract); content lives in script_versions.';
CREATE UNIQUE INDEX scripts_projetos_name_key ON petcare.scripts_projetos (project_id, lower(name))
    WHERE deleted_at IS NULL;
CREATE INDEX scripts_projetos_project_id_idx ON petcare.scripts_projetos (project_id);
CREATE INDEX scripts_projetos_default_connection_idx ON petcare.scripts_projetos (default_connection_id);
CREATE INDEX scripts_projetos_created_by_idx ON petcare.scripts_projetos (created_by);
CREATE INDEX scripts_projetos_updated_by_idx ON petcare.scripts_projetos (updated_by);

CREATE TABLE petcare.script_versions (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    script_id bigint NOT NULL REFERENCES petcare.scripts_projetos (id) ON DELETE CASCADE,
    version integer NOT NULL CHECK (version > 0),
    content text NOT NULL,
    content_hash text NOT NULL,
    message text NOT NULL DEFAULT '',
    author_id bigint NOT NULL REFERENCES petcare.users (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (script_id, version)
);
CREATE INDEX script_versions_author_id_idx ON petcare.script_versions (author_id);

CREATE FUNCTION petcare.forbid_change() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_NAME, TG_OP
        USING ERRCODE = '42501';
END $$;
CREATE TRIGGER script_versions_immutable BEFORE UPDATE OR DELETE ON petcare.script_versions
    FOR EACH ROW EXECUTE FUNCTION petcare.forbid_change();

CREATE TABLE petcare.execucoes_scripts (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id bigint NOT NULL REFERENCES petcare.users (id),
    connection_id bigint REFERENCES petcare.connections (id) ON DELETE SET NULL,
    project_id bigint REFERENCES petcare.projetos_analytics (id) ON DELETE SET NULL,
    script_version_id bigint REFERENCES petcare.script_versions (id) ON DELETE SET NULL,
    audit_event_id uuid,
    session_id text,
    sql_text text NOT NULL,
    statement_index integer NOT NULL DEFAULT 0,
    classification text NOT NULL,
    ai_initiated boolean NOT NULL DEFAULT false,
    started_at timestamptz NOT NULL DEFAULT now(),
    duration_ms numeric,
    rows_affected bigint,
    outcome text NOT NULL DEFAULT 'running'
        CHECK (outcome IN ('running', 'ok', 'error', 'refused', 'cancelled', 'timeout', 'unknown')),
    sqlstate text,
    message text
);
COMMENT ON TABLE petcare.execucoes_scripts IS 'Every statement run, refused or failed (seed contract).';
CREATE INDEX execucoes_scripts_user_started_idx ON petcare.execucoes_scripts (user_id, started_at DESC);
CREATE INDEX execucoes_scripts_version_idx ON petcare.execucoes_scripts (script_version_id, started_at);
CREATE INDEX execucoes_scripts_project_idx ON petcare.execucoes_scripts (project_id);
CREATE INDEX execucoes_scripts_connection_idx ON petcare.execucoes_scripts (connection_id);

CREATE TABLE petcare.editor_drafts (
    user_id bigint NOT NULL REFERENCES petcare.users (id) ON DELETE CASCADE,
    connection_id bigint NOT NULL REFERENCES petcare.connections (id) ON DELETE CASCADE,
    content text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, connection_id)
);
CREATE INDEX editor_drafts_connection_id_idx ON petcare.editor_drafts (connection_id);

CREATE TABLE petcare.ai_conversations (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id bigint NOT NULL REFERENCES petcare.users (id) ON DELETE CASCADE,
    connection_id bigint REFERENCES petcare.connections (id) ON DELETE SET NULL,
    title text NOT NULL DEFAULT '',
    tokens_total bigint NOT NULL DEFAULT 0,
    summary text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz
);
CREATE INDEX ai_conversations_user_idx ON petcare.ai_conversations (user_id, updated_at DESC);
CREATE INDEX ai_conversations_connection_idx ON petcare.ai_conversations (connection_id);

CREATE TABLE petcare.duvidas_analitics_ia (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conversation_id bigint NOT NULL REFERENCES petcare.ai_conversations (id) ON DELETE CASCADE,
    user_id bigint NOT NULL REFERENCES petcare.users (id) ON DELETE CASCADE,
    role text NOT NULL CHECK (role IN ('user', 'assistant', 'tool', 'system')),
    content text NOT NULL,
    tool_name text,
    tool_args jsonb,
    context_sent jsonb,
    model text,
    tokens_in integer NOT NULL DEFAULT 0,
    tokens_out integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE petcare.duvidas_analitics_ia IS 'AI assistant messages (seed contract).';
CREATE INDEX duvidas_analitics_ia_conversation_idx ON petcare.duvidas_analitics_ia (conversation_id, id);
CREATE INDEX duvidas_analitics_ia_user_created_idx ON petcare.duvidas_analitics_ia (user_id, created_at);

GRANT SELECT, INSERT, UPDATE, DELETE ON petcare.projetos_analytics, petcare.project_members,
    petcare.scripts_projetos, petcare.editor_drafts, petcare.ai_conversations,
    petcare.duvidas_analitics_ia TO petcare_app;
GRANT SELECT, INSERT ON petcare.script_versions TO petcare_app;
GRANT SELECT, INSERT, UPDATE ON petcare.execucoes_scripts TO petcare_app;
GRANT EXECUTE ON FUNCTION petcare.my_project_ids(), petcare.project_role(bigint) TO petcare_app;
REVOKE EXECUTE ON FUNCTION petcare.my_project_ids(), petcare.project_role(bigint) FROM PUBLIC;

ALTER TABLE petcare.projetos_analytics ENABLE ROW LEVEL SECURITY;
ALTER TABLE petcare.projetos_analytics FORCE ROW LEVEL SECURITY;
CREATE POLICY projects_select ON petcare.projetos_analytics FOR SELECT TO petcare_app
    USING (owner_id = (SELECT petcare.current_user_id())
           OR id IN (SELECT petcare.my_project_ids()) OR (SELECT petcare.is_admin()));
CREATE POLICY projects_insert ON petcare.projetos_analytics FOR INSERT TO petcare_app
    WITH CHECK (owner_id = (SELECT petcare.current_user_id()));
CREATE POLICY projects_update ON petcare.projetos_analytics FOR UPDATE TO petcare_app
    USING (owner_id = (SELECT petcare.current_user_id()) OR (SELECT petcare.is_admin()))
    WITH CHECK (owner_id IS NOT NULL);
CREATE POLICY projects_delete ON petcare.projetos_analytics FOR DELETE TO petcare_app
    USING (owner_id = (SELECT petcare.current_user_id()) OR (SELECT petcare.is_admin()));

ALTER TABLE petcare.project_members ENABLE ROW LEVEL SECURITY;
ALTER TABLE petcare.project_members FORCE ROW LEVEL SECURITY;
CREATE POLICY project_members_definer ON petcare.project_members FOR SELECT TO petcare_owner
    USING (true);
CREATE POLICY project_members_select ON petcare.project_members FOR SELECT TO petcare_app
    USING (project_id IN (SELECT petcare.my_project_ids()) OR (SELECT petcare.is_admin()));
CREATE POLICY project_members_insert ON petcare.project_members FOR INSERT TO petcare_app
    WITH CHECK (petcare.project_role(project_id) = 'owner' OR (SELECT petcare.is_admin())
                OR (role = 'owner' AND user_id = (SELECT petcare.current_user_id())
                    AND project_id IN (SELECT p.id FROM petcare.projetos_analytics p
                                       WHERE p.owner_id = (SELECT petcare.current_user_id()))));
CREATE POLICY project_members_update ON petcare.project_members FOR UPDATE TO petcare_app
    USING (petcare.project_role(project_id) = 'owner' OR (SELECT petcare.is_admin()))
    WITH CHECK (petcare.project_role(project_id) = 'owner' OR (SELECT petcare.is_admin()));
CREATE POLICY project_members_delete ON petcare.project_members FOR DELETE TO petcare_app
    USING (petcare.project_role(project_id) = 'owner' OR (SELECT petcare.is_admin())
           OR user_id = (SELECT petcare.current_user_id()));

ALTER TABLE petcare.scripts_projetos ENABLE ROW LEVEL SECURITY;
ALTER TABLE petcare.scripts_projetos FORCE ROW LEVEL SECURITY;
CREATE POLICY scripts_select ON petcare.scripts_projetos FOR SELECT TO petcare_app
    USING (project_id IN (SELECT petcare.my_project_ids()) OR (SELECT petcare.is_admin()));
CREATE POLICY scripts_insert ON petcare.scripts_projetos FOR INSERT TO petcare_app
    WITH CHECK (petcare.project_role(project_id) IN ('owner', 'editor'));
CREATE POLICY scripts_update ON petcare.scripts_projetos FOR UPDATE TO petcare_app
    USING (petcare.project_role(project_id) IN ('owner', 'editor'))
    WITH CHECK (petcare.project_role(project_id) IN ('owner', 'editor'));
CREATE POLICY scripts_delete ON petcare.scripts_projetos FOR DELETE TO petcare_app
    USING (petcare.project_role(project_id) = 'owner');

ALTER TABLE petcare.script_versions ENABLE ROW LEVEL SECURITY;
ALTER TABLE petcare.script_versions FORCE ROW LEVEL SECURITY;
CREATE POLICY versions_select ON petcare.script_versions FOR SELECT TO petcare_app
    USING (script_id IN (SELECT s.id FROM petcare.scripts_projetos s));
CREATE POLICY versions_insert ON petcare.script_versions FOR INSERT TO petcare_app
    WITH CHECK (author_id = (SELECT petcare.current_user_id())
                AND script_id IN (SELECT s.id FROM petcare.scripts_projetos s
                                  WHERE petcare.project_role(s.project_id) IN ('owner', 'editor')));

ALTER TABLE petcare.execucoes_scripts ENABLE ROW LEVEL SECURITY;
ALTER TABLE petcare.execucoes_scripts FORCE ROW LEVEL SECURITY;
CREATE POLICY runs_select ON petcare.execucoes_scripts FOR SELECT TO petcare_app
    USING (user_id = (SELECT petcare.current_user_id()) OR (SELECT petcare.is_admin())
           OR project_id IN (SELECT petcare.my_project_ids()));
CREATE POLICY runs_insert ON petcare.execucoes_scripts FOR INSERT TO petcare_app
    WITH CHECK (user_id = (SELECT petcare.current_user_id()));
CREATE POLICY runs_update ON petcare.execucoes_scripts FOR UPDATE TO petcare_app
    USING (user_id = (SELECT petcare.current_user_id()))
    WITH CHECK (user_id = (SELECT petcare.current_user_id()));

ALTER TABLE petcare.editor_drafts ENABLE ROW LEVEL SECURITY;
ALTER TABLE petcare.editor_drafts FORCE ROW LEVEL SECURITY;
CREATE POLICY drafts_own ON petcare.editor_drafts TO petcare_app
    USING (user_id = (SELECT petcare.current_user_id()))
    WITH CHECK (user_id = (SELECT petcare.current_user_id()));

ALTER TABLE petcare.ai_conversations ENABLE ROW LEVEL SECURITY;
ALTER TABLE petcare.ai_conversations FORCE ROW LEVEL SECURITY;
CREATE POLICY conversations_own ON petcare.ai_conversations TO petcare_app
    USING (user_id = (SELECT petcare.current_user_id()))
    WITH CHECK (user_id = (SELECT petcare.current_user_id()));

ALTER TABLE petcare.duvidas_analitics_ia ENABLE ROW LEVEL SECURITY;
ALTER TABLE petcare.duvidas_analitics_ia FORCE ROW LEVEL SECURITY;
CREATE POLICY ai_messages_own ON petcare.duvidas_analitics_ia TO petcare_app
    USING (user_id = (SELECT petcare.current_user_id()))
    WITH CHECK (user_id = (SELECT petcare.current_user_id()));

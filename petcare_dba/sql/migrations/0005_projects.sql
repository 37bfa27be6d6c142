-- Projects, members, versioned scripts and their runs: the rules of 0002 made complete and
-- enforceable by the database. Rules: a project is seen by its owner, its members and admins;
-- only the owner (or an admin) renames, archives, manages members and transfers ownership; a
-- project has exactly one owner, who is its 'owner' member (checked at commit, so a transfer can
-- pass through two statements); only an archived project may be deleted; owners and editors write
-- scripts of active projects; versions are numbered, hashed and timestamped by the database and
-- never change; a run may only link a project its author belongs to and a version of that
-- project. `membros` (seed contract) mirrors the member usernames through triggers. Every helper
-- a policy calls is wrapped in (SELECT ...) so it runs once per statement (reliability R5, R6).

-- Definer helpers read projects as the owner; FORCE RLS needs an owner policy for that.
CREATE POLICY projects_definer ON petcare.projetos_analytics TO petcare_owner
    USING (true) WITH CHECK (true);

-- Projects the current user owns (owner_id is the single source of ownership).
CREATE FUNCTION petcare.my_owned_project_ids() RETURNS SETOF bigint
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, petcare
    AS $$ SELECT p.id FROM petcare.projetos_analytics p
          WHERE p.owner_id = petcare.current_user_id() $$;

-- Active projects where the current user may write scripts (owner or editor).
CREATE FUNCTION petcare.my_writable_project_ids() RETURNS SETOF bigint
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, petcare
    AS $$ SELECT m.project_id FROM petcare.project_members m
          JOIN petcare.projetos_analytics p ON p.id = m.project_id
          WHERE m.user_id = petcare.current_user_id() AND m.role IN ('owner', 'editor')
            AND p.status = 'active' $$;

REVOKE EXECUTE ON FUNCTION petcare.my_owned_project_ids(), petcare.my_writable_project_ids()
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION petcare.my_owned_project_ids(), petcare.my_writable_project_ids()
    TO petcare_app;

-- Projects ------------------------------------------------------------------------------------
DROP POLICY projects_update ON petcare.projetos_analytics;
DROP POLICY projects_delete ON petcare.projetos_analytics;
-- The new owner_id must be the project's 'owner' member: a transfer first promotes the new
-- owner (and demotes the old one) in project_members, then moves owner_id.
CREATE POLICY projects_update ON petcare.projetos_analytics FOR UPDATE TO petcare_app
    USING (owner_id = (SELECT petcare.current_user_id()) OR (SELECT petcare.is_admin()))
    WITH CHECK (owner_id IN (SELECT m.user_id FROM petcare.project_members m
                             WHERE m.project_id = projetos_analytics.id AND m.role = 'owner'));
-- Deleting is two deliberate steps: archive, then delete.
CREATE POLICY projects_delete ON petcare.projetos_analytics FOR DELETE TO petcare_app
    USING ((owner_id = (SELECT petcare.current_user_id()) OR (SELECT petcare.is_admin()))
           AND status = 'archived');

CREATE UNIQUE INDEX projetos_analytics_owner_name_key
    ON petcare.projetos_analytics (owner_id, lower(name));

-- membros and the bookkeeping columns are the database's, whatever the client sends.
CREATE FUNCTION petcare.projects_guard() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, petcare AS $$
BEGIN
    NEW.membros := coalesce((SELECT array_agg(u.username ORDER BY lower(u.username))
                             FROM petcare.project_members m
                             JOIN petcare.users u ON u.id = m.user_id
                             WHERE m.project_id = NEW.id), '{}');
    IF TG_OP = 'UPDATE' THEN
        NEW.created_by := OLD.created_by;
        NEW.created_at := OLD.created_at;
        NEW.updated_at := now();
        NEW.updated_by := coalesce(petcare.current_user_id(), NEW.updated_by);
    ELSE
        NEW.updated_by := NEW.owner_id;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER projects_guard BEFORE INSERT OR UPDATE ON petcare.projetos_analytics
    FOR EACH ROW EXECUTE FUNCTION petcare.projects_guard();

-- Members -------------------------------------------------------------------------------------
DROP POLICY project_members_insert ON petcare.project_members;
DROP POLICY project_members_update ON petcare.project_members;
DROP POLICY project_members_delete ON petcare.project_members;
CREATE POLICY project_members_insert ON petcare.project_members FOR INSERT TO petcare_app
    WITH CHECK (project_id IN (SELECT petcare.my_owned_project_ids())
                OR (SELECT petcare.is_admin()));
CREATE POLICY project_members_update ON petcare.project_members FOR UPDATE TO petcare_app
    USING (project_id IN (SELECT petcare.my_owned_project_ids()) OR (SELECT petcare.is_admin()))
    WITH CHECK (project_id IN (SELECT petcare.my_owned_project_ids())
                OR (SELECT petcare.is_admin()));
-- A member may leave; the owner cannot (the ownership check below refuses it at commit).
CREATE POLICY project_members_delete ON petcare.project_members FOR DELETE TO petcare_app
    USING (project_id IN (SELECT petcare.my_owned_project_ids()) OR (SELECT petcare.is_admin())
           OR user_id = (SELECT petcare.current_user_id()));

-- Keep the seed's membros column equal to the member usernames (projects_guard recomputes it);
-- statement triggers with transition tables, so a bulk change updates each project once.
CREATE FUNCTION petcare.project_members_sync_upd() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, petcare AS $$
BEGIN
    UPDATE petcare.projetos_analytics p SET membros = p.membros
    WHERE p.id IN (SELECT t.project_id FROM new_rows t UNION SELECT t.project_id FROM old_rows t);
    RETURN NULL;
END $$;
-- Transition tables cannot be declared for several events at once, hence three triggers.
CREATE FUNCTION petcare.project_members_sync_ins() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, petcare AS $$
BEGIN
    UPDATE petcare.projetos_analytics p SET membros = p.membros
    WHERE p.id IN (SELECT t.project_id FROM new_rows t);
    RETURN NULL;
END $$;
CREATE FUNCTION petcare.project_members_sync_del() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, petcare AS $$
BEGIN
    UPDATE petcare.projetos_analytics p SET membros = p.membros
    WHERE p.id IN (SELECT t.project_id FROM old_rows t);
    RETURN NULL;
END $$;
CREATE TRIGGER project_members_sync_ins AFTER INSERT ON petcare.project_members
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION petcare.project_members_sync_ins();
CREATE TRIGGER project_members_sync_upd AFTER UPDATE ON petcare.project_members
    REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION petcare.project_members_sync_upd();
CREATE TRIGGER project_members_sync_del AFTER DELETE ON petcare.project_members
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION petcare.project_members_sync_del();

-- Exactly one owner member per project, and it is owner_id (deferred to commit).
CREATE FUNCTION petcare.project_owner_check() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, petcare AS $$
DECLARE
    pid bigint;
    owner bigint;
    owners bigint;
BEGIN
    IF TG_TABLE_NAME = 'projetos_analytics' THEN
        pid := NEW.id;
    ELSIF TG_OP = 'DELETE' THEN
        pid := OLD.project_id;
    ELSE
        pid := NEW.project_id;
    END IF;
    SELECT p.owner_id INTO owner FROM petcare.projetos_analytics p WHERE p.id = pid;
    IF NOT FOUND THEN
        RETURN NULL;  -- the project itself was deleted
    END IF;
    SELECT count(*) INTO owners FROM petcare.project_members m
    WHERE m.project_id = pid AND m.role = 'owner';
    IF owners <> 1 OR NOT EXISTS (SELECT 1 FROM petcare.project_members m
                                  WHERE m.project_id = pid AND m.user_id = owner
                                    AND m.role = 'owner') THEN
        RAISE EXCEPTION 'project % must have exactly one owner, who is its owner member', pid
            USING ERRCODE = '23514',
                  HINT = 'transfer ownership instead of adding, removing or demoting the owner';
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER project_owner_check AFTER INSERT OR UPDATE OR DELETE
    ON petcare.project_members DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION petcare.project_owner_check();
CREATE CONSTRAINT TRIGGER project_owner_check AFTER INSERT OR UPDATE OF owner_id
    ON petcare.projetos_analytics DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION petcare.project_owner_check();

-- Scripts -------------------------------------------------------------------------------------
DROP POLICY scripts_insert ON petcare.scripts_projetos;
DROP POLICY scripts_update ON petcare.scripts_projetos;
DROP POLICY scripts_delete ON petcare.scripts_projetos;
CREATE POLICY scripts_insert ON petcare.scripts_projetos FOR INSERT TO petcare_app
    WITH CHECK (project_id IN (SELECT petcare.my_writable_project_ids())
                AND created_by = (SELECT petcare.current_user_id()));
-- Soft delete and restore are updates (deleted_at); WITH CHECK stops moving a script into a
-- project the user cannot write.
CREATE POLICY scripts_update ON petcare.scripts_projetos FOR UPDATE TO petcare_app
    USING (project_id IN (SELECT petcare.my_writable_project_ids()))
    WITH CHECK (project_id IN (SELECT petcare.my_writable_project_ids()));
CREATE POLICY scripts_delete ON petcare.scripts_projetos FOR DELETE TO petcare_app
    USING (project_id IN (SELECT petcare.my_owned_project_ids()));

-- current_version only moves through a new version (the versions trigger, trigger depth 2).
CREATE FUNCTION petcare.scripts_guard() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, petcare AS $$
BEGIN
    IF NEW.current_version IS DISTINCT FROM OLD.current_version
       AND pg_catalog.pg_trigger_depth() < 2 THEN
        RAISE EXCEPTION 'current_version changes only by saving a version'
            USING ERRCODE = '42501';
    END IF;
    NEW.created_by := OLD.created_by;
    NEW.created_at := OLD.created_at;
    NEW.updated_at := now();
    NEW.updated_by := coalesce(petcare.current_user_id(), NEW.updated_by);
    RETURN NEW;
END $$;
CREATE TRIGGER scripts_guard BEFORE UPDATE ON petcare.scripts_projetos
    FOR EACH ROW EXECUTE FUNCTION petcare.scripts_guard();

-- Versions ------------------------------------------------------------------------------------
DROP POLICY versions_select ON petcare.script_versions;
DROP POLICY versions_insert ON petcare.script_versions;
-- Correlated EXISTS: one primary-key probe per version row instead of hashing every script.
CREATE POLICY versions_select ON petcare.script_versions FOR SELECT TO petcare_app
    USING (EXISTS (SELECT 1 FROM petcare.scripts_projetos s
                   WHERE s.id = script_versions.script_id));
CREATE POLICY versions_insert ON petcare.script_versions FOR INSERT TO petcare_app
    WITH CHECK (author_id = (SELECT petcare.current_user_id())
                AND EXISTS (SELECT 1 FROM petcare.scripts_projetos s
                            WHERE s.id = script_versions.script_id AND s.deleted_at IS NULL
                              AND s.project_id IN (SELECT petcare.my_writable_project_ids())));

-- The database numbers, hashes and timestamps each version under a lock on its script, so two
-- concurrent saves get distinct numbers and a save on a stale base fails instead of skipping.
CREATE FUNCTION petcare.versions_before_insert() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, petcare AS $$
DECLARE
    cur integer;
BEGIN
    SELECT s.current_version INTO cur FROM petcare.scripts_projetos s
    WHERE s.id = NEW.script_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'script % does not exist or you may not write it', NEW.script_id
            USING ERRCODE = '42501';
    END IF;
    IF NEW.version IS NULL THEN
        NEW.version := cur + 1;
    ELSIF NEW.version <> cur + 1 THEN
        RAISE EXCEPTION 'version % of script % is not next: the latest is %',
            NEW.version, NEW.script_id, cur USING ERRCODE = '40001';
    END IF;
    NEW.content_hash := encode(sha256(convert_to(NEW.content, 'UTF8')), 'hex');
    NEW.created_at := now();
    RETURN NEW;
END $$;
CREATE FUNCTION petcare.versions_after_insert() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, petcare AS $$
BEGIN
    UPDATE petcare.scripts_projetos SET current_version = NEW.version WHERE id = NEW.script_id;
    RETURN NULL;
END $$;
CREATE TRIGGER versions_before_insert BEFORE INSERT ON petcare.script_versions
    FOR EACH ROW EXECUTE FUNCTION petcare.versions_before_insert();
CREATE TRIGGER versions_after_insert AFTER INSERT ON petcare.script_versions
    FOR EACH ROW EXECUTE FUNCTION petcare.versions_after_insert();

-- Versions never change; they go only with their script or project (a cascade runs inside the
-- foreign key's trigger, so the depth is above 1; a direct DELETE is refused, for the owner too).
CREATE FUNCTION petcare.versions_guard() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
    IF TG_OP = 'DELETE' AND pg_catalog.pg_trigger_depth() > 1 THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_NAME, TG_OP
        USING ERRCODE = '42501';
END $$;
DROP TRIGGER script_versions_immutable ON petcare.script_versions;
CREATE TRIGGER script_versions_immutable BEFORE UPDATE OR DELETE ON petcare.script_versions
    FOR EACH ROW EXECUTE FUNCTION petcare.versions_guard();

-- Runs ----------------------------------------------------------------------------------------
DROP POLICY runs_insert ON petcare.execucoes_scripts;
DROP POLICY runs_update ON petcare.execucoes_scripts;
-- A run may name a project only when its author may see it, and a version only of that project.
CREATE POLICY runs_insert ON petcare.execucoes_scripts FOR INSERT TO petcare_app
    WITH CHECK (user_id = (SELECT petcare.current_user_id())
                AND (project_id IS NULL OR project_id IN (SELECT petcare.my_project_ids())
                     OR (SELECT petcare.is_admin()))
                AND (script_version_id IS NULL
                     OR EXISTS (SELECT 1 FROM petcare.script_versions v
                                JOIN petcare.scripts_projetos s ON s.id = v.script_id
                                WHERE v.id = execucoes_scripts.script_version_id
                                  AND s.project_id = execucoes_scripts.project_id)));
CREATE POLICY runs_update ON petcare.execucoes_scripts FOR UPDATE TO petcare_app
    USING (user_id = (SELECT petcare.current_user_id()))
    WITH CHECK (user_id = (SELECT petcare.current_user_id())
                AND (project_id IS NULL OR project_id IN (SELECT petcare.my_project_ids())
                     OR (SELECT petcare.is_admin()))
                AND (script_version_id IS NULL
                     OR EXISTS (SELECT 1 FROM petcare.script_versions v
                                JOIN petcare.scripts_projetos s ON s.id = v.script_id
                                WHERE v.id = execucoes_scripts.script_version_id
                                  AND s.project_id = execucoes_scripts.project_id)));

-- Run history per script and per version, newest first.
CREATE INDEX execucoes_scripts_project_started_idx
    ON petcare.execucoes_scripts (project_id, started_at DESC);

-- Trigger functions are never called directly; nobody but their triggers needs EXECUTE (R5).
REVOKE EXECUTE ON FUNCTION petcare.projects_guard(), petcare.project_members_sync_ins(),
    petcare.project_members_sync_upd(), petcare.project_members_sync_del(),
    petcare.project_owner_check(), petcare.scripts_guard(), petcare.versions_before_insert(),
    petcare.versions_after_insert(), petcare.versions_guard() FROM PUBLIC;

-- AI assistant (issue 7): only an admin may change what the assistant may see of a connection.
-- The owner of a connection may update its other columns (RLS policy connections_update), and
-- RLS cannot restrict single columns, so a row trigger refuses an ai_consent change by anyone
-- but an admin (the service checks too; this holds for any client of petcare_app).
-- Conversations and messages use the tables of 0002 (ai_conversations, duvidas_analitics_ia),
-- which already have RLS ENABLEd, FORCEd and own-rows policies.

CREATE FUNCTION petcare.connections_ai_consent_guard() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, petcare AS $$
BEGIN
    IF NEW.ai_consent IS DISTINCT FROM OLD.ai_consent AND current_user = 'petcare_app'
       AND NOT petcare.is_admin() THEN
        RAISE EXCEPTION 'only an admin may change a connection''s AI consent'
            USING ERRCODE = '42501';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER connections_ai_consent_guard BEFORE UPDATE OF ai_consent ON petcare.connections
    FOR EACH ROW EXECUTE FUNCTION petcare.connections_ai_consent_guard();


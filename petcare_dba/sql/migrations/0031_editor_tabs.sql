-- Issue 19, SQL editor: several editor tabs per user, kept in the store so that they come back
-- after a browser reload or on another instance. A tab holds a name, its SQL text and the
-- connection it was last used with (NULL when that connection is gone). `selected_at` marks the
-- tab the user looked at last; the editor reopens that one. The app caps tabs per user and the
-- text size (services/sql/tabs.py); the CHECKs below are the backstop whatever the app says.
-- RLS: a tab is private to its user, admins included (it is a scratch pad, not an audit row).

CREATE TABLE petcare.editor_tabs (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id bigint NOT NULL REFERENCES petcare.users (id) ON DELETE CASCADE,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 60),
    content text NOT NULL DEFAULT '' CHECK (octet_length(content) <= 16777216),
    connection_id bigint REFERENCES petcare.connections (id) ON DELETE SET NULL,
    position integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    selected_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX editor_tabs_user_idx ON petcare.editor_tabs (user_id, position);
CREATE INDEX editor_tabs_connection_idx ON petcare.editor_tabs (connection_id);

GRANT SELECT, INSERT, UPDATE, DELETE ON petcare.editor_tabs TO petcare_app;

ALTER TABLE petcare.editor_tabs ENABLE ROW LEVEL SECURITY;
ALTER TABLE petcare.editor_tabs FORCE ROW LEVEL SECURITY;
CREATE POLICY editor_tabs_own ON petcare.editor_tabs TO petcare_app
    USING (user_id = (SELECT petcare.current_user_id()))
    WITH CHECK (user_id = (SELECT petcare.current_user_id()));

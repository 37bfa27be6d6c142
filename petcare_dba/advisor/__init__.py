"""The DBA advisor: one lint per SQL file in `lints/`, one doc per lint in `docs/`.

Every lint returns the same columns (name, title, level, category, object, detail, remediation,
cache_key), in the style of Supabase's splinter, but written for plain PostgreSQL.
"""

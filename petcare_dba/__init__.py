"""PetCare DBA Admin: a safe, audited PostgreSQL and Supabase admin console (Streamlit)."""

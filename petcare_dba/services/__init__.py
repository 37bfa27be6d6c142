"""Feature logic: returns frozen dataclasses; never imports streamlit or psycopg."""

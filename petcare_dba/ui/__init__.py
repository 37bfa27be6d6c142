"""The Streamlit user interface: a router (app.py), thin pages and reusable components."""

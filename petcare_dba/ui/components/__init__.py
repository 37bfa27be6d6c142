"""Reusable widgets shared by pages (errors, metrics, tables)."""

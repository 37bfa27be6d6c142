"""Widgets of the Projects page: overview, scripts, runs, and save-from-editor."""

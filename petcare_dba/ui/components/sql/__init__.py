"""Widgets of the SQL editor: the editor box, runs, jobs, results, transactions, AI actions."""

"""Widgets of the dashboard and the Monitoring page: overview charts and drill-downs."""

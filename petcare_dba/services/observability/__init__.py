"""Observability: the process's Prometheus metrics, the `/metrics` scrape, and logging.

`metrics` counts as the app goes (requests, page runs, statement latency by outcome and role,
job runs, alert deliveries) and takes other parts' gauges through `register_collector`;
`scrape` renders one scrape from those plus state already kept (pools, audit lag, the
collector's samples); `logs` configures text or JSON lines and the correlation ids a user sees
on an error.
"""

from petcare_dba.services.observability import logs, metrics, scrape

__all__ = ["logs", "metrics", "scrape"]

"""Observability settings: the log format and level, and who may scrape `/metrics`."""

from __future__ import annotations

from petcare_dba.settings.declaration import Setting

DECLARED: tuple[Setting, ...] = (
    Setting(
        "log_format",
        "text",
        "Server log lines: `text` (one human-readable line) or `json` (one object per line with "
        "ts, level, logger, message and the correlation id a user sees on an error).",
        "observability",
        choices=("text", "json"),
    ),
    Setting(
        "log_level",
        "INFO",
        "Least severe level written to the log.",
        "observability",
        choices=("DEBUG", "INFO", "WARNING", "ERROR"),
    ),
    Setting(
        "metrics_token",
        "",
        "Bearer token a Prometheus scraper sends to read /metrics (compared in constant time). "
        "Empty: /metrics answers only a loopback peer that carries no forwarding header, so a "
        "reverse proxy on the same host does not expose it.",
        "observability",
        secret=True,
    ),
)

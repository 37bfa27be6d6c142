"""Logging for the server and the CLI: one handler, text or JSON lines, and correlation ids.

`configure(settings)` installs one handler on the `petcare_dba` logger (and Streamlit's and
uvicorn's, so a JSON log stays JSON) writing to stderr, where systemd, Docker and Kubernetes
collect it. A correlation id is a short random reference: the UI shows it on every rendered error
and the log line carries it in the `correlation_id` field, so an operator finds the line a user
quotes. A handled error is logged without a traceback; only an unexpected one carries it.
"""

from __future__ import annotations

import json
import logging
import sys
import time
import uuid
from typing import Any

from petcare_dba.settings import Settings

# Loggers that write the server's lines: ours, Streamlit's (it sets propagate off and adds its
# own handler) and uvicorn's (the st.App server).
LOGGERS = ("petcare_dba", "streamlit", "uvicorn", "uvicorn.error")
# LogRecord attributes that are not extra fields given by the caller.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "color_message",  # uvicorn's copy of the message with terminal colours
}


def new_correlation_id() -> str:
    """A fresh reference to show a user and log with the error (12 hex characters)."""
    return uuid.uuid4().hex[:12]


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, message, correlation_id, extra fields, exc."""

    def format(self, record: logging.LogRecord) -> str:
        body: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                body[key] = value if isinstance(value, (str, int, float, bool)) else str(value)
        if record.exc_info:
            body["exc"] = self.formatException(record.exc_info)
        return json.dumps(body, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """`time level logger: message [ref …]`, the traceback after it when there is one."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        ref = getattr(record, "correlation_id", None)
        if ref and f"ref {ref}" not in line.split("\n", 1)[0]:
            head, sep, rest = line.partition("\n")
            line = f"{head} [ref {ref}]{sep}{rest}"
        return line


def _targets() -> list[logging.Logger]:
    names = [
        n
        for n in logging.root.manager.loggerDict
        if any(n == p or n.startswith(p + ".") for p in ("streamlit", "uvicorn"))
    ]
    return [logging.getLogger(n) for n in ("petcare_dba", *LOGGERS[1:], *sorted(names))]


def configure(settings: Settings, stream: Any = None) -> logging.Handler:
    """Install the handler on our loggers and the server's (again: replaces the previous one).

    Streamlit gives each of its loggers its own console handler and turns propagation off, so
    the loggers that exist now are re-pointed at ours; a Streamlit logger first created later
    keeps Streamlit's text line (the server creates its loggers at start-up, before this runs).
    """
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter() if settings.log_format == "json" else TextFormatter())
    level = getattr(logging, str(settings.log_level).upper(), logging.INFO)
    for logger in _targets():
        # The server's own handlers would write every line a second time, in their format.
        for old in list(logger.handlers):
            logger.removeHandler(old)
        logger.addHandler(handler)
        if logger.name == "petcare_dba" or logger.name.startswith("uvicorn"):
            logger.propagate = False
        if logger.name == "petcare_dba" or logger.level < level:
            logger.setLevel(level)
    return handler


def handled(logger: logging.Logger, ref: str, title: str, message: str) -> None:
    """Log an error the UI rendered (a handled state): one line, the user's ref, no traceback."""
    logger.info("%s: %s", title, message, extra={"correlation_id": ref})


def unexpected(logger: logging.Logger, ref: str, exc: BaseException) -> None:
    """Log an unexpected page error with its traceback and the ref the user was shown."""
    logger.error(
        "unexpected error in a page (ref %s)", ref, exc_info=exc, extra={"correlation_id": ref}
    )

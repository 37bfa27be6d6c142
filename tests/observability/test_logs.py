"""Logs: the correlation id a user sees on an error is the one on the log line, in text or JSON,
and a handled error is logged without a traceback."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable

import pytest
from streamlit.testing.v1 import AppTest

from petcare_dba import settings as settings_mod
from petcare_dba.services import connections
from petcare_dba.services.actor import Actor
from petcare_dba.services.observability import logs
from petcare_dba.services.runtime import Runtime
from tests.fix_db import ADMIN_PASSWORD
from tests.fix_ui import sign_in


@pytest.mark.slow
def test_a_rendered_error_and_its_log_line_share_one_ref(
    app: Callable[[], AppTest], admin: Actor, rt: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    # A stored connection whose server is not there: the explorer renders the error.
    connections.add(rt, admin, "down", "postgresql://u:p@127.0.0.1:1/db", shared=True)
    at = sign_in(app(), "admin", ADMIN_PASSWORD)
    with caplog.at_level(logging.INFO, logger="petcare_dba"):
        at.switch_page("pages/explorer.py").run()
    assert not at.exception
    shown = [c.value for c in at.caption if c.value.startswith("ref ")]
    assert len(shown) == 1, [c.value for c in at.caption]
    ref = shown[0].removeprefix("ref ")
    lines = [r for r in caplog.records if getattr(r, "correlation_id", None) == ref]
    assert len(lines) == 1
    assert lines[0].exc_info is None  # a handled state: no traceback
    assert "u:p@" not in lines[0].getMessage()  # the URL's password is redacted


def _record(**extra: object) -> logging.LogRecord:
    record = logging.LogRecord(
        "petcare_dba.ui", logging.ERROR, __file__, 1, "boom %s", ("x",), None
    )
    record.__dict__.update(extra)
    return record


def test_json_lines_carry_the_ref_and_a_traceback_only_when_there_is_one() -> None:
    settings = settings_mod.load(env={"PETCARE_LOG_FORMAT": "json", "PETCARE_LOG_LEVEL": "INFO"})
    out = io.StringIO()
    touched = [
        logging.getLogger(n)
        for n in ["petcare_dba", *logging.root.manager.loggerDict]
        if n == "petcare_dba" or n.startswith(("streamlit", "uvicorn"))
    ]
    before = [(lg, lg.handlers[:], lg.propagate, lg.level) for lg in touched]
    logs.configure(settings, out)
    logger = logging.getLogger("petcare_dba.test")
    ref = logs.new_correlation_id()
    try:
        logs.handled(logger, ref, "Not found", 'no table "x\n{}"')
        try:
            raise ValueError("unexpected")
        except ValueError as exc:
            logs.unexpected(logger, "abc123abc123", exc)
        logger.debug("hidden below the level")
    finally:  # the other tests of this process keep their logging (caplog needs propagation)
        for lg, handlers, propagate, level in before:
            lg.handlers[:], lg.propagate, lg.level = handlers, propagate, level
    first, second = (json.loads(line) for line in out.getvalue().splitlines())
    assert first["correlation_id"] == ref and first["level"] == "INFO"
    assert first["message"] == 'Not found: no table "x\n{}"' and "exc" not in first
    assert second["correlation_id"] == "abc123abc123"
    assert "ValueError: unexpected" in second["exc"]
    assert first["ts"].endswith("Z") and first["logger"] == "petcare_dba.test"


def test_text_lines_name_the_ref() -> None:
    line = logs.TextFormatter().format(_record(correlation_id="0123456789ab"))
    assert line.endswith("boom x [ref 0123456789ab]")


@pytest.mark.parametrize("value", ["yaml", "JSON ", ""])
def test_an_unknown_log_format_is_refused(value: str) -> None:
    from petcare_dba.errors import ConfigError

    with pytest.raises(ConfigError, match="PETCARE_LOG_FORMAT"):
        settings_mod.load(env={"PETCARE_LOG_FORMAT": value})

"""Errors the store keeps as English are read back as the messages they were and said in pt-BR.

A failed backup, restore, schedule run, job run or delivery keeps its error as English text (the
CLI, `--format json` and the audit log print it as it is). The services read it back against the
catalogue (`messages.recognised_in`) so a page says it in the user's language (issue 19: no app
string left in English). The SQL that writes an error itself must use a catalogue sentence word
for word; the read-back must stay linear on hostile text (a user's table name is part of it).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from importlib import resources

import psycopg
from streamlit.testing.v1 import AppTest

from petcare_dba.messages import Text, recognised_in, say
from petcare_dba.services.actor import Actor
from petcare_dba.services.alerts import channels, outbox
from petcare_dba.services.runtime import Runtime
from petcare_dba.ui import i18n
from tests.alerts.test_alert_delivery import fire
from tests.fix_monitoring import Target, target_db
from tests.monitoring.test_monitoring_page import _open

__all__ = ["target_db"]

# `error = '...'`, continued on lines that start with `||`: `'...' || to_char(...) || '...'`.
_LITERAL = re.compile(r"\berror = ('.*?(?:\n\s*\|\|.*?)*)(?:\n(?!\s*\|\|)|$)")


def _sql_errors() -> list[str]:
    """Each error the packaged SQL writes itself, with a sample value where it concatenates one."""
    found = []
    for entry in resources.files("petcare_dba.sql").iterdir():
        if not entry.name.endswith(".sql"):
            continue
        text = entry.read_text(encoding="utf-8")
        for match in _LITERAL.finditer(text):
            written = match.group(1)
            pieces = [p.strip() for p in written[: written.rindex("'") + 1].split("||")]
            found.append(
                "".join(
                    p[1:-1] if re.fullmatch(r"'[^']*'", p) else "2026-12-05 01:00:00 UTC"
                    for p in pieces
                )
            )
    return found


def test_every_error_the_packaged_sql_writes_is_a_catalogue_sentence() -> None:
    written = _sql_errors()
    assert len(written) >= 3, written  # backups (2) and jobs (1) at least
    for english in written:
        back = recognised_in(english)
        assert isinstance(back, Text) and back.key, f"not in the catalogue: {english!r}"
        assert i18n.said("pt-BR", back) != english, english


def test_a_stored_error_reads_back_with_its_values_nested_ones_too() -> None:
    inner = say("msg.backups.store_write", problem="No space left on device")
    outer = say("msg.backups.unreachable", label="s3://clinic-backups", problem=inner)
    back = recognised_in(str(outer))
    assert isinstance(back, Text) and back.key == "msg.backups.unreachable"
    assert back.params["label"] == "s3://clinic-backups"
    assert getattr(back.params["problem"], "key", "") == "msg.backups.store_write"
    pt = i18n.said("pt-BR", back)
    assert "s3://clinic-backups" in pt and "No space left on device" in pt
    assert "cannot be reached" not in pt and "could not be written" not in pt


def test_text_that_is_not_ours_stays_as_it_was() -> None:
    assert recognised_in(None) is None and recognised_in("") == ""
    pg = 'relation "public.x" does not exist'
    assert recognised_in(pg) == pg and not isinstance(recognised_in(pg), Text)
    too_long = "interrupted: the instance stopped" + " " * 3000
    assert not isinstance(recognised_in(too_long), Text)


def test_hostile_text_full_of_template_words_is_read_in_one_pass() -> None:
    """A table name can be anything; the read-back must not backtrack over it (a regular
    expression with several lazy groups would: this input would not finish)."""
    for words in ("backup 1 ended ", ": ", " is ", "; ", "interrupted: "):
        hostile = (words * (2000 // len(words)))[:1990]
        for text in (hostile, f"backup {hostile} is running; it holds no usable data"):
            back = recognised_in(text)
            assert str(back) == text  # the same text either way, translated or not


def test_a_dead_delivery_says_why_in_portuguese_on_the_outbox_tab(
    app: Callable[[], AppTest], rt: Runtime, admin: Actor, meta_url: str, target_db: Target
) -> None:
    channels.add_webhook(rt, admin, "ops", "http://127.0.0.1:9/hook")
    fire(rt, {"app_failed_logins_5m": 50.0})  # queued for ops, then ops is switched off
    with psycopg.connect(meta_url, autocommit=True) as conn:
        conn.execute("UPDATE petcare.alert_channels SET enabled = false WHERE name = 'ops'")
    outbox.deliver_due(rt)
    (row,) = outbox.rows(rt, admin)
    assert row.state == "dead" and row.last_error == "the channel is disabled"  # the CLI's
    assert getattr(row.last_error, "key", "") == "msg.outbound.channel_disabled"
    at = _open(app, "pages/alerts.py", lang="pt-BR", tab=("alerts_tab", "alerts.tab.outbox"))
    cells = {str(v) for frame in at.dataframe for v in frame.value.to_numpy().ravel()}
    assert i18n.translate("pt-BR", "msg.outbound.channel_disabled") in cells
    assert "the channel is disabled" not in cells

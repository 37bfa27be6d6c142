"""URL handling (Supabase direct and pooler), redaction, error translation, language choice."""

from __future__ import annotations

import psycopg
import pytest

from petcare_dba.db import target
from petcare_dba.db.errors import translate
from petcare_dba.errors import ConnectionLost, QueryCancelled, QueryTimeout, ValidationError, redact
from petcare_dba.services.runtime import runtime_url
from petcare_dba.ui import i18n
from petcare_dba.ui.components.errors import mark_position

POOLER = (
    "postgresql://postgres.abcdefghijklmnop:s3cr%40t@aws-0-sa-east-1.pooler.supabase.com"
    ":6543/postgres?sslmode=require"
)
DIRECT = (
    "postgresql://postgres:s3cr%40t@db.abcdefghijklmnop.supabase.co:5432/postgres?sslmode=require"
)


def test_runtime_url_keeps_the_supabase_tenant_suffix_and_options() -> None:
    url = runtime_url(POOLER, "p@ss/w:rd")
    assert url.startswith("postgresql://petcare_login.abcdefghijklmnop:p%40ss%2Fw%3Ard@")
    assert url.endswith("pooler.supabase.com:6543/postgres?sslmode=require")
    assert runtime_url(DIRECT, "x").startswith("postgresql://petcare_login:x@db.")


@pytest.mark.parametrize("url", [POOLER, DIRECT])
def test_display_url_drops_the_password_and_keeps_sslmode(url: str) -> None:
    shown = target.display_url(url)
    assert "s3cr" not in shown and "sslmode=require" in shown


def test_bad_url_is_a_validation_error() -> None:
    with pytest.raises(ValidationError):
        target.parse_url("postgresql://u:pw@/db")  # no host


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("host=h password=hunter2 dbname=x", "hunter2"),
        ("postgresql://u:hunter2@h/db", "hunter2"),
        ("ALTER ROLE app PASSWORD 'hunter2'", "hunter2"),
        ("CREATE ROLE x LOGIN PASSWORD 'it''s hunter2'", "hunter2"),
    ],
)
def test_redact_removes_passwords(text: str, secret: str) -> None:
    assert secret not in redact(text)


def test_translate_picks_the_actionable_subclass() -> None:
    cancel = psycopg.errors.QueryCanceled("canceling statement due to user request")
    assert isinstance(translate(cancel), QueryCancelled)
    timeout = psycopg.errors.QueryCanceled("canceling statement due to statement timeout")
    assert isinstance(translate(timeout), QueryTimeout)
    assert isinstance(translate(psycopg.errors.LockNotAvailable("lock")), QueryTimeout)
    killed = translate(psycopg.errors.AdminShutdown("terminating connection"))
    assert isinstance(killed, ConnectionLost) and "57P01" in killed.message
    lost = translate(psycopg.OperationalError("server closed the connection password=x"))
    assert isinstance(lost, ConnectionLost) and "password=x" not in lost.message


@pytest.mark.parametrize(
    ("saved", "browser", "expected"),
    [
        ("pt-BR", "en-US", "pt-BR"),
        (None, "pt-PT", "pt-BR"),
        (None, "en-GB", "en"),
        (None, "de-DE", "en"),
        (None, None, "en"),
    ],
)
def test_language_choice(saved: str | None, browser: str | None, expected: str) -> None:
    assert i18n.pick_language(saved, browser, "en") == expected


def test_error_position_is_marked_on_its_line() -> None:
    assert mark_position("SELECT 1;\nSELEC 2", 11) == "-- line 2\nSELEC 2\n^"

"""Pure parts of the security services: redaction (A7), hashing floor (L1), password policy,
TOTP steps (L7), export formats and relative dates of the CLI."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import argon2
import pytest

from petcare_dba.cli.security import parse_since
from petcare_dba.errors import ValidationError
from petcare_dba.services.security import audit, audit_export, passwords, totp

SECRET = "S3cret-pw-99"


@pytest.mark.parametrize(
    "text",
    [
        f"CREATE ROLE a LOGIN PASSWORD '{SECRET}'",
        f"create user a with encrypted password '{SECRET}'",
        f"ALTER ROLE a PASSWORD E'{SECRET}'",
        f"ALTER ROLE a PASSWORD U&'{SECRET}'",
        f"ALTER ROLE a PASSWORD $x${SECRET}$x$",
        f"host=h user=u password={SECRET} dbname=d",
        f"host=h password='{SECRET}' dbname=d",
        f"postgresql://user:{SECRET}@host:5432/db",
        f"could not connect: postgres://u:{SECRET}@h/db?sslmode=require",
    ],
)
def test_redaction_removes_passwords_from_sql_conninfo_and_urls(text: str) -> None:
    cleaned = audit.redact_text(text)
    assert SECRET not in cleaned and "***" in cleaned


def test_detail_values_are_redacted_by_key_and_content_at_any_depth() -> None:
    detail = {
        "password": SECRET,
        "db_password": SECRET,
        "api_key": SECRET,
        "prompt_tokens": 42,
        "nested": [{"url": f"postgresql://u:{SECRET}@h/db"}],
    }
    cleaned = audit._clean(detail)
    assert SECRET not in json.dumps(cleaned)
    assert cleaned["prompt_tokens"] == 42


def test_owasp_floor_rejects_weaker_or_non_argon2id_hashes() -> None:
    assert passwords.meets_floor(passwords.hash_password("x" * 12))
    weak = argon2.PasswordHasher(time_cost=1, memory_cost=19456, parallelism=1).hash("x")
    assert not passwords.meets_floor(weak) and passwords.needs_rehash(weak)
    floor = argon2.PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1).hash("x")
    assert passwords.meets_floor(floor) and passwords.needs_rehash(floor)  # below current defaults
    assert not passwords.meets_floor("$pbkdf2-sha256$29000$abc")
    assert not passwords.verify_password(None, "anything")


def test_password_policy_bounds() -> None:
    passwords.check_policy("Tq9-pepper-window-12", "ana")
    with pytest.raises(ValidationError):
        passwords.check_policy("Tq9-" + "x" * 2000, "ana")


def test_totp_accepts_one_step_of_drift_and_nothing_else() -> None:
    secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    now = 1_800_000_000.0
    step = int(now // 30)
    assert totp.matching_step(secret, totp.code_for(secret, now), now) == step
    assert totp.matching_step(secret, totp.code_for(secret, now - 30), now) == step - 1
    assert totp.matching_step(secret, totp.code_for(secret, now + 30), now) == step + 1
    assert totp.matching_step(secret, totp.code_for(secret, now - 90), now) is None
    assert totp.matching_step(secret, "12345", now) is None
    assert totp.matching_step(secret, "abcdef", now) is None


def _entry(seq: int, action: str, detail: dict[str, object]) -> audit.AuditEntry:
    return audit.AuditEntry(
        id=seq,
        chain_seq=seq,
        at=datetime(2026, 1, 1, tzinfo=UTC),
        username="u",
        app_role="viewer",
        action=action,
        outcome="ok",
        target=None,
        classification=None,
        sqlstate=None,
        rows_affected=None,
        duration_ms=None,
        ai_initiated=False,
        sql_text='=HYPERLINK("http://x")',
        detail=detail,
        event_id=uuid.UUID(int=seq),
    )


def test_exports_are_oldest_first_and_csv_defuses_formulas() -> None:
    entries = [_entry(2, "b", {"k": 1}), _entry(1, "a", {})]
    lines = audit_export.to_jsonl(entries).splitlines()
    assert [json.loads(x)["chain_seq"] for x in lines] == [1, 2]
    assert json.loads(lines[1])["detail"] == {"k": 1}
    text = audit_export.to_csv(entries)
    assert "'=HYPERLINK" in text and "\n=HYPERLINK" not in text
    with pytest.raises(ValidationError):
        audit_export.render(entries, "xml")


def test_since_accepts_relative_spans_and_iso_dates() -> None:
    assert parse_since(None) is None
    delta = datetime.now(UTC) - (parse_since("12h") or datetime.now(UTC))
    assert timedelta(hours=11, minutes=59) < delta < timedelta(hours=12, minutes=1)
    assert parse_since("2026-01-31") == datetime(2026, 1, 31, tzinfo=UTC)
    with pytest.raises(ValidationError):
        parse_since("yesterday")

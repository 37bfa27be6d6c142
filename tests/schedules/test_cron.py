"""Cron expressions and time zones: next due times across DST edges, catch-up counts, and the
errors bad or hostile input gets (no database)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from petcare_dba.errors import ValidationError
from petcare_dba.services.schedules import cron


def test_a_daily_time_in_a_zone_is_its_wall_clock_time() -> None:
    at = cron.next_after("0 3 * * *", "America/Sao_Paulo", datetime(2026, 6, 1, 12, tzinfo=UTC))
    assert at == datetime(2026, 6, 2, 6, tzinfo=UTC)  # 03:00 at UTC-3


def test_spring_forward_runs_a_missing_time_once_just_after_the_gap() -> None:
    # Europe/Berlin, 2026-03-29: 02:00 jumps to 03:00, so 02:30 does not exist that night.
    start = datetime(2026, 3, 28, 12, tzinfo=UTC)
    first = cron.next_after("30 2 * * *", "Europe/Berlin", start)
    second = cron.next_after("30 2 * * *", "Europe/Berlin", first)
    assert first == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)  # 03:00 CEST
    assert second == datetime(2026, 3, 30, 0, 30, tzinfo=UTC)  # 02:30 CEST the next night


def test_fall_back_runs_a_repeated_time_once() -> None:
    # 2026-10-25: 02:00-03:00 happens twice in Berlin; 02:30 runs at its first occurrence only.
    start = datetime(2026, 10, 24, 12, tzinfo=UTC)
    first = cron.next_after("30 2 * * *", "Europe/Berlin", start)
    second = cron.next_after("30 2 * * *", "Europe/Berlin", first)
    assert first == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 CEST
    assert second == datetime(2026, 10, 26, 1, 30, tzinfo=UTC)  # 02:30 CET the next night


def test_missed_ticks_are_counted_and_capped() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    assert cron.ticks_between("0 * * * *", "UTC", start, datetime(2026, 1, 1, 5, tzinfo=UTC)) == 5
    huge = cron.ticks_between("* * * * *", "UTC", start, datetime(2027, 1, 1, tzinfo=UTC))
    assert huge == cron.MISSED_CAP


def test_validate_normalises_spaces() -> None:
    assert cron.validate("  0   3 * *   1-5 ", "UTC") == ("0 3 * * 1-5", "UTC")


@pytest.mark.parametrize(
    ("expr", "words"),
    [
        ("", "empty"),
        ("* * *", "not a cron expression"),
        ("61 * * * *", "not a valid cron expression"),
        ("*/0 * * * *", "not a valid cron expression"),
        ("0 0 30 2 *", "not a valid cron expression"),  # never fires
        ("@reboot", "not a cron expression"),
        ("0 3 * * * 2026", "not a cron expression"),  # seconds/years fields are not ours
        ("0 3 * * *; DROP TABLE x", "not a cron expression"),
        ("$(reboot) * * * *", "not a cron expression"),
        ("0 3 * * *\n0 4 * * *", "not a cron expression"),
        ("1," * 200 + "2 * * * *", "longer than"),
    ],
)
def test_bad_and_hostile_cron_expressions_are_refused_clearly(expr: str, words: str) -> None:
    with pytest.raises(ValidationError, match=words):
        cron.validate(expr, "UTC")


@pytest.mark.parametrize(
    "tz", ["", "Mars/Olympus", "../../etc/passwd", "/etc/localtime", "UTC\x00", "x" * 500, "ü"]
)
def test_unknown_and_hostile_time_zones_are_refused(tz: str) -> None:
    with pytest.raises(ValidationError, match="unknown time zone"):
        cron.validate("0 3 * * *", tz)

"""The query-regression math without a database: windows, ratio, minimum calls, noise floor,
the frozen baseline of a firing statement, and the one-line rendering of outside text."""

from __future__ import annotations

from petcare_dba.services.monitoring.regressions import (
    Thresholds,
    Window,
    one_line,
    regressed,
    still_regressed,
)

T = Thresholds(baseline_s=86400, recent_s=900, ratio=2.0, min_calls=20, min_mean_ms=5.0)


def test_a_statement_twice_as_slow_as_its_baseline_regressed() -> None:
    assert regressed(Window(100, 400.0), Window(50, 400.0), T)  # 4 ms -> 8 ms


def test_just_under_the_ratio_did_not_regress() -> None:
    assert not regressed(Window(100, 400.0), Window(50, 399.0), T)  # 4 ms -> 7.98 ms


def test_too_few_calls_in_either_window_is_no_verdict() -> None:
    assert not regressed(Window(19, 19.0), Window(50, 5000.0), T)
    assert not regressed(Window(100, 100.0), Window(19, 5000.0), T)


def test_a_fast_statement_getting_slower_under_the_floor_is_noise() -> None:
    assert not regressed(Window(100, 1.0), Window(100, 400.0), T)  # 0.01 ms -> 4 ms: < 5 ms
    assert regressed(Window(100, 1.0), Window(100, 600.0), T)  # -> 6 ms


def test_a_baseline_of_zero_time_regresses_once_over_the_floor() -> None:
    assert regressed(Window(100, 0.0), Window(100, 600.0), T)
    assert Window(0, 0.0).mean_ms == 0.0


def test_a_firing_statement_is_judged_against_its_frozen_baseline() -> None:
    # The slow calls fill the baseline window while it fires; the frozen 4 ms baseline decides.
    assert still_regressed(4.0, Window(50, 400.0), T) is True  # 8 ms
    assert still_regressed(4.0, Window(50, 350.0), T) is False  # 7 ms: under 2 x 4 ms
    assert still_regressed(4.0, Window(5, 5000.0), T) is None  # too few calls: keep the state


def test_under_the_floor_a_firing_statement_resolves() -> None:
    assert still_regressed(1.0, Window(50, 200.0), T) is False  # 4 ms < 5 ms


def test_thresholds_from_settings_convert_minutes_to_seconds() -> None:
    class S:
        regression_baseline_window_minutes = 60
        regression_recent_window_minutes = 5
        regression_ratio = 3.0
        regression_min_calls = 7
        regression_min_mean_ms = 0.5

    assert Thresholds.from_settings(S()) == Thresholds(3600.0, 300.0, 3.0, 7, 0.5)


def test_outside_text_becomes_one_bounded_line() -> None:
    hostile = "SELECT 1 /* \x1b[31m\r\nX-Injected: 1\u2028\x07 */"
    line = one_line(hostile, 40)
    assert not any(c in line for c in "\x1b\r\n\u2028\x07") and len(line) <= 40

"""Test configuration: fixtures are plugins named fix_*.py (see tests/fix_db.py)."""

import os

import pytest

pytest_plugins = [
    "tests.fix_db",
    "tests.fix_ui",
    "tests.fix_browser",
    "tests.fix_pooler",
    "tests.fix_gemini",
]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """PETCARE_DB_TESTS_ONLY=1 keeps the tests that reach PostgreSQL (the `pg` fixture).

    .ci/run's second pass re-runs those on the machine's PostgreSQL 15; the rest (classifier
    rules, conventions, packaging) do not depend on the server and ran in the first pass.
    """
    if os.environ.get("PETCARE_DB_TESTS_ONLY") != "1":
        return
    kept = [i for i in items if "pg" in getattr(i, "fixturenames", ())]
    dropped = [i for i in items if "pg" not in getattr(i, "fixturenames", ())]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept

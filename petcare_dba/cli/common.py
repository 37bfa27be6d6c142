"""Shared plumbing of the CLI: settings from global options, the runtime, output formats.

Commands stay thin: they resolve settings, open a `Runtime`, call one service and print its
result as a table or JSON. Errors are PetcareError subclasses printed to stderr by `main()`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, is_dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import typer

from petcare_dba import settings as settings_mod
from petcare_dba.errors import ValidationError
from petcare_dba.services import connections
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import users
from petcare_dba.services.sql import values

STATE: dict[str, Any] = {"overrides": {}}


def current_settings(**overrides: Any) -> settings_mod.Settings:
    """Settings from defaults < file < env < global options < command options."""
    merged = {**STATE["overrides"], **{k: v for k, v in overrides.items() if v is not None}}
    return settings_mod.load(**merged)


@contextmanager
def runtime(**overrides: Any) -> Iterator[Runtime]:
    """A runtime for one command; stops the embedded server again if it started it."""
    rt = Runtime.start(current_settings(**overrides))
    try:
        yield rt
    finally:
        rt.close()


def actor(rt: Runtime, as_user: str | None) -> Actor:
    return users.actor_for(rt, as_user)


def _jsonable(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return _jsonable(asdict(value))
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        # An exact JSON number (10289.60 stays 10289.60, no float rounding); NaN as a string.
        return values.Raw(format(value, "f")) if value.is_finite() else str(value)
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    return value


def emit_json(value: Any) -> None:
    typer.echo(values.dumps(_jsonable(value), indent=2))


def emit_table(rows: Sequence[Any], columns: Sequence[str] | None = None) -> None:
    """Print rows (dicts or dataclasses) as an aligned text table."""
    data = [_jsonable(r) for r in rows]
    if not data:
        typer.echo("(no rows)")
        return
    cols = list(columns or data[0].keys())
    text = [[("" if r.get(c) is None else str(r.get(c))) for c in cols] for r in data]
    widths = [min(60, max(len(c), *(len(t[i]) for t in text))) for i, c in enumerate(cols)]
    typer.echo("  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)).rstrip())
    typer.echo("  ".join("-" * w for w in widths))
    for t in text:
        typer.echo("  ".join(v[:w].ljust(w) for v, w in zip(t, widths, strict=True)).rstrip())


def emit(rows: Sequence[Any], fmt: str, columns: Sequence[str] | None = None) -> None:
    if fmt == "json":
        emit_json(list(rows))
    else:
        emit_table(rows, columns)


def read_secret(prompt: str, env_var: str) -> str:
    """A password from the environment (no terminal) or a hidden, confirmed prompt."""
    import os

    if os.environ.get(env_var):
        return os.environ[env_var]
    if not sys.stdin.isatty():
        raise ValidationError(f"no terminal to prompt for a password: set {env_var}")
    return str(typer.prompt(prompt, hide_input=True, confirmation_prompt=True))


def one_of(*choices: str) -> Callable[[str], str]:
    """An option callback: a value outside `choices` is a usage error (usage line, exit 2)."""

    def check(value: str) -> str:
        if value not in choices:
            raise typer.BadParameter(f"{value!r} is not one of {', '.join(choices)}")
        return value

    return check


def secret_url(
    value: str | None, env_var: str, label: str, option: str, *, whole_secret: bool = False
) -> str:
    """A URL that may hold a password: `-` (stdin), `env_var`, or a hidden prompt; never argv.

    A password-bearing URL given as an argument is refused (exit 2): argv is visible to other
    users in `ps` and stays in shell history (issue 13). With `whole_secret` (webhook URLs,
    whose path is the token) any URL on argv is refused.
    """
    if value == "-":
        text = sys.stdin.readline().strip()
        if not text:
            raise ValidationError(f"no {label} on standard input")
        return text
    if value:
        if whole_secret or connections.has_password(value):
            what = "" if whole_secret else " with a password"
            typer.echo(
                f"error: refusing a {label}{what} on the command line "
                "(other users see it in `ps`, and it stays in shell history)",
                err=True,
            )
            typer.echo(
                f"hint: pass {option} - and write the URL on standard input, set {env_var}, "
                "or leave it out to be prompted",
                err=True,
            )
            raise typer.Exit(2)
        return value
    if os.environ.get(env_var):
        return os.environ[env_var]
    if not sys.stdin.isatty():
        raise ValidationError(f"no {label}: pass {option} -, set {env_var}, or use a terminal")
    return str(typer.prompt(label[:1].upper() + label[1:], hide_input=True))


def no_password_on_argv(url: str | None, env_var: str, option: str) -> None:
    """Exit 2 when a URL given as an option carries a password (issue 13); hint the variable."""
    if url and connections.has_password(url):
        typer.echo(
            f"error: refusing {option} with a password on the command line "
            "(other users see it in `ps`, and it stays in shell history)",
            err=True,
        )
        typer.echo(f"hint: set {env_var} in the environment instead", err=True)
        raise typer.Exit(2)

"""Connections to target databases (the databases users administer).

Parses and redacts URLs, and opens short-lived connections tagged with an application_name that
names the user (`petcare-dba/<user>/<session>`, reliability Q11) and with TCP keepalives and a
connect timeout, so a dead peer is noticed in under a minute instead of the OS's minutes (F2, F6).
The query engine (issue 3) builds its pools on the same `connect_kwargs`. `isolated` turns a
stored conninfo into one that libpq cannot complete from the app process's environment (Q14).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from typing import Any

import psycopg
from psycopg import pq
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from petcare_dba.db.errors import translated
from petcare_dba.errors import PetcareError, Refused, ValidationError, redact
from petcare_dba.messages import say

# A passfile that cannot exist: libpq reads ~/.pgpass (or PGPASSFILE) whenever the password is
# empty unless `passfile` names another file, and a missing file is skipped silently.
NO_PASSFILE = "/nonexistent/petcare-dba/no-passfile"
NO_CLIENT_FILE = "/nonexistent/petcare-dba/no-client-file"
# Keywords whose empty value libpq rejects: their built-in default, spelled out.
_EXPLICIT_DEFAULTS = {
    "sslcertmode": "allow",
    "min_protocol_version": "3.0",
    "max_protocol_version": "3.0",
    "passfile": NO_PASSFILE,
    "connect_timeout": "10",  # psycopg itself rejects an empty one
}
# Left to libpq: `service` is refused below; PGREQUIREAUTH can only narrow the accepted
# authentication methods (an empty value would require none and fail every password login).
_ENV_MAY_NARROW = ("service", "require_auth")
# Options that read files of the app's host, or name a service: a stored connection may use them
# only when an admin marked it to use ambient credentials.
AMBIENT_ONLY = ("service", "passfile")


def parse_url(url: str) -> dict[str, Any]:
    """Validate a libpq URL or key=value conninfo; raise ValidationError (redacted) if bad."""
    try:
        params = conninfo_to_dict(url)
    except psycopg.ProgrammingError as exc:
        # libpq's own words stay as they came; the example URLs read the same in any language.
        raise ValidationError(
            say("msg.target.bad_url", problem=redact(str(exc))),
            hint="postgresql://user:password@host:5432/dbname?sslmode=require",
        ) from exc
    if not params.get("host") and not params.get("hostaddr"):
        raise ValidationError(
            say("msg.target.no_host"), hint="postgresql://user:password@host:5432/dbname"
        )
    return dict(params)


def isolated(url: str, *, ambient: bool = False) -> str:
    """The conninfo of a stored connection with every environment-backed option made explicit.

    libpq fills each option the conninfo leaves unset from a `PG*` variable (PGPASSWORD, PGUSER,
    PGOPTIONS, PGSERVICE...), reads ~/.pgpass or PGPASSFILE when the password is empty, and
    merges a service from PGSERVICE. os.environ is shared by every thread, so instead of clearing
    it per call each such option gets an explicit value here: the URL's own, else libpq's
    compiled default, else empty; the passfile points at a file that cannot exist. A service
    named by the environment could still fill options that have no variable (sslpassword,
    scram keys), so PGSERVICE in the environment is refused. `ambient=True` (an admin's audited
    choice per connection) returns the URL as it was stored.
    """
    if ambient:
        parse_url(url)
        return url
    if os.environ.get("PGSERVICE"):  # checked on every call: the environment may change
        raise Refused(say("msg.target.pgservice"), hint=say("msg.target.pgservice.hint"))
    return _isolated(url)


# What `isolated` makes of a URL depends only on the URL and libpq's compiled defaults, and
# costs more CPU than a small query's server time; every engine run asks for it (issue 16, local
# overhead). The conninfo strings it keeps are those the target pools hold for their lifetime.
@functools.lru_cache(maxsize=64)
def _isolated(url: str) -> str:
    params = parse_url(url)
    found = [k for k in AMBIENT_ONLY if params.get(k)]
    if found:
        raise Refused(
            say("msg.target.host_files", options=", ".join(found)),
            hint=say("msg.target.host_files.hint"),
        )
    explicit: dict[str, str] = {}
    for option in pq.Conninfo.get_defaults():
        key = option.keyword.decode()
        if option.envvar is None or key in _ENV_MAY_NARROW or params.get(key) not in (None, ""):
            continue
        if key in _EXPLICIT_DEFAULTS:
            explicit[key] = _EXPLICIT_DEFAULTS[key]
        elif option.compiled is not None:
            explicit[key] = option.compiled.decode()
        else:
            explicit[key] = ""
    if not params.get("sslcert"):  # libpq would otherwise send ~/.postgresql/postgresql.crt
        explicit["sslcert"] = explicit["sslkey"] = NO_CLIENT_FILE
    return make_conninfo(url, **explicit)


def display_url(url: str) -> str:
    """The URL without its password, as shown in lists and logs."""
    params = parse_url(url)
    params.pop("password", None)
    user = params.get("user", "")
    host = params.get("host", "")
    port = params.get("port", "5432")
    dbname = params.get("dbname", user)
    extras = "&".join(
        f"{k}={v}" for k, v in sorted(params.items()) if k not in ("user", "host", "port", "dbname")
    )
    return f"postgresql://{user}@{host}:{port}/{dbname}" + (f"?{extras}" if extras else "")


def application_name(username: str, session: str, ai: bool = False) -> str:
    """`petcare-dba/<user>/<session>` (`…/ai/…` for assistant connections), max 63 bytes."""
    name = f"petcare-dba/{username}/{'ai/' if ai else ''}{session}"
    return name.encode("utf-8")[:63].decode("utf-8", "ignore")


def connect_kwargs(app_name: str, connect_timeout: int = 10) -> dict[str, Any]:
    """Keyword arguments every target connection uses."""
    return {
        "application_name": app_name,
        "connect_timeout": connect_timeout,
        "keepalives": 1,
        "keepalives_idle": 30,
        "keepalives_interval": 10,
        "keepalives_count": 3,
        "prepare_threshold": None,
        # Sent at startup, so it beats a role's or database's client_encoding (Q12: with SJIS,
        # `¥` reaches the server as a backslash).
        "client_encoding": "UTF8",
    }


def connect(
    url: str, app_name: str, connect_timeout: int = 10, **extra: Any
) -> psycopg.Connection[Any]:
    """Open one target connection (caller closes it)."""
    params: Mapping[str, Any] = {**connect_kwargs(app_name, connect_timeout), **extra}
    try:
        with translated():
            return psycopg.connect(make_conninfo(url), **params)
    except PetcareError as exc:
        if "no password supplied" in exc.message and NO_PASSFILE in make_conninfo(url):
            exc.message = say("msg.target.no_password")
            exc.hint = say("msg.target.no_password.hint")
        raise

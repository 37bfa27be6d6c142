"""Named SQL queries loaded from the package's `.sql` files.

Application SQL lives in `petcare_dba/sql/*.sql` under `-- name: query_name` headers followed by a
one-line `-- description`; this module parses each file once (importlib.resources) and hands out
the text by name, so Python never embeds SQL strings (the procrastinate pattern). Parameters are
`%(name)s` placeholders; identifiers are composed with `psycopg.sql.Identifier` by callers.
`get` is also where a deployment's store prefix applies (`naming.Names.rewrite`, issue 18).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib import resources

from psycopg import sql

from petcare_dba.db.naming import DEFAULT, Names
from petcare_dba.errors import ConfigError

_HEADER = re.compile(r"^--\s*name:\s*([a-z_][a-z0-9_]*)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Query:
    """One named query: where it came from, what it does, its text."""

    name: str
    file: str
    description: str
    text: str


def parse(text: str, file: str) -> dict[str, Query]:
    """Split a .sql file into its named queries."""
    found: dict[str, Query] = {}
    headers = list(_HEADER.finditer(text))
    for i, match in enumerate(headers):
        end = headers[i + 1].start() if i + 1 < len(headers) else len(text)
        body = text[match.end() : end].strip("\n")
        lines = body.splitlines()
        description = ""
        if lines and lines[0].startswith("--"):
            description = lines[0].lstrip("- ").strip()
        name = match.group(1)
        if name in found:
            raise ConfigError(f"query {name!r} is defined twice in {file}")
        found[name] = Query(name, file, description, body.strip())
    return found


@functools.cache
def _all() -> dict[str, Query]:
    catalog: dict[str, Query] = {}
    root = resources.files("petcare_dba") / "sql"
    for entry in sorted(root.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".sql"):
            continue
        for name, query in parse(entry.read_text(encoding="utf-8"), entry.name).items():
            if name in catalog:
                raise ConfigError(
                    f"query {name!r} is defined in {catalog[name].file} and {entry.name}"
                )
            catalog[name] = query
    return catalog


def get(name: str, names: Names = DEFAULT) -> str:
    """The SQL text of the named query, in the metadata-store names of `names`."""
    try:
        return names.rewrite(_all()[name].text)
    except KeyError:
        raise ConfigError(f"no SQL query named {name!r}") from None


def bare(name: str) -> str:
    """The named query without its description comment.

    For statements sent to a user's own server, where its DBA reads them in pg_stat_activity
    and in monitoring filters (`query LIKE 'FETCH%'`) and the comment would only be noise.
    """
    text = get(name)
    first, _, rest = text.partition("\n")
    return rest.lstrip("\n") if first.startswith("--") else text


def all_queries() -> dict[str, Query]:
    """Every named query (used by tests and docs)."""
    return dict(_all())


def param_ident(*names: str) -> sql.Composable:
    """An identifier for a composed query that is executed WITH parameters.

    psycopg scans the whole query for `%` placeholders, including quoted identifiers, so a
    column `a%b` or a table `x%y` would read as a placeholder (issue 14). The quoted name has
    its `%` doubled, which psycopg turns back into one `%` when it converts the placeholders.
    Only for queries run with parameters: without parameters psycopg sends the text as is.
    """
    return sql.SQL(sql.Identifier(*names).as_string().replace("%", "%%"))

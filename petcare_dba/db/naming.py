"""Per-deployment names in the metadata store: schema, roles, lock keys, derived from one prefix.

Two deployments may share one PostgreSQL cluster, even one database (one Supabase project), when
each has its own `store_prefix` (issue 18): the prefix is the schema (`petcare` by default) and
the stem of the three roles (`<prefix>_owner`, `<prefix>_app`, `<prefix>_login`). The `.sql`
files keep the literal `petcare` names, so they stay readable and greppable, and `Names.rewrite`
maps them when the text is loaded (queries.get for named queries, migrations.migrate for
migration files): a token-exact regex on those four known names with word boundaries, never a
substring (`petcare_dba`, `petcare-dba`, `petcare_whatif` stay). search_path alone could not do
it: roles are cluster-wide (`TO petcare_app` in every policy, `current_user = 'petcare_app'` in
triggers) and the files schema-qualify on purpose (functions pin their search_path). A rewritten
name is a quoted identifier (`"acme".users`), so even a prefix that is a keyword stays one name;
inside a string literal (`'petcare_app'`, `schemaname = 'petcare'`) it is the bare name, which is
what the catalog compares with. The default prefix returns the text unchanged, byte for byte, so
existing deployments see exactly today's names, lock keys and checksums.
"""

from __future__ import annotations

import functools
import re
import zlib
from dataclasses import dataclass

from petcare_dba import settings
from petcare_dba.errors import ConfigError

DEFAULT_PREFIX = "petcare"
# The setting's declaration holds the pattern (the registry refuses a bad value on load); Names
# checks it again because tests and tools build Names directly.
_PATTERN = settings.setting("store_prefix").pattern
_MAX = 63 - len("_owner")
_TOKEN = re.compile(r"(?<![\w\"$])petcare(?:_(owner|app|login))?(?![\w\"$-])")


def check_prefix(prefix: str) -> str:
    """`prefix` when it is a valid store prefix, else a ConfigError saying what is allowed."""
    # The longest derived name is "<prefix>_owner": PostgreSQL truncates names beyond 63 bytes,
    # so two long prefixes would otherwise silently share roles.
    if not re.fullmatch(_PATTERN, prefix):
        raise ConfigError(
            f"PETCARE_STORE_PREFIX must be a lower-case letter then lower-case letters, digits or "
            f"_ (at most {_MAX} characters, not starting with pg_, not a system "
            f"schema), not {prefix!r}",
            hint="it names the metadata schema and the roles <prefix>_owner, <prefix>_app and "
            "<prefix>_login; each deployment sharing a cluster needs its own",
        )
    return prefix


@dataclass(frozen=True)
class Names:
    """The names of one deployment in the metadata store."""

    prefix: str = DEFAULT_PREFIX

    def __post_init__(self) -> None:
        check_prefix(self.prefix)

    @property
    def default(self) -> bool:
        return self.prefix == DEFAULT_PREFIX

    @property
    def schema(self) -> str:
        return self.prefix

    @property
    def owner(self) -> str:
        return f"{self.prefix}_owner"

    @property
    def app(self) -> str:
        return f"{self.prefix}_app"

    @property
    def login(self) -> str:
        return f"{self.prefix}_login"

    def lock_key(self, base: int, *, bits: int = 64) -> int:
        """An advisory-lock key of this deployment: `base` itself for the default prefix.

        Advisory locks are per database, so two deployments in one database would otherwise
        wait on (or, with a try-lock, skip because of) each other's migrator or collector.
        """
        if self.default:
            return base
        mixed = base ^ zlib.crc32(self.prefix.encode("ascii"))
        return mixed & (2 ** (bits - 1) - 1)

    def rewrite(self, text: str) -> str:
        """`text` with the default names replaced by this deployment's (see the module doc)."""
        if self.default:
            return text
        return _rewrite(self.prefix, text)


@functools.lru_cache(maxsize=4096)
def _rewrite(prefix: str, text: str) -> str:
    def swap(match: re.Match[str]) -> str:
        name = prefix + (f"_{match.group(1)}" if match.group(1) else "")
        start, end = match.span()
        in_literal = text[start - 1 : start] == "'" and text[end : end + 1] in ("'", ".")
        return name if in_literal else f'"{name}"'

    return _TOKEN.sub(swap, text)


DEFAULT = Names()

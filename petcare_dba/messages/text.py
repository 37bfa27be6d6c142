"""A message as the house says it: English text that remembers its catalogue key and values.

`say(key, **values)` fills in the English template of `key` (the registry, `catalogue.py`) and
returns a `Text`: a `str` (what the CLI, the logs, the audit log and `--format json` print, so
nothing downstream changes) that also carries `key` and `values`, so the UI can say the same
sentence in the user's language. A value may be a `Text` itself (a rule inside a refusal), said
in the language too; any other value is outside text (a PostgreSQL message, a user's
identifier) and is inserted as it is. `joined` keeps a list of sentences (a statement's reasons)
sayable item by item; `recognised` reads back a sentence a table kept as English only, when it
fills one of a few given templates exactly. Any string operation (`+`, slicing, an f-string)
gives a plain `str` again: the English, which is what the UI then shows, so keep a `Text` whole
and pass it on as it is.
"""

from __future__ import annotations

import functools
import re
import string
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from petcare_dba.messages.catalogue import MESSAGES


class Text(str):
    """English text made from the template of `key` with `params` (`key` "": outside text, or a
    list made by `joined`)."""

    key: str
    params: dict[str, Any]

    def __new__(cls, english: str, key: str = "", params: Mapping[str, Any] | None = None) -> Text:
        made = super().__new__(cls, english)
        made.key = key
        made.params = dict(params or {})
        return made


def say(key: str, /, **params: Any) -> Text:
    """The English of message `key` with `params`, remembering both (KeyError: no such key)."""
    return Text(MESSAGES[key].format(**params), key, params)


def joined(items: Iterable[str], sep: str = "; ") -> Text:
    """Sentences joined by `sep`, each still sayable in another language."""
    listed = tuple(items)
    return Text(sep.join(listed), "", {"items": listed, "sep": sep})


def recognised(english: str, keys: Sequence[str]) -> str:
    """Stored English read back as the message it was: a `Text` of the first of `keys` whose
    template it fills exactly (each value read back the same way, else kept as written); any
    other text as it is. Only for sentences stored without their key (History's notes): try
    specific templates before general ones (`rolled back: statement {n} failed` first)."""
    for key in keys:
        found = _pattern(MESSAGES[key]).fullmatch(english)
        if found is None:
            continue
        values = {
            name: value if value == english else recognised(value, keys)
            for name, value in found.groupdict().items()
        }
        if MESSAGES[key].format(**values) == english:
            return Text(english, key, values)
    return english


@functools.cache
def _pattern(template: str) -> re.Pattern[str]:
    """A template as a pattern: its words as written, each value any text (a value named
    twice must repeat)."""
    parts: list[str] = []
    named: set[str] = set()
    for literal, field, _, _ in string.Formatter().parse(template):
        parts.append(re.escape(literal))
        if field is None:
            continue
        parts.append(f"(?P={field})" if field in named else f"(?P<{field}>.*?)")
        named.add(field)
    return re.compile("".join(parts), re.DOTALL)


def setting_help_key(name: str) -> str:
    """The catalogue key of a setting's help (its English is the registry's `help`)."""
    return f"setting_help.{name}"


def setting_help(name: str, english: str) -> Text:
    """A setting's help as a hint: the registry's English, said in the language by the UI."""
    return Text(english, setting_help_key(name))

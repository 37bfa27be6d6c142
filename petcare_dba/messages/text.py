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


def recognised(english: str, keys: Sequence[str], *, inner: bool = False) -> str:
    """Stored English read back as the message it was: a `Text` of the first of `keys` whose
    template it fills exactly (each value read back the same way, else kept as written); any
    other text as it is. Only for sentences stored without their key (History's notes): try
    specific templates before general ones (`rolled back: statement {n} failed` first).
    `inner`: read the values back against every template instead (`recognised_in`), for
    sentences that wrap another message (a note's classifier reason)."""
    for key in keys:
        found = _split(MESSAGES[key], english)
        if found is None:
            continue
        values = {
            name: value
            if value == english
            else (recognised_in(value) or value)
            if inner
            else recognised(value, keys)
            for name, value in found.items()
        }
        try:
            same = MESSAGES[key].format(**values) == english
        except (KeyError, ValueError, IndexError):  # a format spec that a read-back str fails
            same = False
        if same:
            return Text(english, key, values)
    return english


def recognised_in(english: str | None, prefixes: Sequence[str] = ("msg.",)) -> str | None:
    """Stored English (a backup's, a run's, a delivery's error) read back with `recognised`
    against every template under `prefixes` (all of them by default: a failed job's error can
    come from any domain), the most specific first: the most
    literal words, so a template that is mostly one value is tried last. None stays None."""
    if not english:
        return english
    return _recognised_in(english, tuple(prefixes))


_STORED_MAX = 2000  # the longest error column (schedule_runs.error); longer text is not ours


@functools.lru_cache(maxsize=2048)
def _recognised_in(english: str, prefixes: tuple[str, ...]) -> str:
    # Cached: the same stored error repeats down a table (every failed run of one schedule).
    if len(english) > _STORED_MAX:
        return english
    return recognised(english, _keys_under(prefixes))


@functools.cache
def _keys_under(prefixes: tuple[str, ...]) -> tuple[str, ...]:
    """Keys under `prefixes` whose template has words of its own (not a bare `{value}`), by
    literal length, longest first."""

    def literal(key: str) -> int:
        return sum(len(lit) for lit, _, _, _ in string.Formatter().parse(MESSAGES[key]))

    keys = [k for k in MESSAGES if k.startswith(prefixes) and not k.endswith(".hint")]
    return tuple(sorted((k for k in keys if literal(k) >= 8), key=literal, reverse=True))


def _split(template: str, english: str) -> dict[str, str] | None:
    """The values that make `template` read as `english`, each cut at the first occurrence of
    the words that follow it (None: it does not fit). One pass, no backtracking: stored text
    can hold a user's names, and a regular expression with several lazy groups would let a name
    full of the template's words cost polynomial time; an unlucky cut just leaves it English."""
    parts = [(lit, field) for lit, field, _, _ in string.Formatter().parse(template)]
    if not parts or not english.startswith(parts[0][0]):
        return None
    pos, values = len(parts[0][0]), dict[str, str]()
    for i, (_, field) in enumerate(parts):
        if field is None:
            break
        after = parts[i + 1][0] if i + 1 < len(parts) else ""
        last = i + 1 >= len(parts) or (parts[i + 1][1] is None)
        if last:
            end = len(english) - len(after)
            if end < pos or not english.endswith(after):
                return None
        elif not after:
            return None  # two values side by side: no words to cut at
        else:
            end = english.find(after, pos)
            if end < 0:
                return None
        value = english[pos:end]
        if values.setdefault(field, value) != value:
            return None
        pos = end + len(after)
    return values if pos == len(english) else None


def setting_help_key(name: str) -> str:
    """The catalogue key of a setting's help (its English is the registry's `help`)."""
    return f"setting_help.{name}"


def setting_help(name: str, english: str) -> Text:
    """A setting's help as a hint: the registry's English, said in the language by the UI."""
    return Text(english, setting_help_key(name))

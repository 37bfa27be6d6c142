"""The one catalogue of user-facing strings, in English and Brazilian Portuguese.

Every string the UI shows goes through `t(key, **values)`. Catalogues are JSON files in
`ui/locales/`: one per language plus one per feature and language, so each feature owns its
strings (a test checks both languages have the same keys and placeholders). The language is the
user's saved choice, else the browser's (`st.context.locale`), else the `default_language`
setting. Some strings keep their English outside the files, where the CLI reads it too, so
only the other languages have a file: a setting's help (`setting_help.<name>`: the settings
registry's own `help`, which also feeds docs/settings.md; `setting_help.pt-BR.json`), the
sentences of a health component's detail (`health.*`: `services.monitoring.health.DETAILS`;
`health.pt-BR.json`), the messages of errors and refusals (`msg.*`: `petcare_dba.messages`;
`messages.pt-BR.json`) and the error classes' titles (`errors.title.*`: `errors.TITLES`;
`errors.pt-BR.json`). `said` says a message (`messages.Text`) in a language.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any

from petcare_dba.errors import TITLES
from petcare_dba.messages import MESSAGES, Text, setting_help_key
from petcare_dba.services.monitoring import health
from petcare_dba.settings import SETTINGS
from petcare_dba.ui.components import format as fmt

LANGUAGES = {"en": "English", "pt-BR": "Português (Brasil)"}
_CURRENT: dict[str, str] = {}


@functools.cache
def catalogue(language: str) -> dict[str, str]:
    """The strings of one language: `locales/<language>.json` plus one file per feature,
    `locales/<feature>.<language>.json`, so features own their strings."""
    root = resources.files("petcare_dba") / "ui" / "locales"
    data: dict[str, str] = {}
    names = sorted(e.name for e in root.iterdir() if e.name.endswith(f".{language}.json"))
    for name in [f"{language}.json", *names]:
        for key, value in json.loads((root / name).read_text(encoding="utf-8")).items():
            if key in data:
                raise ValueError(f"UI string {key!r} is defined twice ({name})")
            data[key] = value
    if language == "en":
        data |= {help_key(s.name): s.help for s in SETTINGS} | health.DETAILS | MESSAGES | TITLES
    return data


def help_key(setting: str) -> str:
    """The catalogue key of a setting's help text."""
    return setting_help_key(setting)


def pick_language(saved: str | None, browser: str | None, default: str) -> str:
    """Saved choice, else the browser's language when supported, else the default."""
    if saved in LANGUAGES:
        return saved
    if browser:
        lowered = browser.lower()
        if lowered.startswith("pt"):
            return "pt-BR"
        if lowered.startswith("en"):
            return "en"
    return default if default in LANGUAGES else "en"


def translate(language: str, key: str, **values: object) -> str:
    """The string for `key` in `language` (English, then the key itself, as fallbacks)."""
    text = catalogue(language).get(key) or catalogue("en").get(key) or key
    return text.format(**values) if values else text


def said(language: str, text: object) -> str:
    """A message in `language`: a `messages.Text` with a key the catalogues know is its template
    in the language, each value said too when it is a `Text` (a rule inside a refusal) and a
    fraction written the locale's way; anything else (a plain string, outside text) as it is."""
    if not isinstance(text, Text):
        return str(text)
    if not text.key:
        items = text.params.get("items")
        if isinstance(items, tuple):
            return str(text.params.get("sep", "; ")).join(said(language, i) for i in items)
        return str(text)
    if text.key not in catalogue("en"):
        return str(text)
    return translate(language, text.key, **{k: _value(language, v) for k, v in text.params.items()})


def _value(language: str, value: Any) -> Any:
    if isinstance(value, Text):
        return said(language, value)
    # Whole numbers stay as written: they are ids, pids, ports and byte counts as often as
    # amounts, and `backup 1.234` would misname a backup; a fraction takes the locale's comma.
    if isinstance(value, float):
        return fmt.number(value, language)
    return value

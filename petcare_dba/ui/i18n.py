"""The one catalogue of user-facing strings, in English and Brazilian Portuguese.

Every string the UI shows goes through `t(key, **values)`. Catalogues are JSON files in
`ui/locales/`: one per language plus one per feature and language, so each feature owns its
strings (a test checks both languages have the same keys and placeholders). The language is the
user's saved choice, else the browser's (`st.context.locale`), else the `default_language`
setting.
"""

from __future__ import annotations

import functools
import json
from importlib import resources

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
    return data


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

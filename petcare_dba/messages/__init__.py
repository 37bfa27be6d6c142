"""The words of the house's messages, once: English templates by catalogue key, and `Text`.

Errors and refusals are English for the CLI, the logs and the audit log, and said in the user's
language by the UI (issue 19). Each sentence is a template here (`MESSAGES`, by domain in the
modules of this package); a service raises `say(key, **values)`, a `str` with the English that
also remembers the key and values; `ui/i18n.py` takes the English catalogue's text from here (as
a setting's help from the settings registry) and the other languages from
`ui/locales/messages.<language>.json`. This package imports nothing else of the house.
"""

from __future__ import annotations

from petcare_dba.messages.catalogue import MESSAGES
from petcare_dba.messages.text import (
    Text,
    joined,
    recognised,
    recognised_in,
    say,
    setting_help,
    setting_help_key,
)

__all__ = [
    "MESSAGES",
    "Text",
    "joined",
    "recognised",
    "recognised_in",
    "say",
    "setting_help",
    "setting_help_key",
]

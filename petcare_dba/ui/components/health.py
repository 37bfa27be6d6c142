"""A health component's detail as the UI says it: each sentence in the user's language.

`services.monitoring.health` gives every component an English `detail` (the CLI, the JSON, the
log) and the same sentences as catalogue keys with their values (`detail_parts`). Here each is
said with `t`, its numbers written the locale's way; outside text (a driver's error message, the
cache layer's reason) stays as it came, while the sentence around it is translated, unless it is
one of the house's own messages (`messages.Text`: a read path's problems), said in the language
too. A component built without parts (an error from the probe itself) shows its `detail` as is.
"""

from __future__ import annotations

from petcare_dba.services.monitoring import health
from petcare_dba.ui import i18n, state
from petcare_dba.ui.components import format as fmt


def detail(component: health.Component) -> str:
    """The component's detail in the session's language."""
    return component.say(_said)


def _said(phrase: health.Phrase) -> str:
    language = state.language()
    if not phrase.key:  # outside text; an error made with `messages.say` is said in the language
        return i18n.said(language, phrase.params["text"])
    values = {
        k: fmt.number(v, language)
        if isinstance(v, int | float) and not isinstance(v, bool)
        else i18n.said(language, v)  # a message (the read path's problems) in the language too
        for k, v in phrase.params.items()
    }
    return state.t(phrase.key, **values)

"""The AI assistant: questions with schema context, bounded tool use, inert answers.

Context, tools, safety and prompts live here; `petcare_dba.ai` holds only the model adapters.
The face hands on `ask`, `draft_sql`, conversations and the types pages show.
"""

from __future__ import annotations

from petcare_dba.services.assistant import (
    prompts,
)
from petcare_dba.services.assistant.answers import (
    Answer,
    AskStream,
    ask,
    ask_all,
    draft_sql,
    system_prompt,
)
from petcare_dba.services.assistant.context import (
    CONSENT_LEVELS,
)
from petcare_dba.services.assistant.conversations import (
    delete_conversation,
    get_conversation,
    list_conversations,
    messages,
    rename_conversation,
    set_consent,
    tokens_today,
)
from petcare_dba.services.assistant.proposals import (
    run_proposal,
)
from petcare_dba.services.assistant.safety import (
    Proposal,
    proposals_in,
)
from petcare_dba.services.assistant.tools import (
    ToolRun,
)

__all__ = [
    "CONSENT_LEVELS",
    "Answer",
    "AskStream",
    "Proposal",
    "ToolRun",
    "ask",
    "ask_all",
    "delete_conversation",
    "draft_sql",
    "get_conversation",
    "list_conversations",
    "messages",
    "prompts",
    "proposals_in",
    "rename_conversation",
    "run_proposal",
    "set_consent",
    "system_prompt",
    "tokens_today",
]

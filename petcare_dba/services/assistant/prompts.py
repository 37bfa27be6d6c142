"""Questions other pages ask the assistant: explain, why it failed, optimise, write SQL, fix.

The SQL editor and the advisor hand these to the assistant page (`assistant_question` in the
session) or to `services.assistant.draft_sql`; the wording asks for SQL in a ```sql block so the
answer's proposals can be opened in the editor, never run by the assistant.
"""

from __future__ import annotations

from typing import Any

from petcare_dba.services.assistant import safety


def explain_query(sql_text: str) -> str:
    return f"Explain what this query does, step by step:\n```sql\n{sql_text.strip()}\n```"


def why_failed(sql_text: str, sqlstate: str | None, message: str) -> str:
    return (
        f"Why did this fail with SQLSTATE {sqlstate or 'unknown'}: {message}?\n"
        f"```sql\n{sql_text.strip()}\n```\nPropose a corrected statement in a ```sql block."
    )


def optimise(sql_text: str, plan: str) -> str:
    return (
        f"Optimise this query. Its EXPLAIN plan is below. Propose indexes or a rewrite in "
        f"```sql blocks.\n```sql\n{sql_text.strip()}\n```\nPlan:\n{plan.strip()}"
    )


def write_sql(request: str) -> str:
    return (
        f"Write one PostgreSQL statement for: {request.strip()}\n"
        "Answer with the statement in a single ```sql block and one sentence about it."
    )


def fix_finding(finding: Any) -> str:
    # Object and detail come from the target database (other sessions' statement text): no
    # literals, personal values masked, no tag can open or close in them (U4).
    obj = safety.defuse(safety.scrub_literals(str(finding.object)))
    detail = safety.defuse(safety.scrub_literals(str(finding.detail)))
    return (
        f"Explain this advisor finding and propose a fix in a ```sql block: [{finding.level}] "
        f"{finding.title} on {obj}: {detail} "
        f"(suggested remediation: {finding.remediation})"
    )

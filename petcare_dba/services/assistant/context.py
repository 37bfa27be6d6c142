"""The context sent with a question: the schema that matters, within a token budget.

Tables are ranked by how well their names, columns and comments match the question (and the
editor's SQL), and the foreign-key neighbours of the best matches follow them, so on a schema
of 10,000 tables the tables a question names are described in full while the rest appear as
names only until the budget (`ai_context_tokens`) is spent. What else goes in depends on the
connection's consent level: 'none' sends nothing from the database, 'schema' sends structure,
'stats' adds sizes and statistics, 'data' adds a few masked sample rows inside the untrusted
boundary. Everything read from the database (names, comments, defaults, check definitions,
server settings, advisor findings, error messages) is quoted inside the request's untrusted
boundary with look-alike tags defused (U4); statement text in findings is normalised (literals
become `$n`) and personal values are masked. The returned `Context.payload` is exactly what was
sent, for the UI's expander.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from petcare_dba.ai import estimate_tokens
from petcare_dba.db import target
from petcare_dba.errors import PetcareError
from petcare_dba.messages import say
from petcare_dba.services import connections
from petcare_dba.services.actor import Actor
from petcare_dba.services.assistant import safety
from petcare_dba.services.connections import Connection
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.sql import engine

CONSENT_LEVELS = ("none", "schema", "stats", "data")
_INDEX_TTL_S = 60.0
_DETAIL_TABLES = 30
_SAMPLE_TABLES = 3
_SAMPLE_ROWS = 5
_STOP = frozenset(
    "the and for with from into select table tables how many what which show list count data "
    "all are was were this that there their per por que qual quais quantos quantas para com "
    "uma um dos das nos nas the sql query rows row each por from where order group last latest "
    "give find get tell explain why does make write".split()
)


@dataclass(frozen=True)
class TableEntry:
    """One relation as the ranking sees it."""

    schema: str
    name: str
    comment: str
    estimated_rows: int
    columns: tuple[str, ...]
    column_comments: str
    refs: tuple[str, ...]

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"


@dataclass(frozen=True)
class Context:
    """The context block of one question and what it contained."""

    text: str
    payload: dict[str, Any]
    tokens: int
    consent: str
    tables: tuple[str, ...] = ()
    listed: int = 0
    omitted: int = 0
    sections: tuple[str, ...] = field(default_factory=tuple)


def consent_allows(consent: str, level: str) -> bool:
    """True when `consent` is at or above `level` (none < schema < stats < data)."""
    return CONSENT_LEVELS.index(consent) >= CONSENT_LEVELS.index(level)


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def words_of(text: str) -> set[str]:
    """Lower-case, accent-free words of a question (identifiers split on dots)."""
    found = set(re.findall(r"[a-z0-9_]+", _fold(text)))
    return {w for w in found if len(w) >= 3 and w not in _STOP}


def _stem(word: str) -> str:
    return word[:-1] if word.endswith("s") and len(word) > 3 else word


def _name_score(name: str, words: set[str]) -> int:
    name = _fold(name)
    if name in words:
        return 100
    stem = _stem(name)
    best = 0
    for w in words:
        ws = _stem(w)
        if ws == stem:
            return 80
        common = len(_common_prefix(ws, stem))
        if common >= 5 and common >= 0.8 * min(len(ws), len(stem)):
            best = max(best, 50)
    parts = [p for p in name.split("_") if len(p) >= 3]
    best = max(best, 10 * sum(1 for p in parts if p in words or _stem(p) in words))
    return best


def _common_prefix(a: str, b: str) -> str:
    i = 0
    while i < min(len(a), len(b)) and a[i] == b[i]:
        i += 1
    return a[:i]


def rank(entries: Sequence[TableEntry], text: str) -> list[tuple[TableEntry, int]]:
    """Entries ordered by relevance to `text` (score > 0 first), FK neighbours pulled up."""
    words = words_of(text)
    scores: dict[str, int] = {}
    by_name = {e.qualified: e for e in entries}
    for e in entries:
        score = _name_score(e.name, words)
        if _fold(e.qualified) in words or _fold(e.qualified) in _fold(text):
            score = max(score, 120)
        score += min(20, 4 * sum(1 for c in e.columns if _fold(c) in words))
        if e.comment or e.column_comments:
            comment_words = words_of(e.comment + " " + e.column_comments)
            score += min(10, 2 * len(comment_words & words))
        scores[e.qualified] = score
    referencing: dict[str, list[str]] = {}
    for e in entries:
        for ref in e.refs:
            referencing.setdefault(ref, []).append(e.qualified)
    boosted = dict(scores)
    for q, score in scores.items():
        if score < 40:
            continue
        neighbours = list(by_name[q].refs) + referencing.get(q, [])
        for n in neighbours:
            if n in boosted:
                boosted[n] = max(boosted[n], score // 3)
    ordered = sorted(entries, key=lambda e: (-boosted[e.qualified], e.schema, e.name))
    return [(e, boosted[e.qualified]) for e in ordered]


def _entries(rows: list[dict[str, Any]]) -> tuple[TableEntry, ...]:
    return tuple(
        TableEntry(
            r["schema"],
            r["name"],
            r["comment"] or "",
            int(r["estimated_rows"] or 0),
            tuple(r["columns"] or ()),
            r["column_comments"] or "",
            tuple(r["refs"] or ()),
        )
        for r in rows
    )


def schema_index(rt: Runtime, actor: Actor, conn: Connection) -> list[TableEntry]:
    """Every relation with its columns and references (cached per user and connection).

    In the runtime's cache (`services.cache`), dropped on every instance by DDL on the
    connection; per user, because the assistant reads as that user's read path.
    """
    parts = (actor.user_id,)
    hit = rt.cache.get("schema", conn.id, parts, _entries)
    if hit is not None:
        return list(hit)
    generation = rt.cache.generation(conn.id)
    rows = _read(rt, actor, conn.name, "ai_schema_index")
    rt.cache.put("schema", conn.id, parts, rows, generation=generation, ttl_s=_INDEX_TTL_S)
    return list(_entries(rows))


def _read(
    rt: Runtime, actor: Actor, conn_name: str, query: str, params: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """A packaged catalog query on the target under the assistant's application_name."""
    # Counts against the user's cap (F7); the assistant reads as the least-privilege role (Q3).
    with connections.held(
        rt, actor, conn_name, read_path=True, who=say("msg.connections.who.assistant")
    ) as url:
        return target.read(
            url,
            target.application_name(actor.username, actor.session_id, ai=True),
            query,
            params,
            timeout_ms=engine.AI_STATEMENT_TIMEOUT_MS,
            connect_timeout=rt.settings.connect_timeout_s,
        )


def describe(
    rt: Runtime, actor: Actor, conn: Connection, tables: Sequence[str], consent: str
) -> dict[str, str]:
    """A compact text description per table: columns, constraints, indexes (and stats)."""
    if not tables:
        return {}
    params = {"tables": list(tables)}
    cols = _read(rt, actor, conn.name, "ai_table_columns", params)
    cons = _read(rt, actor, conn.name, "ai_table_constraints", params)
    stats = (
        {
            f"{r['schema']}.{r['name']}": r
            for r in _read(rt, actor, conn.name, "ai_table_stats", params)
        }
        if consent_allows(consent, "stats")
        else {}
    )
    lines: dict[str, list[str]] = {t: [] for t in tables}
    for c in cols:
        q = f"{c['schema']}.{c['name']}"
        line = f"  {c['column_name']} {c['type']}"
        line += " NOT NULL" if c["not_null"] else ""
        line += f" DEFAULT {c['column_default']}" if c["column_default"] else ""
        if consent_allows(consent, "stats") and c["null_frac"] is not None:
            line += (
                f" [null_frac={float(c['null_frac']):.2f} n_distinct={float(c['n_distinct']):g}]"
            )
        line += f"  -- {c['comment']}" if c["comment"] else ""
        lines.setdefault(q, []).append(line)
    for c in cons:
        q = f"{c['schema']}.{c['name']}"
        lines.setdefault(q, []).append(f"  {c['kind']} {c['object']}: {c['definition']}")
    out = {}
    for q, body in lines.items():
        head = f"TABLE {q}"
        s = stats.get(q)
        if s:
            head += f" (~{s['n_live_tup']} rows, {s['total_bytes']} bytes, dead {s['n_dead_tup']})"
        out[q] = "\n".join([head, *body])
    return out


def _samples(
    rt: Runtime, actor: Actor, conn: Connection, tables: Sequence[str], boundary: str
) -> list[str]:
    """A few masked rows per table, read through the engine's AI (read-only) path."""
    rows_each = max(0, min(_SAMPLE_ROWS, rt.settings.ai_max_data_rows))
    found = []
    for q in tables[:_SAMPLE_TABLES]:
        schema, _, name = q.partition(".")
        try:
            result = engine.run(
                rt,
                actor,
                conn.name,
                target.sample_text(schema, name, rows_each),  # identifiers via psycopg.sql
                ai_initiated=True,
                max_rows=rows_each,
            )
        except PetcareError:
            continue
        if not result.ok or not result.results:
            continue
        res = result.results[0]
        data = safety.mask_rows(res.columns, res.rows, rows_each)
        found.append(safety.wrap_untrusted(boundary, f"sample:{q}", json.dumps(data, default=str)))
    return found


def build(
    rt: Runtime,
    actor: Actor,
    conn: Connection | None,
    question: str,
    *,
    boundary: str,
    editor_sql: str = "",
    last_error: str = "",
    findings: Sequence[Any] = (),
    budget: int | None = None,
) -> Context:
    """The context of one question within `budget` tokens (default: ai_context_tokens)."""
    budget = int(budget if budget is not None else rt.settings.ai_context_tokens)
    consent = conn.ai_consent if conn is not None else "none"
    if (
        consent == "data"
        and rt.settings.ai_provider == "gemini"
        and not rt.settings.gemini_paid_tier
    ):
        consent = "stats"  # AI4: no rows to an unpaid tier without the admin's acknowledgement
    payload: dict[str, Any] = {"consent": consent, "connection": conn.name if conn else None}
    sections: list[str] = []

    def add(name: str, text: str) -> bool:
        if estimate_tokens("\n\n".join([*sections, text])) > budget:
            return False
        sections.append(text)
        payload.setdefault("sections", []).append({"name": name, "text": text})
        return True

    if editor_sql.strip():
        add("editor", "The user's SQL editor contains:\n" + editor_sql.strip()[:budget])
    if last_error.strip():
        # The server's message can carry text a table owner wrote (RAISE, constraint names).
        add(
            "error",
            "The last run failed with:\n"
            + safety.wrap_catalog(boundary, "error", last_error.strip()[:2000]),
        )
    described: list[str] = []
    listed = omitted = 0
    if conn is not None and consent_allows(consent, "schema"):
        facts = _read(rt, actor, conn.name, "ai_server_facts")[0]
        add(
            "server",
            safety.wrap_catalog(
                boundary,
                "server",
                f"PostgreSQL {facts['server_version']}, database {facts['database']}; settings: "
                + json.dumps(facts["settings"], sort_keys=True),
            ),
        )
        ranked = rank(schema_index(rt, actor, conn), f"{question}\n{editor_sql}")
        wanted = [e.qualified for e, score in ranked[:_DETAIL_TABLES] if score > 0]
        if not wanted and len(ranked) <= _DETAIL_TABLES:
            wanted = [e.qualified for e, _ in ranked]
        details = describe(rt, actor, conn, wanted, consent)
        for q in wanted:
            if q in details and add("table", safety.wrap_catalog(boundary, "schema", details[q])):
                described.append(q)
        relevant = [
            f
            for f in findings
            if any(q in str(getattr(f, "object", "")) for q in described) or not described
        ][:10]
        if relevant:
            add(
                "findings",
                "Advisor findings:\n"
                + safety.wrap_catalog(
                    boundary,
                    "advisor",
                    "\n".join(
                        f"- [{f.level}] {f.title}: {safety.scrub_literals(str(f.object))} — "
                        f"{safety.scrub_literals(str(f.detail))}"
                        for f in relevant
                    ),
                ),
            )
        rest = [e for e, _ in ranked if e.qualified not in described]
        lines: list[str] = []
        for e in rest:
            line = (
                f"{e.qualified}({', '.join(e.columns[:12])}{', …' if len(e.columns) > 12 else ''})"
            )
            if estimate_tokens("\n\n".join([*sections, "\n".join([*lines, line])])) + 40 > budget:
                break
            lines.append(line)
        listed, omitted = len(lines), len(rest) - len(lines)
        if lines:
            note = f"\n({omitted} more tables not shown; call list_tables)" if omitted else ""
            add(
                "other_tables",
                "Other tables (columns only):\n"
                + safety.wrap_catalog(boundary, "schema", "\n".join(lines))
                + note,
            )
        if consent_allows(consent, "data") and described:
            for sample in _samples(rt, actor, conn, described, boundary):
                add("sample", sample)
    text = "\n\n".join(sections)
    return Context(
        text,
        payload,
        estimate_tokens(text),
        consent,
        tuple(described),
        listed,
        omitted,
        tuple(s["name"] for s in payload.get("sections", [])),
    )

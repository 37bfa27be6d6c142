"""Issue 19, both languages everywhere: every registered page in pt-BR shows no English app text.

An admin with realistic data (a target connection with a table, SQL history, a backup, an
advisor run with findings, a project with a script, monitoring samples) opens every page of
`PAGES` in pt-BR through AppTest. Everything the page sends is collected: titles, headings,
markdown, captions, alerts, widget labels/help/options/placeholders, tabs, expanders, metrics
and the grid's column headers and cells. A string is a miss when it matches the English text of a
catalogue key whose pt-BR text differs (placeholders as wildcards), when a header or label
carries a common English UI word, or when a choice widget falls back to Streamlit's built-in
English placeholder ("Choose an option"). User data (table names, SQL, connection names) is not
app text: it is named in `ALLOWED` or comes from the seeded data. A grid cell is a miss when it is
an app word (an outcome, status, kind, severity, source or yes/no: `APP_WORDS`) in English, or
when it holds the English text of a catalogue key (the Settings page's health details), whole or
as one of its "; "-joined sentences.

A second test pins the number and time formats (Babel) on the dashboard, history and backups.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Iterator
from typing import Any

import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

from petcare_dba.services import advisor, backups, connections, projects
from petcare_dba.services.actor import Actor
from petcare_dba.services.monitoring import collector
from petcare_dba.services.monitoring.collector import insert_samples
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.sql import engine
from petcare_dba.ui import i18n
from petcare_dba.ui.components import format as fmt
from petcare_dba.ui.pages_registry import PAGES
from tests.fix_db import ADMIN_PASSWORD
from tests.fix_monitoring import Target, target_db
from tests.fix_ui import sign_in

__all__ = ["target_db"]

CHECKED = list(PAGES)  # every registered page, Settings included

# Common English UI words: a header or label holding one is English (whole words, any case).
ENGLISH_WORDS = {
    "run", "save", "delete", "cancel", "name", "created", "updated", "rows", "table",
    "schema", "size", "query", "queries", "duration", "error", "errors", "choose", "option",
    "started", "user", "outcome", "message", "calls", "mean", "last", "first",
    "next", "previous", "open", "close", "add", "remove", "edit", "new", "show", "hide",
    "settings", "search", "filter", "value", "column", "columns", "type", "kind", "owner",
    "level", "title", "description", "object", "findings", "resolved", "count", "time",
    "date", "finished", "ended", "bytes", "dead", "live", "last_vacuum", "by",
    "at", "the", "and", "of", "with", "for", "from", "to", "is", "are", "none",
    "yes", "enabled", "disabled", "active", "role", "connection", "connections", "state",
    "wait", "waiting", "blocked", "restore", "verify", "preview",
    "download", "upload", "export", "import", "project", "projects",
    "version", "versions", "history", "expires", "expired", "scope",
    "every", "schedule", "schedules", "alert", "alerts", "rule", "rules",
    "severity", "status", "action", "actions", "details", "detail", "password", "username",
    "language", "sign", "logout", "refresh", "apply", "clear", "reset", "latest",
    "setting", "advice", "without", "primary", "key", "index", "unused", "slow",
}  # fmt: skip
# Proper nouns, SQL keywords, identifiers and units that read the same in both languages,
# plus the seeded user data (connection, table, project and script names, the SQL run).
ALLOWED = {
    "PetCare DBA Admin", "English", "Português (Brasil)", "PostgreSQL", "SQL", "CSV",
    "JSON", "Excel", "Markdown", "Gemini", "MCP", "SQLSTATE", "ID", "id", "ms", "s", "B",
    "KiB", "MiB", "GiB", "TiB", "NULL", "TRUE", "FALSE", "ERROR", "WARN", "INFO", "OK",
    "admin", "dba", "analyst", "viewer", "self", "tgt", "pets", "public", "reports",
    "count_pets", "cron", "-", "—", "·", "#", "%", "p95", "p99", "PID", "pid", "S3", "URL",
    "IP", "DDL", "API", "VACUUM", "ANALYZE", "EXPLAIN", "SELECT", "INSERT", "UPDATE",
    "DELETE", "WAL", "TOAST", "UTC", "transaction", "autocommit", "Email", "Webhook",
    "E-mail", "webhook", "Slack", "SMTP",
}  # fmt: skip
# Not in ENGLISH_WORDS on purpose: loanwords pt-BR uses as they are (backup, script, token,
# cron, status is not one: the catalogue says "Situação").
SEEDED_SQL = ("SELECT count(*) FROM pets", "SELECT name FROM pets ORDER BY id")
SLOW = "SELECT pg_sleep(1.25)"
STREAMLIT_DEFAULT = "Choose an option"
# The app's own words as a grid cell shows them (the grid's `grid.word.*`, the outcomes
# `common.outcome.*`) where pt-BR has another word, and the booleans written as text.
APP_WORDS = {
    text
    for key, text in i18n.catalogue("en").items()
    if key.startswith(("grid.word.", "common.outcome.")) and text != i18n.catalogue("pt-BR")[key]
} | {"True", "False", "true", "false", "yes", "no"}
_WORD = re.compile(r"[^\W\d_]+")  # letters, accented ones too; `_` splits snake_case
# An identifier escaped by `plain` (`public\\.np`, `log\\_min\\_duration\\_statement`) is data.
_IDENTIFIER = re.compile(r"\S*\\[_.]\S*")
# A machine name (`advisor-error-finding`, `connection.add`, `count_pets`) is an identifier.
_MACHINE = re.compile(r"\b\w+(?:[-._]\w+)+\b")
_DECOR = re.compile(r":material/[a-z_]+:|:[a-z]+\[|[*`_#>\[\]()]")


def _template(text: str) -> re.Pattern[str] | None:
    """An English catalogue text as a pattern (`{n}` matches anything), or None when its
    literal text is too short to tell apart from data (a unit, a symbol, one letter)."""
    parts, literal = [], ""
    for lit, field, _, _ in string.Formatter().parse(text):
        parts.append(re.escape(lit))
        literal += lit
        if field is not None:
            parts.append(".+?")
    if len(_WORD.findall(literal)) == 0 or len("".join(_WORD.findall(literal))) < 4:
        return None
    return re.compile("".join(parts), re.S)


def _english_only() -> list[tuple[str, re.Pattern[str]]]:
    en, pt = i18n.catalogue("en"), i18n.catalogue("pt-BR")
    out = []
    for key, text in en.items():
        if pt.get(key) != text and text.strip() not in ALLOWED:
            pattern = _template(text.strip())
            if pattern is not None:
                out.append((key, pattern))
    return out


def _clean(text: str) -> str:
    return " ".join(_DECOR.sub(" ", _IDENTIFIER.sub(" ", text)).split())


def _collect(node: Any, out: list[tuple[str, str]]) -> None:
    """(kind, text) of everything a node shows; `kind` says where it came from."""
    kind = getattr(node, "type", "")
    proto = getattr(node, "proto", None)
    if kind in {"tab", "expander", "status"} and getattr(node, "label", ""):
        out.append(("label", str(node.label)))
    if proto is not None and hasattr(proto, "ListFields"):
        for field, value in proto.ListFields():
            if field.name in {"label", "placeholder", "help"} and isinstance(value, str):
                out.append(("label" if field.name != "help" else "text", value))
            elif field.name == "options" and kind in {"selectbox", "multiselect", "radio"}:
                out.extend(("option", str(v)) for v in value)
            elif field.name == "body" and isinstance(value, str):
                out.append(("text", value))
        if kind in {"selectbox", "multiselect"} and not proto.placeholder:
            empty = kind == "multiselect" or not proto.options or not proto.HasField("default")
            if empty:  # the browser then shows "Choose an option" / "No options to select"
                out.append(("placeholder", proto.label))
        if kind == "date_input" and proto.format != "DD/MM/YYYY":
            out.append(("date_format", f"{proto.label} ({proto.format})"))
        if kind == "dataframe":
            frame = pa.ipc.open_stream(proto.arrow_data.data).read_all()
            out.extend(("header", str(name)) for name in frame.column_names)
            # Text cells as drawn: the Styler's text when there is one (its "True" of a boolean
            # column is not: the browser draws a checkbox).
            shown = proto.arrow_data.styler.display_values
            drawn = pa.ipc.open_stream(shown).read_all() if shown else frame
            for i, column in enumerate(frame.columns):
                if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
                    cells = drawn.column(i).to_pylist()
                    out.extend(("cell", v) for v in cells if isinstance(v, str))
        if kind == "metric":
            out.append(("label", str(proto.label)))
    for child in getattr(node, "children", {}).values():
        _collect(child, out)


def _app_sentence(cell: str, patterns: list[tuple[str, re.Pattern[str]]]) -> str | None:
    """The key of the English catalogue text a cell holds, whole or as one of its "; "-joined
    sentences (a health component's detail), if any."""
    sentences = {cell.strip(), *(s.strip() for s in cell.split("; "))}
    keys = [(p.pattern, k) for k, p in patterns for s in sentences if p.fullmatch(s)]
    return max(keys, key=lambda found: len(found[0]))[1] if keys else None  # the most literal


def _misses(at: AppTest, patterns: list[tuple[str, re.Pattern[str]]]) -> list[str]:
    seen: list[tuple[str, str]] = []
    _collect(at._tree, seen)
    found: list[str] = []
    for kind, raw in seen:
        if kind == "placeholder":
            found.append(f"{raw!r} falls back to Streamlit's English {STREAMLIT_DEFAULT!r}")
            continue
        if kind == "date_format":
            found.append(f"{raw!r} shows dates the English way, not DD/MM/YYYY")
            continue
        if kind == "cell":
            if raw.strip() in APP_WORDS:
                found.append(f"cell: {raw!r} is an app word left in English")
            elif key := _app_sentence(raw, patterns):
                found.append(f"cell: {raw!r} holds the English text of {key}")
            continue  # any other cell is data (names, SQL, values)
        if _MACHINE.fullmatch(raw.strip()):  # a whole machine name (`advisor_dead_rows`): data
            continue
        text = _clean(raw)
        if not text or text in ALLOWED or any(sql in raw for sql in SEEDED_SQL):
            continue
        for key, pattern in patterns:
            if pattern.fullmatch(text):
                found.append(f"{kind}: {raw!r} is the English text of {key}")
                break
        else:
            if kind in {"header", "label", "option"}:
                words = {
                    w.lower()
                    for w in _WORD.findall(_clean(_MACHINE.sub(" ", raw)))
                    if w not in ALLOWED
                }
                if words & ENGLISH_WORDS:
                    found.append(
                        f"{kind}: {raw!r} has English words {sorted(words & ENGLISH_WORDS)}"
                    )
    return sorted(set(found))


@pytest.fixture
def seeded(rt: Runtime, admin: Actor, target_db: Target) -> Iterator[Target]:
    """A target with a table, history rows, a backup, an advisor run, a project, samples."""
    target_db.execute(
        "CREATE TABLE pets (id int PRIMARY KEY, name text, weight numeric)",
        "INSERT INTO pets SELECT g, 'pet ' || g, g * 1.5 FROM generate_series(1, 1500) g",
        "CREATE TABLE np (x int)",  # no primary key: an advisor finding
    )
    for sql in SEEDED_SQL:
        engine.run(rt, admin, "tgt", sql).raise_for_error()
    engine.run(rt, admin, "tgt", "SELECT * FROM missing_table")  # an error row in history
    engine.run(rt, admin, "tgt", SLOW).raise_for_error()  # a duration above 1,000 ms
    backups.backup(rt, admin, "tgt", "public", "pets")
    advisor.run_and_store(rt, admin, "tgt")
    projects.create(rt, admin, "reports", "weekly counts")
    projects.scripts.save(rt, admin, "reports", "count_pets", SEEDED_SQL[0])
    conn_id = connections.get(rt, admin, "tgt").id
    for _ in range(2):
        collector.sample_connection(rt, collector.system_actor(rt), conn_id, "tgt", force=True)
    collector.app_round(rt, collector.system_actor(rt), force=True)
    yield target_db


def _open(app: Callable[[], AppTest], page: str) -> AppTest:
    at = sign_in(app(), "admin", ADMIN_PASSWORD)
    at.session_state["lang"] = "pt-BR"
    at.session_state["connection"] = "tgt"
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def test_every_page_in_pt_br_shows_no_english_app_text(
    app: Callable[[], AppTest], seeded: Target
) -> None:
    patterns = _english_only()
    report: dict[str, list[str]] = {}
    for spec in CHECKED:
        at = _open(app, spec.file)
        assert at.title, f"{spec.file} rendered no title"
        misses = _misses(at, patterns)
        if misses:
            report[spec.file] = misses
    assert report == {}, "\n".join(f"{p}:\n  " + "\n  ".join(m) for p, m in report.items())


# -- numbers and times per locale (Babel) ---------------------------------------------------

# "3 de dez. de 2026 18:03:21"
PT_MOMENT = re.compile(r"^\d{1,2} de [a-zç]+\.? de \d{4} \d{2}:\d{2}:\d{2}$")
PT_THOUSANDS = re.compile(r"^\d{1,3}(\.\d{3})+(,\d+)?$")  # 1.250 or 1.250,7


def _shown(at: AppTest, column: str) -> list[dict[str, Any]]:
    """The cells of the grid with `column` as the browser draws them (the Styler's text).
    (A read-only grid's element carries no key, so the grid is found by its header.)"""
    frame = next((d for d in at.dataframe if column in d.value.columns), None)
    assert frame is not None, [list(d.value.columns) for d in at.dataframe]
    display = frame.proto.arrow_data.styler.display_values
    return pa.ipc.open_stream(display).read_all().to_pylist()


def test_babel_formats_numbers_and_times_per_language() -> None:
    import datetime as dt

    when = dt.datetime(2026, 12, 3, 18, 3, 21, tzinfo=dt.UTC)
    assert fmt.number(1234.5, "pt-BR") == "1.234,5" and fmt.number(1234.5, "en") == "1,234.5"
    assert fmt.decimal(1234.5, "pt-BR") == "1.234,5"
    assert fmt.moment(when, "pt-BR", dt.UTC) == "3 de dez. de 2026 18:03:21"
    assert fmt.moment(when, "en", dt.UTC) == "Dec 3, 2026, 6:03:21\u202fPM"
    assert fmt.date_input_format("pt-BR") == "DD/MM/YYYY"


def test_dashboard_history_and_backups_show_pt_br_numbers_and_times(
    app: Callable[[], AppTest], rt: Runtime, admin: Actor, seeded: Target
) -> None:
    system = collector.system_actor(rt)
    with rt.store.tx(system.identity) as tx:  # the app's p95 latency: a number with a fraction
        insert_samples(tx, None, {"app_response_p95_ms": 1234.5})
    dash = _open(app, "pages/dashboard.py")
    metrics = {m.label: m.value for m in dash.metric}
    assert metrics[i18n.translate("pt-BR", "dashboard.metric.app_response_p95_ms")] == "1.234,5"
    sampled = [c.value for c in dash.caption if c.value.startswith("Amostra mais recente: ")]
    assert sampled and PT_MOMENT.match(sampled[0].split(": ", 1)[1]), sampled

    hist = _open(app, "pages/history.py")
    started, ms = i18n.translate("pt-BR", "grid.col.started"), "ms"
    rows = _shown(hist, started)
    assert all(PT_MOMENT.match(r[started]) for r in rows), [r[started] for r in rows]
    slow = [r for r in rows if r[i18n.translate("pt-BR", "grid.col.sql")] == SLOW]
    assert slow and PT_THOUSANDS.match(slow[0][ms]), slow

    back = _open(app, "pages/backups.py")
    (row,) = _shown(back, i18n.translate("pt-BR", "grid.col.verified"))
    assert row[i18n.translate("pt-BR", "grid.col.rows")] == "1.500"
    assert PT_MOMENT.match(row[i18n.translate("pt-BR", "grid.col.at")]), row
    assert "," in row[i18n.translate("pt-BR", "grid.col.size")]  # e.g. 96,0 KiB
    option = back.selectbox(key="backups_pick").options[0]
    assert PT_MOMENT.match(option.split(" · ")[2]), option


def test_every_lint_has_a_pt_br_title_and_doc() -> None:
    """The advisor page shows a lint's title from the catalogue and its doc in the language."""
    pt, en = i18n.catalogue("pt-BR"), i18n.catalogue("en")
    for lint in advisor.lints():
        assert lint.doc and lint.doc_in("pt-BR") != lint.doc, lint.name
        assert lint.doc_in("en") == lint.doc and lint.doc_in("fr") == lint.doc
        key = f"advisor.lint.{lint.name}"
        assert key in en and f"'{en[key]}' AS title" in lint.sql, lint.name  # en = the SQL's
        assert pt[key] != en[key], lint.name

"""The one result grid of every page: typed, exact, sortable, sized to its rows, clickable.

`result` draws a query's rows — the SQL editor's results, the explorer's sample rows — with their
real column names; `table` draws app data (history, catalog lists, monitoring) under human
headers (`header`: the locale's name for a known column, else the snake_case name in words), and
shows the app's own words in the user's language (`word`: outcomes, statuses, kinds, severities,
sources) in the columns that hold them (`WORD_COLUMNS`, or the caller's `words`); a query's
rows, and every other column of app data (names, SQL, messages), are shown as they are.
Both go through `show`: cells are the one value formatter's text (`services.sql.values`), so
NULL is a grey NULL apart from the empty string and the text 'NULL', a bigint beyond 2^53 keeps
every digit (its column turns to text rather than being flagged), numerics keep their scale;
integer columns that fit stay numbers, so the grid sorts them as numbers. The height fits the
rows up to `MAX_ROWS` (then the grid scrolls), and `on_pick(position)` makes a row click drill
down (single-row selection; the callback runs before the rerun, so it may set widget state).
`pager` pages long results with first/previous/next/last buttons and says which rows of how many.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

import pandas as pd
import streamlit as st

from petcare_dba.services.sql import values
from petcare_dba.ui import i18n, state
from petcare_dba.ui.components import format as fmt
from petcare_dba.ui.components.text import plain

ROW_PX = 35  # Streamlit's default row height; the header row is one more
MAX_ROWS = 20  # taller results scroll inside a grid of this many rows
NULL_STYLE = "color: #888; font-style: italic"
_PLAIN = (str, bool, int, float, dt.date, dt.time, dt.timedelta, pd.Timestamp)
# App-data columns (by their raw name) whose values are the app's own words, never user data:
# `state` is not one (pg_stat_activity's states are PostgreSQL's words), nor `role` (role names
# are identifiers the CLI and GRANTs use too).
WORD_COLUMNS = frozenset(
    {"outcome", "status", "kind", "severity", "scope", "source", "ai_consent", "mode", "trigger"}
)


def height(rows: int, max_rows: int = MAX_ROWS) -> int:
    """Pixels that show `rows` rows and the header without a scroll box, capped at `max_rows`."""
    return ROW_PX * (min(max(rows, 1), max_rows) + 1) + 3


def header(name: str) -> str:
    """A human header for an app-data column: the locale's word, else the name in words."""
    key = f"grid.col.{name}"
    if key in i18n.catalogue(state.language()) or key in i18n.catalogue("en"):
        return state.t(key)
    words = name.replace("_", " ").strip()
    return words[:1].upper() + words[1:] if words else name


def word(value: Any) -> Any:
    """An app word (`refused`, `running`, `table`, `critical`, `default`, `True`) in the UI
    language: `grid.word.<value>`, else the outcome `common.outcome.<value>`; any other value
    as it is. Only for values the app itself wrote: a word from the user's data stays a word."""
    if not isinstance(value, str) or not value:
        return value
    english = i18n.catalogue("en")
    for key in (f"grid.word.{value}", f"common.outcome.{value}"):
        if key in english:
            return state.t(key)
    return value


def unique(names: Sequence[str]) -> list[str]:
    """Column names made unique (`SELECT 1, 1` has two "?column?"): the grid needs distinct ones."""
    out: list[str] = []
    for col in names:
        name, n = col, 1
        while name in out:
            n += 1
            name = f"{col}_{n}"
        out.append(name)
    return out


def result_frame(
    columns: Sequence[str], rows: Sequence[Sequence[Any]], oids: Sequence[int] = ()
) -> pd.DataFrame:
    """A query's rows as the grid shows them, typed by column OID through the one formatter.

    Integer columns stay numbers while every value fits JavaScript's exact integers; booleans
    stay booleans; every other type is the server's own text. NULL stays a missing value.
    """
    names = unique(columns)
    kinds = tuple(oids) or (0,) * len(names)
    data: dict[str, pd.Series] = {}
    for i, (name, oid) in enumerate(zip(names, kinds, strict=True)):
        column = [row[i] for row in rows]
        if oid == values.BOOL and all(v is None or isinstance(v, bool) for v in column):
            data[name] = pd.Series(column, dtype="boolean")
        elif oid in values.INTEGERS and _exact_ints(column):
            data[name] = pd.Series(column, dtype="Int64")
        else:
            data[name] = pd.Series([values.text(v) for v in column], dtype="object")
    return pd.DataFrame(data, columns=names)


def _exact_ints(column: Sequence[Any]) -> bool:
    return all(
        v is None or (isinstance(v, int) and -values.SAFE_INT <= v <= values.SAFE_INT)
        for v in column
    )


def app_frame(rows: Sequence[Mapping[str, Any]] | pd.DataFrame) -> pd.DataFrame:
    """App data (dicts) as a frame: plain values kept, others (Decimal, lists, bytes, UUID) as
    the formatter's text, and integer columns beyond 2^53 as text so no digit is lost."""
    frame = rows.copy() if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows))
    for name in frame.columns:
        column = frame[name].tolist()
        if any(isinstance(v, int) and not isinstance(v, bool) for v in column):
            if not _exact_ints([None if _missing(v) else v for v in column]):
                frame[name] = pd.Series([None if _missing(v) else values.text(v) for v in column])
                continue
        if any(not _missing(v) and not isinstance(v, _PLAIN) for v in column):
            frame[name] = pd.Series(
                [
                    None if _missing(v) else v if isinstance(v, _PLAIN) else values.text(v)
                    for v in column
                ],
                dtype="object",
            )
    return frame


def _typed(column: pd.Series) -> bool:
    """A column of numbers, booleans or times (no words in it)."""
    return bool(
        pd.api.types.is_bool_dtype(column)
        or pd.api.types.is_numeric_dtype(column)
        or pd.api.types.is_datetime64_any_dtype(column)
    )


def _missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and value != value)


def _styled(frame: pd.DataFrame, language: str | None = None) -> Any:
    """NULL drawn as a grey italic NULL: distinct from the empty string and from 'NULL'.

    With a `language` (app data), numbers and times are drawn in its locale (Babel): the
    Styler's text is what the browser shows, while the cells keep their values, so columns
    still sort as numbers and times. Identifier columns (`id`, `*_id`, `pid`) keep their digits.
    """
    formats: dict[Any, str | Callable[[object], str] | None] = {}
    if language is not None:
        tz = state.timezone()

        def moment(value: object) -> str:
            return fmt.when(_py(value), language, tz)

        def number(value: object) -> str:
            return fmt.number(value if isinstance(value, int | float) else None, language)

        for name in frame.columns:
            column = [v for v in frame[name].tolist() if not _missing(v)]
            if not column or _identifier(str(name)):
                continue
            if all(isinstance(v, dt.datetime | dt.date) for v in column):
                formats[name] = moment
            elif all(isinstance(v, int | float) and not isinstance(v, bool) for v in column):
                formats[name] = number
    return frame.style.format(formats, na_rep=values.NULL).map(
        lambda v: NULL_STYLE if v is None or v is pd.NA else ""
    )


def _identifier(name: str) -> bool:
    lowered = name.lower()
    return lowered in {"id", "pid", "#", "oid"} or lowered.endswith("_id")


def _py(value: Any) -> Any:
    """A pandas Timestamp as the datetime it stands for."""
    return value.to_pydatetime() if isinstance(value, pd.Timestamp) else value


def show(
    frame: pd.DataFrame,
    *,
    key: str,
    column_config: Mapping[str, Any] | None = None,
    on_pick: Callable[[int], None] | None = None,
    max_rows: int = MAX_ROWS,
    language: str | None = None,
) -> None:
    """Draw a prepared frame: NULL styled (numbers and times in `language` when given),
    height to fit, a row click calling `on_pick`."""
    options: dict[str, Any] = {}
    if on_pick is not None:

        def picked() -> None:
            chosen = st.session_state[key].selection.rows
            if chosen:
                on_pick(int(chosen[0]))

        options = {"on_select": picked, "selection_mode": "single-row"}
    st.dataframe(
        _styled(frame, language),
        hide_index=True,
        width="stretch",
        height=height(len(frame), max_rows),
        column_config=dict(column_config or {}),
        key=key,
        placeholder=values.NULL,
        **options,
    )


def result(
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    key: str,
    oids: Sequence[int] = (),
    types: Sequence[str] = (),
    page_size: int = 0,
    drill: bool = True,
) -> pd.DataFrame:
    """A query's rows under their real column names (types as the header's help).

    With `page_size`, longer results get the pager; with `drill`, a clicked row opens below
    the grid as a record (one line per column: wide rows read without scrolling sideways).
    Returns the frame shown (the current page).
    """
    frame = result_frame(columns, rows, oids)
    if page_size and len(frame) > page_size:
        start, end = pager(len(frame), key=f"{key}_page", page_size=page_size)
        frame = frame.iloc[start:end].reset_index(drop=True)
    config = {
        name: st.column_config.Column(help=plain(kind))
        for name, kind in zip(frame.columns, types, strict=False)
    }
    pick_key = f"{key}_pick"

    def remember(position: int) -> None:
        st.session_state[pick_key] = position

    show(frame, key=key, column_config=config, on_pick=remember if drill else None)
    position = st.session_state.get(pick_key)
    if drill and isinstance(position, int) and 0 <= position < len(frame):
        record(
            frame.iloc[position], key=f"{key}_record", title=state.t("grid.record", n=position + 1)
        )
    return frame


def record(row: pd.Series, *, key: str, title: str) -> None:
    """One row as a record: a line per column (name, value), NULL drawn as NULL."""
    st.markdown(f"**{plain(title)}**")
    lines = [
        {"column": str(name), "value": None if _missing(v) else values.text(v)}
        for name, v in row.items()
    ]
    table(lines, key=key)


def table(
    rows: Sequence[Mapping[str, Any]] | pd.DataFrame,
    *,
    key: str,
    column_config: Mapping[str, Any] | None = None,
    on_pick: Callable[[int], None] | None = None,
    max_rows: int = MAX_ROWS,
    words: Collection[str] = (),
) -> None:
    """App data under human headers (`column_config` is keyed by the raw column names); the
    values of `WORD_COLUMNS` and of the columns named in `words` (a caller whose headers are
    already translated names them so) are app words, shown in the language."""
    frame = app_frame(rows)
    for name in frame.columns:
        column = frame[name]
        if (name in WORD_COLUMNS or name in words) and not _typed(column):
            frame[name] = frame[name].map(word)
    names = {c: header(str(c)) for c in frame.columns}
    frame = frame.rename(columns=names)
    config = {names.get(k, k): v for k, v in (column_config or {}).items()}
    show(
        frame,
        key=key,
        column_config=config,
        on_pick=on_pick,
        max_rows=max_rows,
        language=state.language(),
    )


def pager(total: int, *, key: str, page_size: int) -> tuple[int, int]:
    """First/previous/next/last buttons and "rows a–b of n"; the [start, end) rows to show.

    The page lives in `st.session_state[key]` (0-based); the buttons change it in callbacks,
    so the grid drawn after them already shows the new page.
    """
    pages = max(1, -(-total // page_size))
    page = min(max(int(st.session_state.get(key, 0)), 0), pages - 1)
    st.session_state[key] = page
    if pages > 1:

        def go(to: int) -> None:
            st.session_state[key] = min(max(to, 0), pages - 1)

        cols = st.columns([1, 1, 1, 1, 6], vertical_alignment="center")
        moves = (
            ("first", 0, ":material/first_page:"),
            ("prev", page - 1, ":material/chevron_left:"),
            ("next", page + 1, ":material/chevron_right:"),
            ("last", pages - 1, ":material/last_page:"),
        )
        for col, (name, to, icon) in zip(cols, moves, strict=False):
            col.button(
                state.t(f"grid.{name}"),
                key=f"{key}_{name}",
                icon=icon,
                on_click=go,
                args=(to,),
                disabled=to == page or not 0 <= to < pages,
                help=state.t(f"grid.{name}"),
            )
    start, end = page * page_size, min(total, (page + 1) * page_size)
    st.caption(
        state.t("grid.range", first=int(start + 1 if total else 0), last=int(end), total=total)
        + (" · " + state.t("grid.page", page=int(page + 1), pages=int(pages)) if pages > 1 else "")
    )
    return start, end

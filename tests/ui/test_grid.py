"""The one result grid (issue 19) in AppTest: exact cells, NULL apart, height that fits, headers.

The component is drawn by a small page (`AppTest.from_function`) and read back from what
Streamlit sends the browser: the Arrow data, the Styler's display values (NULL drawn as NULL)
and the element's pixel height (captured from the forward messages, which AppTest's element
tree does not keep). The SQL editor's pager is tested from the real entrypoint.
"""

from __future__ import annotations

import decimal
from collections.abc import Callable, Iterator
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest, local_script_runner

from petcare_dba.ui.components import grid
from tests.fix_engine import Target, target
from tests.sql.test_editor_page import click, editor, press

__all__ = ["target"]  # the fixture is used by name

BIG = 9007199254740993  # 2^53 + 1: a JavaScript number would print ...992


@pytest.fixture
def heights(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Pixel heights of every dataframe element the page sent, in order."""
    seen: list[int] = []
    original = local_script_runner.parse_tree_from_messages

    def spy(messages: list[Any]) -> Any:
        seen.clear()
        for msg in messages:
            if msg.HasField("delta") and msg.delta.WhichOneof("type") == "new_element":
                elt = msg.delta.new_element
                if elt.WhichOneof("type") == "dataframe":
                    seen.append(int(elt.height_config.pixel_height))
        return original(messages)

    monkeypatch.setattr(local_script_runner, "parse_tree_from_messages", spy)
    yield seen


def _page(rows: int, language: str = "en") -> None:
    import decimal

    import streamlit as st

    from petcare_dba.ui.components import grid

    st.session_state["lang"] = language
    data = [(None, "", "NULL", 9007199254740993, 42, decimal.Decimal("4.90"))] + [
        (str(i), "x", "y", i, i, decimal.Decimal("0.10")) for i in range(rows - 1)
    ]
    grid.result(
        ["nothing", "empty", "word", "big", "small", "rate"],
        data,
        key="g",
        oids=(25, 25, 25, 20, 20, 1700),
        types=("text", "text", "text", "int8", "int8", "numeric(5,2)"),
    )
    grid.table([{"started_at": 1, "not_null": True, "sqlstate": None}], key="app")


def _run(rows: int, language: str = "en") -> AppTest:
    at = AppTest.from_function(_page, args=(rows, language), default_timeout=60).run()
    assert not at.exception, at.exception
    return at


def test_cells_are_exact_and_null_is_drawn_as_null(heights: list[int]) -> None:
    at = _run(3)
    result = at.dataframe[0]
    first = result.value.to_dict("records")[0]
    assert pd.isna(first.pop("nothing"))  # a missing value, not a string
    assert first == {
        "empty": "",
        "word": "NULL",
        "big": str(BIG),  # every digit, as text: no out-of-range mark in the grid
        "small": 42,  # a number while it fits: sorts as a number
        "rate": "4.90",  # the numeric's scale kept
    }
    assert str(result.value["small"].dtype) == "Int64"
    styler = result.proto.arrow_data.styler
    shown = pa.ipc.open_stream(styler.display_values).read_all().to_pylist()[0]
    assert shown["nothing"] == "NULL" and shown["empty"] == "" and shown["word"] == "NULL"
    assert result.proto.placeholder == "NULL"


def test_height_fits_the_rows_and_is_capped(heights: list[int]) -> None:
    _run(3)
    assert heights[0] == grid.height(3) == 35 * 4 + 3
    _run(30)
    # 30 rows: not a ten-row scroll box, but capped at MAX_ROWS (then the grid scrolls)
    assert heights[0] == grid.height(30) == 35 * (grid.MAX_ROWS + 1) + 3
    assert grid.height(12) > grid.height(10) and grid.height(0) == grid.height(1)


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", ["Started at", "Not null", "SQLSTATE"]),
        ("pt-BR", ["Started at", "Não nulo", "SQLSTATE"]),
    ],
)
def test_app_data_gets_human_headers_query_results_keep_their_names(
    heights: list[int], language: str, expected: list[str]
) -> None:
    at = _run(2, language)
    assert list(at.dataframe[0].value.columns)[:2] == ["nothing", "empty"]  # real names
    assert list(at.dataframe[1].value.columns) == expected


def _words_page() -> None:
    import streamlit as st

    from petcare_dba.ui.components import grid

    st.session_state["lang"] = "pt-BR"
    # The user's own data holds the same words: a query's rows and a name column keep them.
    grid.result(["status", "kind"], [("refused", "table"), ("True", "critical")], key="q")
    grid.table(
        [
            {"name": "refused", "status": "refused", "kind": "table", "severity": "critical"},
            {"name": "running", "status": "running", "kind": "view", "severity": "warning"},
            {"name": "x", "status": "not a word", "kind": "materialized view", "severity": None},
        ],
        key="app",
    )
    grid.table([{"Estado": "firing", "Nome": "firing"}], key="named", words=("Estado",))


def test_app_words_are_translated_in_their_columns_user_data_never() -> None:
    at = AppTest.from_function(_words_page, default_timeout=60).run()
    assert not at.exception, at.exception
    query, app, named = (d.value.to_dict("records") for d in at.dataframe)
    assert query == [
        {"status": "refused", "kind": "table"},
        {"status": "True", "kind": "critical"},
    ]
    assert [(r["Nome"], r["Situação"], r["Tipo de objeto"]) for r in app] == [
        ("refused", "recusado", "tabela"),
        ("running", "em execução", "visão"),
        ("x", "not a word", "visão materializada"),  # no entry: shown as it is
    ]
    assert [r["Gravidade"] for r in app][:2] == ["crítico", "aviso"]
    assert pd.isna(app[2]["Gravidade"])  # NULL stays NULL
    assert named == [{"Estado": "disparado", "Nome": "firing"}]
    assert grid.word(3) == 3


def test_unique_names_and_app_values_through_the_formatter() -> None:
    assert grid.unique(["?column?", "?column?", "a"]) == ["?column?", "?column?_2", "a"]
    frame = grid.app_frame([{"n": BIG, "d": decimal.Decimal("1.50"), "l": [1, None]}])
    assert frame.to_dict("records") == [{"n": str(BIG), "d": "1.50", "l": "{1,NULL}"}]


def test_editor_pages_long_results_with_buttons_and_totals(
    app: Callable[[], AppTest],
    target: Target,
) -> None:
    at = press(editor(app), "ed_run", "SELECT g FROM generate_series(1, 450) g")
    captions = " ".join(c.value for c in at.caption)
    assert "Rows 1–200 of 450" in captions and "page 1 of 3" in captions
    assert at.dataframe[0].value["g"].tolist()[:2] == [1, 2]
    assert at.button(key="ed_grid_0_page_prev").disabled
    at = click(at, "ed_grid_0_page_next")
    assert at.dataframe[0].value["g"].tolist()[0] == 201
    at = click(at, "ed_grid_0_page_last")
    assert at.dataframe[0].value["g"].tolist() == list(range(401, 451))
    assert "Rows 401–450 of 450" in " ".join(c.value for c in at.caption)
    assert at.button(key="ed_grid_0_page_next").disabled
    at = click(at, "ed_grid_0_page_first")
    assert at.dataframe[0].value["g"].tolist()[0] == 1
    assert not at.number_input  # no number box any more

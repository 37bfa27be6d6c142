"""The SQL editor's grid draws values through the one formatter (AppTest, real entrypoint).

NULL is a missing value drawn as NULL (grey), apart from the empty string and from the text
'NULL'; a bigint beyond 2^53 keeps every digit (its column turns to text instead of being
flagged by the grid); arrays are PostgreSQL literals; numerics keep their scale.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pyarrow as pa
from streamlit.testing.v1 import AppTest

from tests.fix_engine import Target, target
from tests.sql.test_editor_page import editor, press

__all__ = ["target"]  # the fixture is used by name


def test_grid_shows_null_big_bigints_and_arrays_exactly(
    app: Callable[[], AppTest], target: Target
) -> None:
    at = press(
        editor(app),
        "ed_run",
        "SELECT NULL::text AS nothing, ''::text AS empty, 'NULL'::text AS word, "
        "9007199254740993::bigint AS big, 42::bigint AS small, "
        "ARRAY['Trailers', 'Deleted Scenes'] AS features, 4.90::numeric(5,2) AS rate",
    )
    grid = at.dataframe[0]
    (row,) = grid.value.to_dict("records")
    assert row == {
        "nothing": None,
        "empty": "",
        "word": "NULL",
        "big": "9007199254740993",  # text: every digit, no out-of-range flag
        "small": 42,  # still a number (sortable) while it fits
        "features": '{Trailers,"Deleted Scenes"}',
        "rate": "4.90",
    }
    # What the browser draws: the Styler's display values and cell styles Streamlit sends.
    styler = grid.proto.arrow_data.styler
    (shown,) = pa.ipc.open_stream(styler.display_values).read_all().to_pylist()
    assert shown["nothing"] == "NULL" and shown["empty"] == "" and shown["word"] == "NULL"
    styled = set(re.findall(r"_row(\d+)_col(\d+)", styler.styles))
    assert styled == {("0", "0")}  # only the real NULL is grey: the text 'NULL' is not

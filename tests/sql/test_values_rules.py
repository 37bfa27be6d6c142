"""The value formatter's rules on their own (no database): CSV fields, array literals, JSON.

The end-to-end proof is tests/sql/test_values.py (every built-in type through a real server and
back with COPY FROM); these pin the edges that text from outside can reach: delimiters, quotes,
newlines, the `\\.` end-of-data marker, backslashes and braces inside array elements, raw JSON.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from petcare_dba.services.sql import values


@pytest.mark.parametrize(
    ("shown", "field"),
    [
        (None, ""),
        ("", '""'),
        ("plain", "plain"),
        ("a,b", '"a,b"'),
        ('say "hi"', '"say ""hi"""'),
        ("line\nbreak", '"line\nbreak"'),
        ("cr\rhere", '"cr\rhere"'),
        ("\\.", '"\\."'),  # alone on a line it would end COPY's data
        ("back\\slash", "back\\slash"),  # CSV COPY has no backslash escapes
        ("=1+2", "=1+2"),  # exact by default; --spreadsheet-safe neutralises it
    ],
)
def test_csv_field_follows_copy_csv(shown: str | None, field: str) -> None:
    assert values.csv_field(shown) == field


def test_csv_line_mixes_types() -> None:
    line = values.csv_line([1, None, "", True, Decimal("1.50"), b"\x00\xff", ["a b", None]])
    assert line == '1,,"",t,1.50,\\x00ff,"{""a b"",NULL}"\n'


@pytest.mark.parametrize(
    "items",
    [
        ["Trailers", "Deleted Scenes"],
        ["", "NULL", "null", None, '"', "\\", "{", "}", ",", " lead", "tab\t"],
        [["1", "2"], ["3", None]],
        [],
    ],
)
def test_array_literal_and_parse_array_are_inverse(items: list[object]) -> None:
    assert values.parse_array(values.array_literal(items)) == items


def test_array_literal_quotes_like_array_out() -> None:
    assert values.array_literal(["a", "b c", "", None, "NULL", 'q"']) == (
        '{a,"b c","",NULL,"NULL","q\\""}'
    )
    assert values.array_literal([Decimal("0E-20"), 1, True]) == "{0.00000000000000000000,1,t}"
    assert values.parse_array("[0:1]={1,2}") is None
    assert values.parse_array("{(1,1),(0,0);(2,2),(1,1)}", ";") == ["(1,1),(0,0)", "(2,2),(1,1)"]


def test_json_rules() -> None:
    assert values.json_value(2**53 - 1) == 2**53 - 1 and values.json_value(2**53) == str(2**53)
    assert values.json_value(-(2**63)) == str(-(2**63))
    assert values.json_value(Decimal("10289.60")) == "10289.60"
    assert values.json_value("NaN", values.FLOAT8) == "NaN"
    assert values.json_value("-0", values.FLOAT8) == values.Raw("-0")
    assert values.json_value("{1,NULL}", 1007) == [1, None]  # int4[]
    assert values.json_value('{"a":1}', values.JSONB) == values.Raw('{"a":1}')
    assert values.json_value("2024-05-01 10:00:00+02", values.TIMESTAMPTZ) == (
        "2024-05-01T10:00:00+02:00"
    )
    assert values.json_value("2024-05-01 10:00:00+05:30", values.TIMESTAMPTZ) == (
        "2024-05-01T10:00:00+05:30"
    )
    assert values.json_value("0044-03-15 00:00:00 BC", values.TIMESTAMP) == (
        "0044-03-15 00:00:00 BC"
    )


def test_dumps_embeds_raw_json_exactly_and_escapes_everything_else() -> None:
    document = {
        "n": values.Raw("1.000000000000000000001"),
        'k"ey\n': ["</script>", None, True, values.Raw('{"a": [1e400]}')],
        "empty": [],
        "when": dt.date(2024, 5, 1),
        "ms": 12.5,
        "nan": float("nan"),
    }
    for indent in (None, 2):
        text = values.dumps(document, indent)
        back = json.loads(text, parse_float=Decimal)
        assert back["n"] == Decimal("1.000000000000000000001")
        assert back['k"ey\n'] == ["</script>", None, True, {"a": [Decimal("1e400")]}]
        assert back["empty"] == [] and back["when"] == "2024-05-01"
        assert back["ms"] == Decimal("12.5") and back["nan"] == "NaN"

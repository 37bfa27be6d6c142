"""`petcare-dba sql` prints values through the one formatter: table, CSV and JSON.

Arrays as `{a,b}` (never Python lists), NULL as NULL in the table and as an unquoted empty CSV
field beside a quoted empty string, numerics with their scale, bigints with every digit; the CSV
loads back with COPY FROM; hostile text (formula prefixes, delimiters, quotes, newlines) stays
data, and `--spreadsheet-safe` still neutralises formulas.
"""

from __future__ import annotations

import json

import psycopg
import typer
from typer.testing import CliRunner

from tests.fix_engine import Target, target
from tests.sql.test_sql_cli import cli

__all__ = ["cli", "target"]  # fixtures used by name

PAGILA = (
    "SELECT ARRAY['Trailers', 'Deleted Scenes'] AS special_features, "
    "4.90::numeric(5,2) AS rental_rate, NULL::text AS nothing, ''::text AS empty, "
    "9007199254740993::bigint AS big, ARRAY[1.10, NULL]::numeric[] AS amounts, "
    'E\'=HYPERLINK("http://x"),"q"\\n2nd line\' AS hostile, '
    "'-infinity'::timestamptz AS since"
)


def sql(app: typer.Typer, *args: str) -> str:
    out = CliRunner().invoke(app, ["sql", "--connection", "tgt", *args])
    assert out.exit_code == 0, out.output
    return str(out.stdout)


def test_sql_table_csv_and_json_show_exact_values(cli: typer.Typer, target: Target) -> None:
    table = sql(cli, PAGILA).splitlines()
    assert table[2].startswith('{Trailers,"Deleted Scenes"}  4.90 ')
    assert " NULL " in table[2] and "9007199254740993" in table[2] and "{1.10,NULL}" in table[2]
    assert "[" not in table[2] and "None" not in table[2] and "Decimal" not in table[2]

    csv = sql(cli, "--format", "csv", PAGILA)
    assert csv.splitlines()[1].startswith('"{Trailers,""Deleted Scenes""}",4.90,,"",')
    target.execute(
        "CREATE TABLE back (special_features text[], rental_rate numeric(5,2), nothing text, "
        "empty text, big bigint, amounts numeric[], hostile text, since timestamptz)"
    )
    with psycopg.connect(target.url, autocommit=True) as conn:
        with conn.cursor().copy("COPY back FROM STDIN (FORMAT csv, HEADER)") as copy:
            copy.write(csv)
        differ = conn.execute(f"SELECT count(*) FROM (({PAGILA}) EXCEPT ALL TABLE back) d")
        assert differ.fetchone() == (0,)
        assert conn.execute("SELECT nothing IS NULL, empty = '' FROM back").fetchone() == (
            True,
            True,
        )

    (result,) = json.loads(sql(cli, "--format", "json", PAGILA))
    (row,) = result["rows"]
    assert row[:6] == [
        ["Trailers", "Deleted Scenes"],
        "4.90",
        None,
        "",
        "9007199254740993",
        [
            "1.10",
            None,
        ],
    ]
    assert row[6] == '=HYPERLINK("http://x"),"q"\n2nd line' and row[7] == "-infinity"
    assert result["column_types"][:2] == ["text[]", "numeric(5,2)"]

    # --spreadsheet-safe still neutralises formula cells (U7) over the same text.
    out = sql(cli, "--format", "csv", "--spreadsheet-safe", PAGILA)
    assert "'=HYPERLINK" in out and "{Trailers" in out
    assert "\n=" not in out and ",=" not in out

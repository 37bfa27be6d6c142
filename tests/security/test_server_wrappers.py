"""Composed statements (COPY, capped SELECT, EXPLAIN, DECLARE) hold exactly the vetted statement.

`sql_wrap` re-parses what the app composes around user text; these cases are composed texts an
attacker could obtain if the vetting or the lexer disagreed with the server: a `)` closing the
wrapper early, TO PROGRAM, a second statement, extra EXPLAIN options, WITH HOLD, or an inner
statement that is not the one that was classified (reliability Q13).
"""

from __future__ import annotations

import pytest

from petcare_dba.errors import Refused
from petcare_dba.services.sql import wrap
from petcare_dba.services.sql.parse import split

VETTED = "SELECT id, note FROM t WHERE note <> 'x'"


def _node(text: str = VETTED):  # type: ignore[no-untyped-def]
    return split(text)[0].node


def _copy(inner: str) -> str:
    return (
        f"COPY (SELECT * FROM (\n{inner}\n) AS petcare_export LIMIT 10) "
        "TO STDOUT WITH (FORMAT csv, HEADER true)"
    )


def test_the_real_compositions_pass() -> None:
    wrap.prove_copy_out(_copy(VETTED), _node())
    wrap.prove_capped(f"SELECT * FROM (\n{VETTED}\n) AS petcare_export LIMIT 10", _node())
    wrap.prove_explain(f"EXPLAIN (FORMAT JSON)\n{VETTED}", _node(), {"format"})
    wrap.prove_declare(f'DECLARE "c1" NO SCROLL CURSOR FOR {VETTED}', _node())


@pytest.mark.parametrize(
    "composed",
    [
        # the wrapper closed early and a program attached
        "COPY (SELECT * FROM (\nSELECT 1) TO PROGRAM 'touch /tmp/x' --\n) AS p LIMIT 1) TO STDOUT",
        "COPY (SELECT * FROM (SELECT id, note FROM t WHERE note <> 'x') AS p LIMIT 10) "
        "TO PROGRAM 'touch /tmp/x'",
        "COPY (SELECT * FROM (SELECT id, note FROM t WHERE note <> 'x') AS p LIMIT 10) TO '/tmp/x'",
        # a second statement after the wrapper
        _copy(VETTED) + "; COPY t FROM PROGRAM 'id'",
        _copy(VETTED) + "; DROP TABLE t",
        # not the classified statement inside (what a lexer difference produces)
        _copy("SELECT id, note FROM t WHERE note <> 'x' OR pg_sleep(1) IS NULL"),
        _copy("SELECT pg_read_file('/etc/passwd')"),
        # the right inner query, but COPY FROM / a table instead of a query
        "COPY t FROM STDIN",
        "SELECT 1",
        "",
        "COPY (",
    ],
)
def test_copy_wrappers_that_are_not_the_vetted_statement_are_refused(composed: str) -> None:
    with pytest.raises(Refused, match="refused"):
        wrap.prove_copy_out(composed, _node())


@pytest.mark.parametrize(
    ("composed", "options"),
    [
        (f"EXPLAIN (FORMAT JSON, ANALYZE)\n{VETTED}", {"format"}),
        (f"EXPLAIN (FORMAT JSON)\n{VETTED}; DELETE FROM t", {"format"}),
        ("EXPLAIN (FORMAT JSON)\nDELETE FROM t", {"format"}),
        (f"EXPLAIN ANALYZE\n{VETTED}", set()),
        (VETTED, set()),
    ],
)
def test_explain_wrappers_are_checked(composed: str, options: set[str]) -> None:
    with pytest.raises(Refused):
        wrap.prove_explain(composed, _node(), options)


@pytest.mark.parametrize(
    "composed",
    [
        f'DECLARE "c1" NO SCROLL CURSOR WITH HOLD FOR {VETTED}',
        f'DECLARE "c1" NO SCROLL CURSOR FOR {VETTED}; CLOSE ALL',
        'DECLARE "c1" NO SCROLL CURSOR FOR SELECT 1',
        f"SELECT * FROM ({VETTED}) AS x",
    ],
)
def test_declare_wrappers_are_checked(composed: str) -> None:
    with pytest.raises(Refused):
        wrap.prove_declare(composed, _node())


def test_capped_select_with_a_smuggled_where_or_cte_is_refused() -> None:
    with pytest.raises(Refused):
        wrap.prove_capped(
            f"SELECT * FROM (\n{VETTED}\n) AS p WHERE pg_sleep(1) IS NULL LIMIT 10", _node()
        )
    with pytest.raises(Refused):
        wrap.prove_capped(
            f"WITH d AS (DELETE FROM t RETURNING 1) SELECT * FROM (\n{VETTED}\n) AS p LIMIT 1",
            _node(),
        )


def test_positions_do_not_matter_but_constants_do() -> None:
    spaced = "SELECT  id,note\nFROM t   WHERE note <> 'x'"
    wrap.prove_capped(f"SELECT * FROM (\n{spaced}\n) AS p LIMIT 10", _node())
    with pytest.raises(Refused):
        wrap.prove_capped(
            "SELECT * FROM (\nSELECT id, note FROM t WHERE note <> 'y'\n) AS p LIMIT 10", _node()
        )


def test_a_remembered_proof_stands_only_for_the_same_text_and_the_same_tree() -> None:
    """wrap remembers proven (composed text, tree) pairs for repeated statements: a text that was
    proven for one tree is proven again, and refused, for another (what a cache keyed by the
    text alone would let through), and a different text around the same tree is parsed anew."""
    vetted = _node()
    composed = f'DECLARE "petcare_cursor" NO SCROLL CURSOR FOR {VETTED}'
    wrap.prove_declare(composed, vetted)
    wrap.prove_declare(composed, vetted)  # remembered
    with pytest.raises(Refused, match="refused"):
        wrap.prove_declare(composed, _node("SELECT pg_read_file('/etc/passwd')"))
    with pytest.raises(Refused, match="refused"):
        wrap.prove_declare(composed + "; DROP TABLE t", vetted)
    with pytest.raises(Refused, match="refused"):
        wrap.prove_declare(composed.replace("NO SCROLL", "WITH HOLD"), vetted)

"""plan.analyse remembers offline analyses of recent texts (issue 16, local overhead).

A hit must be exactly what a fresh parse gives: the memo is keyed by the exact text, never by
something a hostile text could share with a harmless one (a look-alike character, a trailing
statement, a comment that is not one); it is bounded in count and in text size; and an analysis
with a connection's volatility map is never served from it.
"""

from __future__ import annotations

from petcare_dba.db.target import Method
from petcare_dba.services.sql import plan, safety

SAFE = "SELECT id FROM pets WHERE name = 'Rex'"
HOSTILE = [
    SAFE + "; DROP TABLE pets",
    SAFE + " -- ;\nDELETE FROM pets",
    SAFE.replace("SELECT", "SELECT\u00a0"),  # a no-break space: not whitespace to PostgreSQL
    "SELECT id FROM pets WHERE name = 'Rex' FOR UPDATE",
    "SELECT setval('s', 1) FROM pets",
]


# Read-only too, but another statement: its analysis is its own (the quote is doubled, so the
# rest stays inside the literal).
QUOTED = SAFE.replace("'Rex'", "'Rex'' ; DROP TABLE pets; --'")


def _fresh(text: str) -> tuple[list[object], list[object]]:
    return plan._analyse(text, None)  # the uncached path, for comparison


def test_a_remembered_analysis_is_what_a_fresh_parse_gives_for_every_hostile_neighbour() -> None:
    for text in [SAFE, QUOTED, *HOSTILE]:
        statements, found = plan.analyse(text)
        again = plan.analyse(text)
        assert again == (statements, found)
        assert found == _fresh(text)[1], text
    safe = plan.analyse(SAFE)[1]
    assert plan.analyse(QUOTED)[1][0].text == QUOTED
    assert [c.read_only for c in safe] == [True]
    for text in HOSTILE:
        found = plan.analyse(text)[1]
        assert found != safe
        assert not all(c.read_only for c in found), text


def test_callers_get_their_own_lists() -> None:
    statements, found = plan.analyse(SAFE)
    statements.clear()
    found.append(found[0] if found else None)  # type: ignore[arg-type]
    assert len(plan.analyse(SAFE)[0]) == 1
    assert len(plan.analyse(SAFE)[1]) == 1


def test_the_memo_is_bounded_and_skips_long_texts_and_volatility_maps() -> None:
    assert plan._analysed.cache_info().maxsize == plan.ANALYSED_MAX
    before = plan._analysed.cache_info().currsize
    long_text = "SELECT " + ", ".join(["1"] * (plan.ANALYSED_TEXT_MAX // 3)) + " FROM pets"
    assert len(long_text) > plan.ANALYSED_TEXT_MAX
    assert plan.analyse(long_text)[1][0].read_only
    with_map = plan.analyse("SELECT my_fn() FROM pets", {"my_fn": "v"})[1]
    assert not with_map[0].read_only  # the connection says volatile: never the offline answer
    offline = plan.analyse("SELECT my_fn() FROM pets")[1]
    assert offline[0].depends_on
    assert plan._analysed.cache_info().currsize <= before + 1  # only the offline one
    for i in range(plan.ANALYSED_MAX + 10):
        plan.analyse(f"SELECT {i}")
    assert plan._analysed.cache_info().currsize == plan.ANALYSED_MAX


def test_a_statement_shape_is_remembered_only_for_the_same_text() -> None:
    """The functions a statement calls and its fetch method are remembered per statement text
    and place: a look-alike of the same length calling another function, or hiding a write in a
    WITH, gets its own answer, exactly what fresh walks of its tree give."""
    pairs = [
        ("SELECT lower(name) FROM pets", "SELECT upper(name) FROM pets"),
        (
            "WITH x AS (SELECT 1) SELECT * FROM x",
            "WITH x AS (DELETE FROM pets RETURNING 1) SELECT * FROM x",
        ),
        ("SELECT now() FROM pets", "SELECT pg_sleep(1) FROM pets"),
    ]
    for first, second in pairs:
        for text in (first, second, first):
            (stmt,), _ = plan.analyse(text)
            fresh = (frozenset(safety.function_names(stmt)), plan.method_for(stmt.node))
            assert plan._shape(stmt) == fresh, text
    (reads,), _ = plan.analyse(pairs[1][0])
    (writes,), _ = plan.analyse(pairs[1][1])
    assert plan._shape(reads)[1] is Method.CURSOR and plan._shape(writes)[1] is Method.BUFFERED
    (lowered,), _ = plan.analyse(pairs[0][0])
    assert plan._shape(lowered)[0] == {"lower"}

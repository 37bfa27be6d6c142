"""Every advisor lint as a scenario on a real server: create the problem, expect the finding,
fix it, expect none (splinter's pattern); where the lint has thresholds (registry settings passed
as named parameters), a stricter threshold hides the same problem. Plus stored runs, exclusions,
unavailable lints, refused thresholds and the metadata schema's own lint-cleanliness."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest

from petcare_dba import settings
from petcare_dba.errors import ConfigError
from petcare_dba.services import advisor, alerts, connections
from petcare_dba.services.actor import Actor
from petcare_dba.services.advisor import indexes
from petcare_dba.services.runtime import Runtime
from tests.fix_db import PgServer
from tests.fix_monitoring import Holder, has_pg_stat_statements, monitoring_cli

__all__ = ["monitoring_cli"]


@dataclass(frozen=True)
class Scenario:
    lint: str
    setup: tuple[str, ...]
    fix: tuple[str, ...]
    object: str
    params: dict[str, object] = field(default_factory=dict)
    level: str | None = None
    # Thresholds under which the same problem is not reported (the lint reads its thresholds).
    strict: dict[str, object] = field(default_factory=dict)


SCENARIOS = (
    Scenario(
        "unindexed_foreign_keys",
        (
            "CREATE TABLE p (id int PRIMARY KEY)",
            "CREATE TABLE c (id int PRIMARY KEY, p_id int REFERENCES p)",
        ),
        ("CREATE INDEX ON c (p_id)",),
        "public.c",
    ),
    Scenario(
        "no_primary_key",
        ("CREATE TABLE np (x int)",),
        ("ALTER TABLE np ADD PRIMARY KEY (x)",),
        "public.np",
    ),
    Scenario(
        "duplicate_index",
        ("CREATE TABLE d (x int)", "CREATE INDEX d1 ON d (x)", "CREATE INDEX d2 ON d (x)"),
        ("DROP INDEX d2",),
        "public.d",
    ),
    Scenario(
        "xid_wraparound",
        ("CREATE TABLE xw (id int)", "INSERT INTO xw VALUES (1)", *["SELECT txid_current()"] * 40),
        ("VACUUM (FREEZE) xw",),
        "public.xw",
        {"advisor_xid_age": 30},
        strict={"advisor_xid_age": 1_000_000_000},
    ),
    Scenario(
        "sequence_overflow",
        ("CREATE SEQUENCE s1 AS integer", "SELECT setval('s1', 2000000000)"),
        ("ALTER SEQUENCE s1 AS bigint",),
        "public.s1",
        level="WARN",
        strict={"advisor_sequence_used_pct": 95},
    ),
    Scenario(
        "invalid_indexes",
        (
            "CREATE TABLE ii (x int)",
            "INSERT INTO ii VALUES (1), (1)",
            "!CREATE UNIQUE INDEX CONCURRENTLY ii_x ON ii (x)",
        ),
        ("DROP INDEX ii_x",),
        "public.ii_x",
    ),
    Scenario(
        "invalid_constraints",
        (
            "CREATE TABLE ic (x int)",
            "INSERT INTO ic VALUES (1)",
            "ALTER TABLE ic ADD CONSTRAINT ic_pos CHECK (x > 0) NOT VALID",
        ),
        ("ALTER TABLE ic VALIDATE CONSTRAINT ic_pos",),
        "public.ic",
    ),
    Scenario(
        "unused_indexes",
        (
            "CREATE TABLE ui (x int)",
            "INSERT INTO ui SELECT generate_series(1, 1000)",
            "CREATE INDEX ui_x ON ui (x)",
        ),
        ("DROP INDEX ui_x",),
        "public.ui_x",
        {"advisor_unused_index_bytes": 0},
        strict={"advisor_unused_index_bytes": 1 << 20},
    ),
    Scenario(
        "cache_hit_rate",
        (
            "CREATE TABLE ch AS SELECT g AS id, repeat('x', 100) AS pad "
            "FROM generate_series(1, 200000) g",
            "SELECT count(*) FROM ch",
            "SELECT count(*) FROM ch",
        ),
        ("SELECT pg_stat_reset()",),
        "{db} tables",
        {"advisor_cache_hit_pct": 99.9, "advisor_cache_min_blocks": 100},
        strict={"advisor_cache_hit_pct": 99.9, "advisor_cache_min_blocks": 10**12},
    ),
    Scenario(
        "table_bloat",
        (
            "CREATE TABLE tb (id int, pad text)",
            "INSERT INTO tb SELECT g, repeat('x', 50) FROM generate_series(1, 50000) g",
            "DELETE FROM tb WHERE id % 10 <> 0",
            "VACUUM ANALYZE tb",
        ),
        ("VACUUM (FULL, ANALYZE) tb",),
        "public.tb",
        {"advisor_bloat_bytes": 0},
        strict={"advisor_bloat_bytes": 0, "advisor_bloat_pct": 100},
    ),
    Scenario(
        "vacuum_needed",
        (
            "CREATE TABLE vn (id int) WITH (autovacuum_enabled = false)",
            "INSERT INTO vn SELECT generate_series(1, 2000)",
            "DELETE FROM vn WHERE id > 100",
        ),
        ("VACUUM vn",),
        "public.vn",
        {"advisor_dead_rows": 100},
        strict={"advisor_dead_rows": 100, "advisor_dead_pct": 10_000},
    ),
    Scenario(
        "never_analyzed",
        (
            "CREATE TABLE na (id int) WITH (autovacuum_enabled = false)",
            "INSERT INTO na SELECT generate_series(1, 2000)",
        ),
        ("ANALYZE na",),
        "public.na",
        {"advisor_analyze_rows": 1000},
        strict={"advisor_analyze_rows": 100_000},
    ),
    Scenario(
        "inactive_replication_slots",
        ("SELECT pg_create_physical_replication_slot('slot_{db}')",),
        ("SELECT pg_drop_replication_slot('slot_{db}')",),
        "slot slot_{db}",
    ),
    Scenario(
        "settings_advice",
        ("ALTER DATABASE {db} SET idle_in_transaction_session_timeout = 0",),
        ("ALTER DATABASE {db} SET idle_in_transaction_session_timeout = '5min'",),
        "idle_in_transaction_session_timeout",
    ),
    Scenario(
        "rls_disabled_with_policies",
        ("CREATE TABLE rd (id int)", "CREATE POLICY rd_p ON rd USING (id > 0)"),
        ("ALTER TABLE rd ENABLE ROW LEVEL SECURITY",),
        "public.rd",
        level="ERROR",
    ),
    Scenario(
        "rls_enabled_no_policy",
        ("CREATE TABLE rn (id int)", "ALTER TABLE rn ENABLE ROW LEVEL SECURITY"),
        ("CREATE POLICY rn_p ON rn FOR SELECT USING (id > 0)",),
        "public.rn",
    ),
    Scenario(
        "policy_always_true",
        (
            "CREATE TABLE pt (id int)",
            "ALTER TABLE pt ENABLE ROW LEVEL SECURITY",
            "CREATE POLICY pt_w ON pt FOR UPDATE USING (true)",
        ),
        ("ALTER POLICY pt_w ON pt USING (id > 0)",),
        "public.pt",
    ),
    Scenario(
        "security_definer_view",
        (
            "CREATE TABLE sv (id int)",
            "ALTER TABLE sv ENABLE ROW LEVEL SECURITY",
            "CREATE VIEW sv_v AS SELECT id FROM sv",
        ),
        ("ALTER VIEW sv_v SET (security_invoker = on)",),
        "public.sv_v",
        level="ERROR",
    ),
    Scenario(
        "function_search_path_mutable",
        ("CREATE FUNCTION fsp() RETURNS int LANGUAGE sql SECURITY DEFINER AS 'SELECT 1'",),
        ("ALTER FUNCTION fsp() SET search_path = pg_catalog",),
        "public.fsp()",
        level="ERROR",
    ),
    Scenario(
        "security_definer_public_execute",
        (
            "CREATE FUNCTION sdp() RETURNS int LANGUAGE sql SECURITY DEFINER "
            "SET search_path = pg_catalog AS 'SELECT 1'",
        ),
        ("REVOKE EXECUTE ON FUNCTION sdp() FROM PUBLIC",),
        "public.sdp()",
    ),
    Scenario(
        "extension_in_public",
        ("CREATE EXTENSION pg_trgm",),
        ("CREATE SCHEMA extensions", "ALTER EXTENSION pg_trgm SET SCHEMA extensions"),
        "extension pg_trgm",
    ),
    Scenario(
        "policy_initplan",
        (
            "CREATE TABLE pi (owner text)",
            "ALTER TABLE pi ENABLE ROW LEVEL SECURITY",
            "CREATE POLICY pi_p ON pi USING (owner = current_setting('app.user', true))",
        ),
        ("ALTER POLICY pi_p ON pi USING (owner = (SELECT current_setting('app.user', true)))",),
        "public.pi",
    ),
    Scenario(
        "multiple_permissive_policies",
        (
            "CREATE TABLE mp (id int)",
            "ALTER TABLE mp ENABLE ROW LEVEL SECURITY",
            "CREATE POLICY mp_a ON mp FOR SELECT USING (id > 0)",
            "CREATE POLICY mp_b ON mp FOR SELECT USING (id < 10)",
        ),
        ("DROP POLICY mp_b ON mp",),
        "public.mp",
    ),
    Scenario(
        "partition_candidates",
        (
            "CREATE TABLE ev (id int, at timestamptz NOT NULL DEFAULT now())",
            "INSERT INTO ev (id) SELECT generate_series(1, 2000)",
            "CREATE INDEX ev_at ON ev (at)",
            "DELETE FROM ev WHERE id <= 500",
        ),
        ("DROP INDEX ev_at",),  # no index leads with the time column: nothing to prune by
        "public.ev",
        {"advisor_partition_bytes": 0},
        strict={"advisor_partition_bytes": 1 << 40},
    ),
)
SESSION_LINTS = (
    "long_running_queries",
    "idle_in_transaction",
    "blocked_queries",
    "connection_saturation",
    "slow_queries",
)


@pytest.fixture
def scratch(pg: PgServer) -> Iterator[tuple[str, str]]:
    """A fresh database for one scenario: (name, superuser URL)."""
    name = pg.create_database()
    yield name, pg.admin_url(name)
    pg.drop_database(name)


def execute(url: str, statements: tuple[str, ...], db: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for statement in statements:
            text = statement.replace("{db}", db)
            if text.startswith("!"):
                with pytest.raises(psycopg.Error):
                    conn.execute(text[1:].encode())
            else:
                conn.execute(text.encode())


def findings(url: str, lint: str, params: dict[str, object] | None = None) -> list[advisor.Finding]:
    result = advisor.run_lints(url, "petcare-dba/test", params=params, only=(lint,))
    assert result.unavailable == (), result.unavailable
    return list(result.findings)


def eventually(url: str, lint: str, params: dict[str, object], want: bool) -> list[advisor.Finding]:
    """Statistics reach other sessions asynchronously: poll for up to 10 s."""
    deadline = time.monotonic() + 10
    while True:
        found = findings(url, lint, params)
        if bool(found) == want or time.monotonic() > deadline:
            return found
        time.sleep(0.3)


def test_there_are_at_least_25_lints_each_with_a_doc_and_a_scenario() -> None:
    names = [lint.name for lint in advisor.lints()]
    assert len(names) >= 25 and len(set(names)) == len(names)
    assert all(lint.doc.strip() for lint in advisor.lints())
    assert set(names) == {s.lint for s in SCENARIOS} | set(SESSION_LINTS)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.lint for s in SCENARIOS])
def test_lint_finds_the_problem_and_not_the_fix(
    scenario: Scenario, scratch: tuple[str, str]
) -> None:
    db, url = scratch
    expected = scenario.object.replace("{db}", db)
    execute(url, scenario.setup, db)
    found = eventually(url, scenario.lint, scenario.params, True)
    mine = [f for f in found if f.object == expected]
    assert mine, f"{scenario.lint}: expected a finding on {expected}, got {found}"
    finding = mine[0]
    assert finding.name == scenario.lint and finding.level in advisor.LEVELS
    assert finding.cache_key.startswith(scenario.lint + ":") and finding.remediation
    if scenario.level:
        assert finding.level == scenario.level
    if scenario.strict:
        stricter = findings(url, scenario.lint, scenario.strict)
        assert not [f for f in stricter if f.object == expected], (scenario.strict, stricter)
    execute(url, scenario.fix, db)
    after = eventually(url, scenario.lint, scenario.params, False)
    assert not [f for f in after if f.object == expected], after


def test_long_running_query_is_found_until_cancelled(scratch: tuple[str, str]) -> None:
    _db, url = scratch
    holder = Holder(url)
    holder.run_in_background("SELECT pg_sleep(30)")
    try:
        found = eventually(url, "long_running_queries", {"monitoring_long_query_s": 1}, True)
        mine = f"pid {holder.conn.info.backend_pid}"
        assert [f.level for f in found if f.object == mine] == ["WARN"], found
        time.sleep(1.1)  # past twice the threshold: ERROR once the factor is 2
        doubled = {"monitoring_long_query_s": 1, "advisor_long_query_error_factor": 2}
        assert [f.level for f in findings(url, "long_running_queries", doubled)] == ["ERROR"]
        patient = {"monitoring_long_query_s": 600}
        assert not [f for f in findings(url, "long_running_queries", patient) if f.object == mine]
    finally:
        holder.close()
    assert not eventually(url, "long_running_queries", {"monitoring_long_query_s": 1}, False)


def test_idle_in_transaction_is_found_until_committed(scratch: tuple[str, str]) -> None:
    _db, url = scratch
    quick = {"advisor_idle_transaction_s": 0.3}
    holder = Holder(url, "BEGIN", "SELECT 1")
    try:
        found = eventually(url, "idle_in_transaction", quick, True)
        assert any(f.object == f"pid {holder.conn.info.backend_pid}" for f in found)
        assert not findings(url, "idle_in_transaction", {"advisor_idle_transaction_s": 3600})
        holder.conn.execute("COMMIT")
        assert not eventually(url, "idle_in_transaction", quick, False)
    finally:
        holder.close()


def test_blocked_query_names_its_blocker_until_the_lock_is_released(
    scratch: tuple[str, str],
) -> None:
    db, url = scratch
    execute(url, ("CREATE TABLE bq (id int)",), db)
    blocker = Holder(url, "BEGIN", "LOCK TABLE bq IN ACCESS EXCLUSIVE MODE")
    waiter = Holder(url)
    waiter.run_in_background("SELECT * FROM bq")
    try:
        found = eventually(url, "blocked_queries", {"advisor_lock_wait_s": 0}, True)
        assert any(str(blocker.conn.info.backend_pid) in f.detail for f in found)
        assert not findings(url, "blocked_queries", {"advisor_lock_wait_s": 3600})
        blocker.conn.execute("COMMIT")
        assert not eventually(url, "blocked_queries", {"advisor_lock_wait_s": 0}, False)
    finally:
        waiter.close()
        blocker.close()


def test_connection_saturation_of_a_database_limit(scratch: tuple[str, str]) -> None:
    db, url = scratch
    execute(url, (f'ALTER DATABASE "{db}" CONNECTION LIMIT 4',), db)
    holders = [Holder(url) for _ in range(3)]
    try:
        found = findings(url, "connection_saturation")
        assert any(f.object == f"database {db}" for f in found), found
    finally:
        for h in holders:
            h.close()
    after = findings(url, "connection_saturation")
    assert not [f for f in after if f.object == f"database {db}"]


def test_the_connection_usage_threshold_moves_the_saturation_finding(
    scratch: tuple[str, str],
) -> None:
    db, url = scratch
    execute(url, (f'ALTER DATABASE "{db}" CONNECTION LIMIT 10',), db)
    holders = [Holder(url) for _ in range(3)]  # with the lint's own session: 4 of 10
    try:

        def mine(pct: float) -> list[advisor.Finding]:
            found = findings(url, "connection_saturation", {"advisor_connection_usage_pct": pct})
            return [f for f in found if f.object == f"database {db}"]

        assert mine(80) == []
        assert [f.level for f in mine(40)] == ["WARN"] and "4 of 10" in mine(40)[0].detail
        assert mine(41) == []
    finally:
        for h in holders:
            h.close()
    after = findings(url, "connection_saturation")
    assert not [f for f in after if f.object == f"database {db}"]


def test_slow_queries_come_from_pg_stat_statements_or_are_unavailable(
    scratch: tuple[str, str],
) -> None:
    db, url = scratch
    params = {"advisor_slow_query_ms": 10, "advisor_slow_query_calls": 2}
    if not has_pg_stat_statements(url):
        result = advisor.run_lints(url, "petcare-dba/test", params=params, only=("slow_queries",))
        assert result.findings == () and result.unavailable[0][0] == "slow_queries"
        assert "pg_stat_statements" in result.unavailable[0][1]
        return
    execute(url, ("CREATE EXTENSION pg_stat_statements", *["SELECT pg_sleep(0.03)"] * 3), db)
    found = findings(url, "slow_queries", params)
    assert any("pg_sleep" in f.detail for f in found)
    execute(url, ("SELECT pg_stat_statements_reset()",), db)
    assert not [f for f in findings(url, "slow_queries", params) if "pg_sleep" in f.detail]


def test_a_failing_lint_is_unavailable_and_the_others_still_run(scratch: tuple[str, str]) -> None:
    db, url = scratch
    execute(url, ("CREATE TABLE np (x int)",), db)
    # Only one lint reads pg_extension: a session locking it makes that lint time out.
    holder = Holder(url, "BEGIN", "LOCK TABLE pg_catalog.pg_extension IN ACCESS EXCLUSIVE MODE")
    try:
        result = advisor.run_lints(url, "petcare-dba/test", timeout_ms=1000)
    finally:
        holder.close()
    assert [name for name, _ in result.unavailable if name != "slow_queries"] == [
        "extension_in_public"
    ], "\n".join(f"{n}: {m}" for n, m in result.unavailable)
    assert any(f.name == "no_primary_key" and f.object == "public.np" for f in result.findings)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"monitoring_long_query_s": "not-a-number"}, "must be a whole number"),
        ({"monitoring_long_query_s": 0.5}, "must be a whole number"),
        ({"advisor_cache_hit_pct": 101}, "between 0 and 100"),
        ({"advisor_idle_transaction_s": float("nan")}, "between 0 and"),
        ({"advisor_xid_age": -1}, "between 0 and"),
        ({"advisor_slow_query_calls": True}, "must be a whole number"),
        ({"long_query_s": 1}, "not an advisor threshold"),  # the old petcare.* name
        ({"max_rows": 1}, "not an advisor threshold"),
        ({"advisor_xid_age'); DROP TABLE np; --": 1}, "not an advisor threshold"),
    ],
)
def test_a_bad_threshold_is_refused_before_any_connection(
    params: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        advisor.run_lints("postgresql://127.0.0.1:1/nowhere", "petcare-dba/test", params=params)


def test_every_threshold_is_a_bounded_number_in_the_registry_and_every_one_is_used() -> None:
    used = {name for lint in advisor.lints() for name in lint.parameters}
    assert used == set(advisor.thresholds())
    for name in used:
        decl = settings.setting(name)
        assert decl.type in (int, float) and decl.bounds and decl.help, name
    declared = {s.name for s in settings.SETTINGS if s.group == "advisor"}
    assert declared <= used, f"advisor settings no lint reads: {declared - used}"
    for lint in advisor.lints():
        # psycopg reads `%` when a lint has parameters: every literal one must be doubled.
        rest = re.sub(r"%\([a-z0-9_]+\)s|%%", "", lint.sql)
        assert "%" not in rest if lint.parameters else "%%" not in lint.sql, lint.name


def test_thresholds_come_from_the_settings_and_overrides_win(tmp_path: Path) -> None:
    cfg = tmp_path / "petcare.toml"
    cfg.write_text("advisor_analyze_rows = 5\nmonitoring_long_query_s = 7\n")
    resolved = settings.load(env={"PETCARE_ADVISOR_DEAD_PCT": "12.5"}, config_file=cfg)
    values = advisor.thresholds(resolved.values, {"advisor_analyze_rows": "9"})
    assert values["advisor_analyze_rows"] == 9 and values["monitoring_long_query_s"] == 7
    assert values["advisor_dead_pct"] == 12.5 and values["advisor_xid_age"] == 500_000_000
    assert advisor.thresholds()["monitoring_long_query_s"] == 60  # one setting, not two


def test_sequence_thresholds_move_the_level_and_a_zero_range_cannot_hide_overflow(
    scratch: tuple[str, str],
) -> None:
    """A sequence whose range ends at 0 once made the lint divide by zero, so one such
    sequence (anyone may create it) hid every overflow finding in the database."""
    db, url = scratch
    execute(
        url,
        (
            "CREATE SEQUENCE zero MINVALUE -10 MAXVALUE 0 START -10",
            "SELECT nextval('zero')",
            "CREATE SEQUENCE below AS smallint MINVALUE -32768 MAXVALUE -1",
            "SELECT nextval('below')",
            "CREATE SEQUENCE s1 AS integer",
            "SELECT setval('s1', 2000000000)",  # 93.1 % of 2^31 - 1
        ),
        db,
    )

    def levels(params: dict[str, object]) -> list[tuple[str, str]]:
        return [(f.object, f.level) for f in findings(url, "sequence_overflow", params)]

    assert levels({}) == [("public.s1", "WARN")]
    assert levels({"advisor_sequence_error_pct": 93}) == [("public.s1", "ERROR")]
    assert levels({"advisor_sequence_used_pct": 93.2}) == []


def test_thresholds_set_in_the_target_database_are_ignored(scratch: tuple[str, str]) -> None:
    """The owner of a target database must not be able to silence the advisor: thresholds once
    came from petcare.* custom settings, which ALTER DATABASE ... SET could raise."""
    db, url = scratch
    execute(
        url,
        (
            "CREATE TABLE na (id int) WITH (autovacuum_enabled = false)",
            "INSERT INTO na SELECT generate_series(1, 2000)",
            f"ALTER DATABASE \"{db}\" SET petcare.analyze_rows = '1000000000'",
            f"ALTER DATABASE \"{db}\" SET petcare.advisor_analyze_rows = '1000000000'",
        ),
        db,
    )
    found = eventually(url, "never_analyzed", {}, True)
    assert [f.object for f in found] == ["public.na"]


def test_the_metadata_schema_is_lint_clean(meta_url: str) -> None:
    result = advisor.run_lints(meta_url, "petcare-dba/test")
    dirty = [
        f
        for f in result.findings
        if f.level in ("ERROR", "WARN") and ("petcare." in f.object or "petcare." in f.detail)
    ]
    assert dirty == [], "\n".join(f"{f.level} {f.name} {f.object}: {f.detail}" for f in dirty)


def test_stored_runs_track_new_resolved_and_excluded_findings(
    rt: Runtime, admin: Actor, scratch: tuple[str, str], meta_url: str
) -> None:
    db, url = scratch
    connections.add(rt, admin, "lints", url, shared=True)
    execute(url, ("CREATE TABLE a (x int)", "CREATE TABLE b (x int)"), db)
    first = advisor.run_and_store(rt, admin, "lints")
    keys = {f.cache_key: f.status for f in first.findings if f.name == "no_primary_key"}
    assert keys == {"no_primary_key:public.a": "new", "no_primary_key:public.b": "new"}
    advisor.exclude(rt, admin, "lints", "no_primary_key:public.b", "legacy table")
    execute(url, ("ALTER TABLE a ADD PRIMARY KEY (x)",), db)
    second = advisor.run_and_store(rt, admin, "lints")
    assert "no_primary_key:public.b" in {f.cache_key for f in second.excluded}
    assert {f.cache_key for f in second.resolved} == {"no_primary_key:public.a"}
    assert not [f for f in second.findings if f.name == "no_primary_key"]
    runs = advisor.history(rt, admin, "lints")
    assert [r["resolved_findings"] for r in runs][:2] == [1, 0]
    stored = advisor.stored_findings(rt, admin, runs[0]["id"])
    assert ("no_primary_key:public.a", "resolved") in {(f.cache_key, f.status) for f in stored}


def test_a_new_error_finding_raises_an_alert(
    rt: Runtime, admin: Actor, scratch: tuple[str, str]
) -> None:
    db, url = scratch
    connections.add(rt, admin, "lints", url, shared=True)
    execute(url, ("CREATE TABLE rd (id int)", "CREATE POLICY rd_p ON rd USING (id > 0)"), db)
    advisor.run_and_store(rt, admin, "lints")
    firing = alerts.history(rt, admin, state="firing")
    assert [e.rule for e in firing] == ["advisor-error-finding"]
    execute(url, ("ALTER TABLE rd ENABLE ROW LEVEL SECURITY",), db)
    advisor.run_and_store(rt, admin, "lints")
    assert alerts.history(rt, admin, state="firing") == []


def test_advisor_cli_fails_on_findings_for_ci(
    monitoring_cli, rt: Runtime, admin: Actor, scratch: tuple[str, str]
) -> None:  # type: ignore[no-untyped-def]
    import json

    db, url = scratch
    connections.add(rt, admin, "ci", url, shared=True)
    execute(url, ("CREATE TABLE np (x int)",), db)
    ok = monitoring_cli("advisor", "--connection", "ci", "--fail-on", "error")
    assert ok.exit_code == 0, ok.output
    failing = monitoring_cli("advisor", "-c", "ci", "--format", "json", "--fail-on", "warn")
    assert failing.exit_code == 1
    report = json.loads(failing.output)
    assert any(f["cache_key"] == "no_primary_key:public.np" for f in report["findings"])


def test_index_candidates_come_from_the_filter_columns() -> None:
    from petcare_dba.services.advisor import indexes

    c = indexes.candidate("SELECT * FROM public.pets p WHERE p.species = $1 AND weight > $2")
    assert c == indexes.Candidate("public", "pets", ("species",), ("weight",))
    assert indexes.candidate("SELECT 1") is None
    assert indexes.candidate("SELECT * FROM a JOIN b ON a.id = b.id WHERE x = $1") is None
    assert indexes.candidate("DELETE FROM t WHERE owner IN ($1, $2)").equality == ("owner",)


def test_index_suggestion_is_verified_and_created_only_after_confirmation(
    rt: Runtime, admin: Actor, scratch: tuple[str, str], make_user
) -> None:  # type: ignore[no-untyped-def]
    from petcare_dba.errors import NeedsConfirmation, PermissionDenied

    db, url = scratch
    connections.add(rt, admin, "idx", url, shared=True)
    if not has_pg_stat_statements(url):
        with pytest.raises(Exception, match="pg_stat_statements"):
            indexes.suggest(rt, admin, "idx")
        return
    execute(
        url,
        (
            "CREATE EXTENSION pg_stat_statements",
            "CREATE TABLE visits (id bigint PRIMARY KEY, pet_id int, at date, note text)",
            "INSERT INTO visits SELECT g, g % 5000, date '2024-01-01' + g % 700, 'x' "
            "FROM generate_series(1, 200000) g",
            "ANALYZE visits",
            "SELECT pg_stat_statements_reset()",
        ),
        db,
    )
    with psycopg.connect(url, autocommit=True) as conn:
        for i in range(5):
            conn.execute("SELECT count(*) FROM visits WHERE pet_id = %s", (i,))
    found = indexes.suggest(rt, admin, "idx", min_mean_ms=0)
    mine = [s for s in found if s.table == "public.visits"]
    assert mine, found
    suggestion = mine[0]
    assert suggestion.columns == ("pet_id",) and suggestion.verified_by in ("explain", "hypopg")
    assert suggestion.cost_after < suggestion.cost_before and suggestion.gain_pct > 50
    assert suggestion.create_sql == "CREATE INDEX CONCURRENTLY ON public.visits (pet_id);"
    with psycopg.connect(url) as conn:
        assert conn.execute(
            "SELECT count(*) FROM pg_indexes WHERE tablename = 'visits'"
        ).fetchone() == (1,), "the what-if left no index behind"
    with pytest.raises(PermissionDenied):
        indexes.create(
            rt, make_user("ana", "analyst"), "idx", suggestion.create_sql, confirmed=True
        )
    with pytest.raises(NeedsConfirmation):
        indexes.create(rt, admin, "idx", suggestion.create_sql, confirmed=False)
    indexes.create(rt, admin, "idx", suggestion.create_sql, confirmed=True)
    with psycopg.connect(url) as conn:
        assert conn.execute(
            "SELECT count(*) FROM pg_indexes WHERE tablename = 'visits'"
        ).fetchone() == (2,)
    assert indexes.suggest(rt, admin, "idx", min_mean_ms=0) == [] or all(
        s.table != "public.visits" for s in indexes.suggest(rt, admin, "idx", min_mean_ms=0)
    )

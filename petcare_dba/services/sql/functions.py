"""Plan stage, below the classifier: what it knows about PostgreSQL functions, how a call resolves.

Three kinds of knowledge: `FunctionRule`s for functions whose effects a READ ONLY transaction
does not stop or that reach outside the database (some restricted to dba by a named rule:
settings, outbound, opaque dynamic SQL); reads that pg_proc marks volatile (`SAFE_VOLATILE`,
large-object reads); and the functions of pg_catalog with their volatility
(`pg_builtin_functions.txt`), so that the offline classifier can tell `count()` from a user
function it cannot see. `resolve` gives a call's volatility from a connection's pg_proc lookup
when there is one, else from the builtin list; a call it cannot resolve is reported as a
dependency and is not read-only, offline and online alike (issue 12).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources

from pglast import ast

from petcare_dba.messages import say
from petcare_dba.services.sql.parse import Kind

# The rules are stable text (the audit log and `classify` name them) said from a template.
RULE_SETTINGS = say("msg.sql.rule.settings")
RULE_OUTBOUND = say("msg.sql.rule.outbound")
RULE_DYNAMIC = say("msg.sql.rule.dynamic")
# Rules under which a dba still confirms (set-up of outbound access, opaque SQL); a dba's
# setting changes are pinned back by the engine for every later statement instead.
CONFIRM_RULES = frozenset({RULE_OUTBOUND, RULE_DYNAMIC})


@dataclass(frozen=True)
class FunctionRule:
    """Why calling a function is not read-only: the kind it raises a query to, and its effect.

    `restricted` names a rule that limits the call to dba and admin whatever the connection.
    """

    kind: Kind
    effect: str
    destructive: bool = False
    restricted: str | None = None


_SERVER = Kind.UTILITY  # server administration: dba and admin only
_OUT = RULE_OUTBOUND
_DYN = RULE_DYNAMIC


def _out(effect: str, *, destructive: bool = False, kind: Kind = _SERVER) -> FunctionRule:
    return FunctionRule(kind, effect, destructive, _OUT)


def _dyn(effect: str) -> FunctionRule:
    return FunctionRule(Kind.DML, effect, False, _DYN)


# Functions with side effects that a READ ONLY transaction does not stop (reliability Q3). Names
# ending in "*" are prefixes. https://www.postgresql.org/docs/current/functions-admin.html
_FUNCTION_RULES: dict[str, FunctionRule] = {
    "nextval": FunctionRule(Kind.DML, say("msg.sql.fn.advances_sequence")),
    "setval": FunctionRule(Kind.DML, say("msg.sql.fn.sets_sequence")),
    "txid_current": FunctionRule(Kind.DML, say("msg.sql.fn.assigns_transaction_id")),
    "pg_current_xact_id": FunctionRule(Kind.DML, say("msg.sql.fn.assigns_transaction_id")),
    "pg_notify": FunctionRule(Kind.DML, say("msg.sql.fn.sends_notification")),
    "pg_logical_emit_message": FunctionRule(Kind.DML, say("msg.sql.fn.writes_wal_message")),
    # Outbound: other servers, foreign data, large objects, the server's files.
    "dblink*": _out(say("msg.sql.fn.runs_sql_another_server"), kind=Kind.DML),
    "postgres_fdw_*": _out(say("msg.sql.fn.manages_connections_another_server")),
    "lo_unlink": _out(say("msg.sql.fn.deletes_large_object"), destructive=True, kind=Kind.DML),
    "lo_import": _out(say("msg.sql.fn.reads_file_database_server")),
    "lo_export": _out(say("msg.sql.fn.writes_file_database_server"), destructive=True),
    "lo_open": _out(say("msg.sql.fn.opens_large_object_writing"), kind=Kind.DML),
    "lo_*": _out(say("msg.sql.fn.creates_or_changes_large"), kind=Kind.DML),
    "lowrite": _out(say("msg.sql.fn.changes_large_object"), kind=Kind.DML),
    "pg_read_file": _out(say("msg.sql.fn.reads_file_database_server")),
    "pg_read_file_old": _out(say("msg.sql.fn.reads_file_database_server")),
    "pg_read_binary_file": _out(say("msg.sql.fn.reads_file_database_server")),
    "pg_stat_file": _out(say("msg.sql.fn.inspects_file_database_server")),
    "pg_ls_*": _out(say("msg.sql.fn.lists_files_database_server")),
    "pg_file_*": _out(say("msg.sql.fn.changes_file_server"), destructive=True),
    # Opaque dynamic SQL: the text they run, or the objects they read, are not in the tree.
    "query_to_xml*": _dyn(say("msg.sql.fn.runs_sql_text_that")),
    "cursor_to_xml*": _dyn(say("msg.sql.fn.reads_from_cursor_that")),
    "table_to_xml*": _dyn(say("msg.sql.fn.reads_table_named_by")),
    "schema_to_xml*": _dyn(say("msg.sql.fn.reads_every_table_schema")),
    "database_to_xml*": _dyn(say("msg.sql.fn.reads_every_table_database")),
    "ts_stat": _dyn(say("msg.sql.fn.runs_sql_text_that")),
    "ts_rewrite": _dyn(say("msg.sql.fn.runs_sql_text_that")),
    "set_config": FunctionRule(
        Kind.SESSION, say("msg.sql.fn.changes_setting"), False, RULE_SETTINGS
    ),
    "pg_advisory_*": FunctionRule(Kind.SESSION, say("msg.sql.fn.takes_or_releases_advisory")),
    "pg_try_advisory_*": FunctionRule(Kind.SESSION, say("msg.sql.fn.takes_advisory_lock")),
    "pg_terminate_backend": FunctionRule(
        _SERVER, say("msg.sql.fn.terminates_session"), destructive=True
    ),
    "pg_cancel_backend": FunctionRule(_SERVER, say("msg.sql.fn.cancels_running_query")),
    "pg_reload_conf": FunctionRule(_SERVER, say("msg.sql.fn.reloads_server_configuration")),
    "pg_rotate_logfile*": FunctionRule(_SERVER, say("msg.sql.fn.rotates_server_log")),
    "pg_switch_wal": FunctionRule(_SERVER, say("msg.sql.fn.forces_wal_switch")),
    "pg_create_restore_point": FunctionRule(_SERVER, say("msg.sql.fn.writes_wal_restore_point")),
    "pg_log_standby_snapshot": FunctionRule(_SERVER, say("msg.sql.fn.writes_wal_record")),
    "pg_promote": FunctionRule(_SERVER, say("msg.sql.fn.promotes_standby"), destructive=True),
    "pg_backup_*": FunctionRule(_SERVER, say("msg.sql.fn.starts_or_stops_backup")),
    "pg_wal_replay_*": FunctionRule(_SERVER, say("msg.sql.fn.pauses_or_resumes_wal")),
    "pg_stat_reset*": FunctionRule(_SERVER, say("msg.sql.fn.resets_statistics")),
    "pg_stat_statements_reset": FunctionRule(
        _SERVER, say("msg.sql.fn.resets_statement_statistics")
    ),
    "pg_log_backend_memory_contexts": FunctionRule(_SERVER, say("msg.sql.fn.writes_server_log")),
    "pg_create_*": FunctionRule(_SERVER, say("msg.sql.fn.creates_replication_slot")),
    "pg_copy_*": FunctionRule(_SERVER, say("msg.sql.fn.copies_replication_slot")),
    "pg_drop_replication_slot": FunctionRule(
        _SERVER, say("msg.sql.fn.drops_replication_slot"), destructive=True
    ),
    "pg_replication_slot_advance": FunctionRule(
        _SERVER, say("msg.sql.fn.advances_replication_slot"), destructive=True
    ),
    "pg_logical_slot_get_*": FunctionRule(
        _SERVER, say("msg.sql.fn.consumes_changes_from_replication"), destructive=True
    ),
    "pg_sync_replication_slots": FunctionRule(
        _SERVER, say("msg.sql.fn.synchronises_replication_slots")
    ),
    "pg_replication_origin_*": FunctionRule(_SERVER, say("msg.sql.fn.changes_replication_origins")),
    "pg_import_system_collations": FunctionRule(_SERVER, say("msg.sql.fn.creates_collations")),
    "pg_extension_config_dump": FunctionRule(
        _SERVER, say("msg.sql.fn.changes_extension_s_definition")
    ),
    "pg_nextoid": FunctionRule(_SERVER, say("msg.sql.fn.allocates_object_id")),
    "binary_upgrade_*": FunctionRule(_SERVER, say("msg.sql.fn.changes_catalogs_pg_upgrade")),
    "pg_restore_*_stats": FunctionRule(
        Kind.MAINTENANCE, say("msg.sql.fn.changes_planner_statistics")
    ),
    "pg_clear_*_stats": FunctionRule(Kind.MAINTENANCE, say("msg.sql.fn.clears_planner_statistics")),
    "brin_summarize_*": FunctionRule(Kind.MAINTENANCE, say("msg.sql.fn.changes_brin_index")),
    "brin_desummarize_range": FunctionRule(Kind.MAINTENANCE, say("msg.sql.fn.changes_brin_index")),
    "gin_clean_pending_list": FunctionRule(Kind.MAINTENANCE, say("msg.sql.fn.changes_gin_index")),
}
# Large-object reads: volatile in pg_proc, harmless in a READ ONLY transaction (they need the
# SELECT privilege on the object).
LO_READS = frozenset("lo_get loread lo_lseek lo_lseek64 lo_tell lo_tell64 lo_close".split())
# Reading functions that the prefixes above would catch.
_FUNCTION_EXCEPTIONS = LO_READS | {"pg_replication_origin_oid"}
_PREFIX_RULES = sorted(
    ((k[:-1], v) for k, v in _FUNCTION_RULES.items() if k.endswith("*") and k.count("*") == 1),
    key=lambda item: -len(item[0]),
)
_INFIX_RULES = [(k.split("*"), v) for k, v in _FUNCTION_RULES.items() if k.count("*") == 1]
_INFIX_RULES = [(parts, v) for parts, v in _INFIX_RULES if parts[1]]
_INV_WRITE = 0x20000  # libpq-fs.h: lo_open mode bit for writing

# Volatile in pg_proc but without side effects worth refusing a read-only statement for; they
# count only when the call resolves to pg_catalog (no overload of that name in another schema).
SAFE_VOLATILE = LO_READS | frozenset(
    "random random_normal clock_timestamp timeofday gen_random_uuid uuidv4 uuidv7 pg_sleep"
    " pg_sleep_for pg_sleep_until pg_is_in_recovery pg_current_wal_lsn pg_current_wal_insert_lsn"
    " pg_current_wal_flush_lsn pg_last_wal_receive_lsn pg_last_wal_replay_lsn"
    " pg_last_xact_replay_timestamp pg_stat_statements pg_blocking_pids currval lastval"
    " pg_database_size pg_relation_size pg_table_size pg_indexes_size pg_total_relation_size"
    " pg_tablespace_size pg_lock_status pg_notification_queue_usage pg_partition_ancestors"
    " pg_partition_tree pg_sequence_last_value pg_safe_snapshot_blocking_pids pg_xact_status"
    " txid_status pg_xact_commit_timestamp pg_jit_available pg_current_logfile"
    # Only in the forms `call_rule` lets through: lo_open(oid, INV_READ), ts_rewrite(q, t, s).
    " lo_open ts_rewrite".split()
)


def needs_lookup(name: str) -> bool:
    """Whether the target's pg_proc decides a call of `name` (no rule refuses it outright)."""
    return function_rule(name) is None or name in SAFE_VOLATILE


def function_rule(name: str, *, builtin: bool = True) -> FunctionRule | None:
    """The side-effect rule for a lower-cased, unqualified function name, if any.

    `builtin` says the call may resolve to pg_catalog; the read exceptions count only then.
    """
    if builtin and name in _FUNCTION_EXCEPTIONS:
        return None
    if name in _FUNCTION_RULES:
        return _FUNCTION_RULES[name]
    for (head, tail), rule in _INFIX_RULES:
        if name.startswith(head) and name.endswith(tail) and len(name) > len(head) + len(tail):
            return rule
    return next((rule for prefix, rule in _PREFIX_RULES if name.startswith(prefix)), None)


def call_rule(call: ast.FuncCall, name: str, schema: str | None) -> FunctionRule | None:
    """The rule for one call, looking at the arguments where they decide (lo_open's mode)."""
    builtin = schema in (None, "pg_catalog")
    rule = function_rule(name, builtin=builtin)
    args = call.args or ()
    if builtin and name == "lo_open" and len(args) == 2:
        mode = args[1]
        if isinstance(mode, ast.A_Const) and isinstance(mode.val, ast.Integer):
            return None if not int(mode.val.ival or 0) & _INV_WRITE else rule
    if builtin and name == "ts_rewrite" and len(args) == 3:
        return None  # ts_rewrite(query, target, substitute) runs no SQL text
    return rule


@cache
def builtin_functions() -> dict[str, str]:
    """{name: most volatile flag} of pg_catalog's functions (PostgreSQL 15 and 18)."""
    text = resources.files(__package__).joinpath("pg_builtin_functions.txt").read_text("utf-8")
    pairs = (line.split() for line in text.splitlines() if line and not line.startswith("#"))
    return {name: flag for name, flag in pairs}


def shadowed(name: str, volatility: Mapping[str, str]) -> bool:
    """Whether a connection's lookup found a function of this name outside pg_catalog."""
    return any(
        key.rpartition(".")[2] == name and key.rpartition(".")[0] not in ("", "pg_catalog")
        for key in volatility
    )


def resolve(name: str, schema: str | None, volatility: Mapping[str, str] | None) -> str | None:
    """The volatility flag ('i', 's', 'v') a call resolves to, or None if it cannot be resolved.

    With a connection's lookup (`volatility`), an unqualified name takes the most volatile of
    all its overloads in every schema (search_path and argument types pick one at run time).
    """
    builtin = schema in (None, "pg_catalog")
    if volatility is not None:
        flag = volatility.get(f"{schema}.{name}" if schema else name)
        if flag is not None:
            return flag
    return builtin_functions().get(name) if builtin else None


def safe_volatile(name: str, schema: str | None, volatility: Mapping[str, str] | None) -> bool:
    """A volatile builtin that only reads, when nothing outside pg_catalog shadows its name."""
    if name not in SAFE_VOLATILE or schema not in (None, "pg_catalog"):
        return False
    return volatility is None or schema == "pg_catalog" or not shadowed(name, volatility)

"""The access rules of projects, members, scripts, versions and runs as data (reliability R2).

Each `Check` says who runs which statements and whether row level security must let it happen;
`World` holds the ids of the scenario the statements name (`{P}`, `{olga}` ...). Used by
tests/projects/test_rls_projects.py, which runs every check as petcare_app and again against
every dropped or loosened policy.
"""

from __future__ import annotations

from dataclasses import dataclass

TABLES = (
    "projetos_analytics",
    "project_members",
    "scripts_projetos",
    "script_versions",
    "execucoes_scripts",
)
RUN_INSERT = (
    "INSERT INTO petcare.execucoes_scripts (user_id, project_id, script_version_id, sql_text, "
    "classification, outcome) VALUES ({user}, {project}, {version}, 'SELECT 1', 'read', 'ok')"
)


@dataclass(frozen=True)
class Check:
    """`who` runs `statements`; `allowed` says whether the database must let it happen.

    A SELECT "happens" when it counts at least one row; a write when it changes at least one
    row without error. `immediate` also runs the commit-time checks (deferred triggers).
    """

    table: str
    rule: str
    who: str
    statements: tuple[str, ...]
    allowed: bool
    immediate: bool = False


def _c(
    table: str, rule: str, who: str, allowed: bool, *stmts: str, immediate: bool = False
) -> Check:
    return Check(table, rule, who, stmts, allowed, immediate)


P, PA, Q = "{P}", "{PA}", "{Q}"
SEL_P = "SELECT count(*) FROM petcare.projetos_analytics WHERE id = {P}"
SEL_M = "SELECT count(*) FROM petcare.project_members WHERE project_id = {P}"
SEL_S = "SELECT count(*) FROM petcare.scripts_projetos WHERE id = {S}"
SEL_V = "SELECT count(*) FROM petcare.script_versions WHERE id = {V}"
SEL_R = "SELECT count(*) FROM petcare.execucoes_scripts WHERE id = {R}"
SEL_RX = "SELECT count(*) FROM petcare.execucoes_scripts WHERE id = {RX}"
NEW_PROJECT = (
    "INSERT INTO petcare.projetos_analytics (name, created_by, owner_id) VALUES ('n', 'x', {owner})"
)
RENAME_P = "UPDATE petcare.projetos_analytics SET name = 'renamed' WHERE id = {P}"
ADD_X = (
    "INSERT INTO petcare.project_members (project_id, user_id, role) "
    "VALUES ({P}, {xavier}, 'viewer')"
)
MOVE_VERA = (
    "UPDATE petcare.project_members SET project_id = {to} "
    "WHERE project_id = {P} AND user_id = {vera}"
)
VERA_ROLE = (
    "UPDATE petcare.project_members SET role = '{role}' WHERE project_id = {P} AND user_id = {vera}"
)
DEL_VERA = "DELETE FROM petcare.project_members WHERE project_id = {P} AND user_id = {vera}"
NEW_SCRIPT = (
    "INSERT INTO petcare.scripts_projetos (project_id, name, created_by) "
    "VALUES ({project}, 'new', {creator})"
)
NEW_VERSION = (
    "INSERT INTO petcare.script_versions (script_id, content, content_hash, author_id) "
    "VALUES ({script}, 'SELECT 2', '', {author})"
)

CHECKS: tuple[Check, ...] = (
    # projects: members and admins see; owner or admin change; delete only when archived
    *(
        _c("projetos_analytics", "members see", w, True, SEL_P)
        for w in ("olga", "eddie", "vera", "admin")
    ),
    *(
        _c("projetos_analytics", "outsiders see nothing", w, False, SEL_P)
        for w in ("xavier", "anon")
    ),
    _c(
        "projetos_analytics",
        "create own",
        "xavier",
        True,
        NEW_PROJECT.replace("{owner}", "{xavier}"),
    ),
    _c(
        "projetos_analytics",
        "create for another",
        "xavier",
        False,
        NEW_PROJECT.replace("{owner}", "{olga}"),
    ),
    *(_c("projetos_analytics", "owner/admin rename", w, True, RENAME_P) for w in ("olga", "admin")),
    *(
        _c("projetos_analytics", "others rename", w, False, RENAME_P)
        for w in ("eddie", "vera", "xavier")
    ),
    _c(
        "projetos_analytics",
        "owner_id only to the owner member",
        "olga",
        False,
        "UPDATE petcare.projetos_analytics SET owner_id = {vera} WHERE id = {P}",
    ),
    _c(
        "projetos_analytics",
        "transfer in policy order",
        "olga",
        True,
        VERA_ROLE.replace("{role}", "owner"),
        "UPDATE petcare.project_members SET role = 'editor' "
        "WHERE project_id = {P} AND user_id = {olga}",
        "UPDATE petcare.projetos_analytics SET owner_id = {vera} WHERE id = {P}",
        immediate=True,
    ),
    _c(
        "projetos_analytics",
        "second owner refused at commit",
        "olga",
        False,
        VERA_ROLE.replace("{role}", "owner"),
        immediate=True,
    ),
    *(
        _c(
            "projetos_analytics",
            "delete archived",
            w,
            True,
            "DELETE FROM petcare.projetos_analytics WHERE id = {PA}",
        )
        for w in ("olga", "admin")
    ),
    _c(
        "projetos_analytics",
        "delete active",
        "olga",
        False,
        "DELETE FROM petcare.projetos_analytics WHERE id = {P}",
    ),
    _c(
        "projetos_analytics",
        "editor deletes",
        "eddie",
        False,
        "DELETE FROM petcare.projetos_analytics WHERE id = {PA}",
    ),
    # members: members see; owner or admin manage; a member may leave
    _c("project_members", "members see members", "vera", True, SEL_M),
    _c("project_members", "outsiders see no members", "xavier", False, SEL_M),
    *(_c("project_members", "owner/admin invite", w, True, ADD_X) for w in ("olga", "admin")),
    *(_c("project_members", "others invite", w, False, ADD_X) for w in ("eddie", "xavier")),
    _c("project_members", "owner sets roles", "olga", True, VERA_ROLE.replace("{role}", "editor")),
    *(
        _c("project_members", "others set roles", w, False, VERA_ROLE.replace("{role}", "editor"))
        for w in ("eddie", "vera")
    ),
    _c(
        "project_members",
        "no moving members to another project",
        "olga",
        False,
        MOVE_VERA.replace("{to}", "{Q}"),
    ),
    _c(
        "project_members",
        "no moving members into a project one only belongs to",
        "olga",
        False,
        MOVE_VERA.replace("{to}", "{E}"),
    ),
    _c(
        "project_members",
        "no pulling members out of others' projects",
        "eddie",
        False,
        MOVE_VERA.replace("{to}", "{E}"),
    ),
    *(
        _c("project_members", "owner removes/member leaves", w, True, DEL_VERA)
        for w in ("olga", "vera")
    ),
    *(_c("project_members", "others remove", w, False, DEL_VERA) for w in ("eddie", "xavier")),
    # scripts: members read; owners/editors of active projects write; owners hard-delete
    *(_c("scripts_projetos", "members see scripts", w, True, SEL_S) for w in ("vera", "admin")),
    *(
        _c("scripts_projetos", "outsiders see no scripts", w, False, SEL_S)
        for w in ("xavier", "anon")
    ),
    _c(
        "scripts_projetos",
        "editor creates",
        "eddie",
        True,
        NEW_SCRIPT.format(project=P, creator="{eddie}"),
    ),
    *(
        _c(
            "scripts_projetos",
            "others create",
            w,
            False,
            NEW_SCRIPT.format(project=P, creator="{" + w + "}"),
        )
        for w in ("vera", "xavier")
    ),
    _c(
        "scripts_projetos",
        "no writes in archived",
        "eddie",
        False,
        NEW_SCRIPT.format(project=PA, creator="{eddie}"),
    ),
    _c(
        "scripts_projetos",
        "creator is oneself",
        "eddie",
        False,
        NEW_SCRIPT.format(project=P, creator="{olga}"),
    ),
    _c(
        "scripts_projetos",
        "editor edits",
        "eddie",
        True,
        "UPDATE petcare.scripts_projetos SET description = 'd' WHERE id = {S}",
    ),
    *(
        _c(
            "scripts_projetos",
            "others edit",
            w,
            False,
            "UPDATE petcare.scripts_projetos SET description = 'd' WHERE id = {S}",
        )
        for w in ("vera", "xavier")
    ),
    _c(
        "scripts_projetos",
        "no moving scripts to others' projects",
        "eddie",
        False,
        "UPDATE petcare.scripts_projetos SET project_id = {Q} WHERE id = {S}",
    ),
    _c(
        "scripts_projetos",
        "no moving scripts into an archived project",
        "eddie",
        False,
        "UPDATE petcare.scripts_projetos SET project_id = {PA} WHERE id = {S}",
    ),
    _c(
        "scripts_projetos",
        "a viewer cannot take a script to their project",
        "vera",
        False,
        "UPDATE petcare.scripts_projetos SET project_id = {W} WHERE id = {S}",
    ),
    _c(
        "scripts_projetos",
        "archived scripts are read-only",
        "olga",
        False,
        "UPDATE petcare.scripts_projetos SET description = 'd' WHERE id = {SA}",
    ),
    _c(
        "scripts_projetos",
        "owner purges",
        "olga",
        True,
        "DELETE FROM petcare.scripts_projetos WHERE id = {S}",
    ),
    _c(
        "scripts_projetos",
        "editor purges",
        "eddie",
        False,
        "DELETE FROM petcare.scripts_projetos WHERE id = {S}",
    ),
    # versions: members read; writers append as themselves; nobody changes them
    _c("script_versions", "members see versions", "vera", True, SEL_V),
    _c("script_versions", "outsiders see no versions", "xavier", False, SEL_V),
    _c(
        "script_versions",
        "editor appends",
        "eddie",
        True,
        NEW_VERSION.format(script="{S}", author="{eddie}"),
    ),
    *(
        _c(
            "script_versions",
            "others append",
            w,
            False,
            NEW_VERSION.format(script="{S}", author="{" + w + "}"),
        )
        for w in ("vera", "xavier")
    ),
    _c(
        "script_versions",
        "author is oneself",
        "eddie",
        False,
        NEW_VERSION.format(script="{S}", author="{olga}"),
    ),
    _c(
        "script_versions",
        "no versions in archived",
        "olga",
        False,
        NEW_VERSION.format(script="{SA}", author="{olga}"),
    ),
    _c(
        "script_versions",
        "no updates",
        "olga",
        False,
        "UPDATE petcare.script_versions SET message = 'x'",
    ),
    _c("script_versions", "no deletes", "olga", False, "DELETE FROM petcare.script_versions"),
    # runs: own runs, runs of my projects, admins all; runs link only my projects' versions
    *(
        _c("execucoes_scripts", "project members see runs", w, True, SEL_R)
        for w in ("vera", "admin")
    ),
    _c("execucoes_scripts", "outsiders see no project runs", "xavier", False, SEL_R),
    # reconciliation (a definer owned by petcare_owner) turns orphaned 'running' rows unknown
    _c(
        "execucoes_scripts",
        "reconcile marks orphaned runs unknown",
        "admin",
        True,
        "INSERT INTO petcare.execucoes_scripts (user_id, sql_text, classification) "
        "VALUES ({admin}, 'SELECT 1', 'read')",
        "SELECT 1 + petcare.audit_reconcile('-1 second')",
        "SELECT count(*) FROM petcare.execucoes_scripts "
        "WHERE user_id = {admin} AND outcome = 'unknown'",
    ),
    # ... and writes an 'unknown' run row for an orphaned intent that has none (issue 16: a run
    # row is written with its outcome), which only runs_reconcile_insert lets it do
    _c(
        "execucoes_scripts",
        "reconcile writes the run row of an orphaned intent",
        "admin",
        True,
        "SELECT 1 FROM (SELECT petcare.audit_append(jsonb_build_object('user_id', {admin}, "
        "'action', 'sql.execute', 'outcome', 'intent', 'event_id', "
        "'8c7e1a52-0000-4000-8000-000000000033', 'sql_text', 'SELECT 33', "
        "'classification', 'read_only'))) a",
        "SELECT 1 + petcare.audit_reconcile('-1 second')",
        "SELECT count(*) FROM petcare.execucoes_scripts WHERE outcome = 'unknown' "
        "AND audit_event_id = '8c7e1a52-0000-4000-8000-000000000033'",
    ),
    _c("execucoes_scripts", "own runs", "xavier", True, SEL_RX),
    _c("execucoes_scripts", "others' private runs", "eddie", False, SEL_RX),
    _c(
        "execucoes_scripts",
        "member records a run",
        "vera",
        True,
        RUN_INSERT.format(user="{vera}", project=P, version="{V}"),
    ),
    _c(
        "execucoes_scripts",
        "outsider cannot claim a project",
        "xavier",
        False,
        RUN_INSERT.format(user="{xavier}", project=P, version="NULL"),
    ),
    _c(
        "execucoes_scripts",
        "runs are one's own",
        "vera",
        False,
        RUN_INSERT.format(user="{olga}", project=P, version="{V}"),
    ),
    _c(
        "execucoes_scripts",
        "version must be of the project",
        "vera",
        False,
        RUN_INSERT.format(user="{vera}", project=P, version="{VQ}"),
    ),
    _c(
        "execucoes_scripts",
        "owner finishes own run",
        "olga",
        True,
        "UPDATE petcare.execucoes_scripts SET outcome = 'error' WHERE id = {R}",
    ),
    _c(
        "execucoes_scripts",
        "others finish it",
        "vera",
        False,
        "UPDATE petcare.execucoes_scripts SET outcome = 'error' WHERE id = {R}",
    ),
    _c(
        "execucoes_scripts",
        "no taking others' runs",
        "vera",
        False,
        "UPDATE petcare.execucoes_scripts SET user_id = {vera} WHERE id = {R}",
    ),
    _c(
        "execucoes_scripts",
        "no handing runs over",
        "olga",
        False,
        "UPDATE petcare.execucoes_scripts SET user_id = {vera} WHERE id = {R}",
    ),
)


@dataclass
class World:
    """Ids of the scenario: olga owns P (eddie editor, vera viewer) and archived PA (eddie
    editor); xavier owns Q; eddie owns E (olga viewer); vera owns W."""

    ids: dict[str, int]

    def render(self, text: str) -> str:
        return text.format(**{k: str(v) for k, v in self.ids.items()})

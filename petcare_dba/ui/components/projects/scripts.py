"""Widgets for a project's scripts: editor with optimistic saves, conflicts, history, diff, revert.

The editor remembers the version its text came from (`projects_base_<id>`); a save passes it as
`base_version`, so when someone else saved meanwhile the service raises `EditConflict` and the
conflict panel shows the diff and lets the user choose: save their own text on top of the latest
version, load the latest version (discarding their text), or merge by hand. A live fragment warns
when a newer version appears while editing. The text is edited in the SQL editor's code
component (Ace, `code_editor`: highlighting, line numbers, wrapping), its debounced or blurred
text kept in `projects_sql_<id>`; readers see it highlighted (st.code). Diffs render as a
unified diff or side by side in a table whose long lines wrap (`projects/diff.py`).
"""

from __future__ import annotations

import functools
from typing import Any

import streamlit as st
from code_editor import code_editor

from petcare_dba.errors import EditConflict, PetcareError
from petcare_dba.services import connections
from petcare_dba.services.actor import Actor
from petcare_dba.services.projects import Project, Script, scripts, versions
from petcare_dba.services.runtime import Runtime
from petcare_dba.ui import state
from petcare_dba.ui.components.errors import show_error
from petcare_dba.ui.components.projects import diff as diff_view
from petcare_dba.ui.components.projects.overview import ago, attempt, flash
from petcare_dba.ui.components.text import plain

t = state.t
CONFLICT = "projects_conflict"
NEW = 0  # the "new script" entry of the picker
NEXT = "projects_script_next"


def sql_key(script_id: int) -> str:
    return f"projects_sql_{script_id}"


def base_key(script_id: int) -> str:
    return f"projects_base_{script_id}"


def seed_key(script_id: int) -> str:
    return f"projects_seed_{script_id}"


def _load(script_id: int, content: str, version: int) -> None:
    """Callback: put a version's text in the editor (before the widget is drawn)."""
    ss = st.session_state
    ss[sql_key(script_id)] = content
    ss[base_key(script_id)] = version
    # A new seed remounts the code box with this text (a changed key; see _code_box).
    ss[seed_key(script_id)] = (ss.get(seed_key(script_id), (0, ""))[0] + 1, content)
    ss.pop(CONFLICT, None)


def _code_box(sid: int) -> str:
    """The SQL editor's code component on the script's text; returns the text as it stands.

    The component starts from a seed, not from the live text (re-seeding while typing would
    reset the cursor), and reports changes 250 ms after the last key or when it loses focus, so
    a click on "Save version" right after typing still saves what was typed.
    """
    ss = st.session_state
    n, seed = ss.setdefault(seed_key(sid), (0, ss.get(sql_key(sid), "")))
    response = code_editor(
        seed,
        lang="pgsql",
        height=[8, 24],
        allow_reset=True,
        response_mode=["debounce", "blur"],
        props={"placeholder": t("projects.sql")},
        options={"wrap": True, "showLineNumbers": True},
        key=f"projects_code_{sid}_{n}",
    )
    if response and response.get("id") and response["id"] != ss.get(f"projects_event_{sid}"):
        ss[f"projects_event_{sid}"] = response["id"]
        ss[sql_key(sid)] = str(response.get("text", ""))
    return str(ss.get(sql_key(sid), ""))


def pick_script(rt: Runtime, actor: Actor, project: Project) -> Script | None:
    """The script picker; None means "new script" (writers) or nothing to show (readers)."""
    items = scripts.list_scripts(rt, actor, project.id)
    by_id = {s.id: s for s in items}
    if NEXT in st.session_state:
        st.session_state["projects_script"] = st.session_state.pop(NEXT)
    options = list(by_id) + ([NEW] if project.can_write else [])
    if not options:
        st.info(t("projects.no_scripts"))
        return None
    chosen = st.selectbox(
        t("projects.script"),
        options,
        key="projects_script",
        format_func=lambda i: (
            t("projects.new_script")
            if i == NEW
            else f"{by_id[i].name} · v{by_id[i].current_version}"
        ),
    )
    return by_id.get(chosen)


def editor(rt: Runtime, actor: Actor, project: Project, script: Script | None) -> None:
    """The SQL editor of one script (or of a new one) with save, conflict handling and notices."""
    sid = script.id if script else NEW
    if sql_key(sid) not in st.session_state and script is not None:
        latest = versions.version(rt, actor, project.id, script.id)
        _load(sid, latest.content, latest.version)
    name = (
        script.name
        if script
        else st.text_input(t("projects.script_name"), key="projects_new_script")
    )
    if script is not None:
        _live_notice(rt, actor, project, script)
    if not project.can_write:
        st.code(st.session_state.get(sql_key(sid), ""), language="sql", wrap_lines=True)
        return
    text = _code_box(sid)
    message = st.text_input(t("projects.message"), key=f"projects_msg_{sid}")
    base = st.session_state.get(base_key(sid)) if script else None
    if st.button(t("projects.save_version"), key=f"projects_save_{sid}", type="primary"):
        _save(rt, actor, project, script.id if script else name, sid, text, message, base)
    conflict = st.session_state.get(CONFLICT)
    if conflict and conflict["sid"] == sid:
        _conflict_panel(rt, actor, project, sid, text, message, conflict)


def _save(
    rt: Runtime, actor: Actor, project: Project, ref: Any, sid: int, text: str, msg: str, base: Any
) -> None:
    try:
        result = scripts.save(rt, actor, project.id, ref, text, msg, base_version=base)
    except EditConflict as exc:
        st.session_state[CONFLICT] = {
            "sid": sid,
            "message": exc.message,
            "diff": exc.diff,
            "version": exc.current_version,
            "author": exc.current_author,
            "content": exc.current_content,
        }
        st.rerun()
    except PetcareError as exc:
        show_error(exc)
        return
    st.session_state[base_key(result.script_id)] = result.version
    if sid == NEW:
        st.session_state[NEXT] = result.script_id  # the picker is already drawn in this run
        st.session_state[sql_key(result.script_id)] = text
    flash(
        t("projects.version_saved", v=result.version)
        if result.created
        else t("projects.unchanged", v=result.version)
    )
    st.rerun()


def _conflict_panel(
    rt: Runtime, actor: Actor, project: Project, sid: int, text: str, msg: str, c: dict[str, Any]
) -> None:
    st.warning(
        t("projects.conflict", v=c["version"], who=plain(c["author"])), icon=":material/warning:"
    )
    st.code(c["diff"] or t("projects.no_difference"), language="diff", wrap_lines=True)
    cols = st.columns(3)
    if cols[0].button(t("projects.conflict_mine", v=c["version"]), key="projects_conflict_mine"):
        _save(rt, actor, project, sid, sid, text, msg, c["version"])
    cols[1].button(
        t("projects.conflict_theirs"),
        key="projects_conflict_theirs",
        on_click=_load,
        args=(sid, c["content"], c["version"]),
    )
    if cols[2].button(t("projects.conflict_merge"), key="projects_conflict_merge"):
        st.session_state[base_key(sid)] = c["version"]
        st.session_state.pop(CONFLICT, None)
        st.rerun()


def _live_notice(rt: Runtime, actor: Actor, project: Project, script: Script) -> None:
    every = rt.settings.projects_refresh_s

    @st.fragment(run_every=every if every > 0 else None)
    def notice() -> None:
        try:
            fresh = scripts.get(rt, actor, project.id, script.id)
        except PetcareError:
            return
        base = st.session_state.get(base_key(script.id))
        if base is not None and fresh.current_version > base:
            st.warning(
                t(
                    "projects.newer",
                    v=fresh.current_version,
                    who=plain(fresh.version_author or "?"),
                    when=ago(fresh.version_at),
                    base=base,
                ),
                icon=":material/sync_problem:",
            )
            latest = versions.version(rt, actor, project.id, script.id)
            st.button(
                t("projects.load_latest"),
                key="projects_load_latest",
                on_click=_load,
                args=(script.id, latest.content, latest.version),
            )
        else:
            st.caption(
                t(
                    "projects.script_edited",
                    v=fresh.current_version,
                    who=plain(fresh.version_author or "?"),
                    when=ago(fresh.version_at),
                )
            )

    notice()


def history_and_diff(rt: Runtime, actor: Actor, project: Project, script: Script) -> None:
    """Versions table, diff between any two, revert, open in the SQL editor."""
    history = versions.history(rt, actor, project.id, script.id)
    st.dataframe(
        [
            {
                "v": v.version,
                t("projects.col_author"): v.author,
                t("projects.col_when"): v.created_at,
                t("projects.message"): v.message,
                "sha256": v.content_hash[:12],
            }
            for v in history
        ],
        hide_index=True,
        width="stretch",
    )
    numbers = [v.version for v in history]
    # Keys follow the latest version so the default diff is always "previous -> latest".
    suffix = f"{script.id}_{numbers[0]}"
    cols = st.columns([1, 1, 2])
    old = cols[0].selectbox(
        t("projects.diff_from"),
        numbers,
        index=min(1, len(numbers) - 1),
        key=f"projects_diff_old_{suffix}",
    )
    new = cols[1].selectbox(
        t("projects.diff_to"), numbers, index=0, key=f"projects_diff_new_{suffix}"
    )
    mode = cols[2].radio(
        t("projects.diff_mode"),
        ["unified", "side"],
        horizontal=True,
        key="projects_diff_mode",
        format_func=lambda m: t(f"projects.diff_{m}"),
    )
    d = versions.diff(rt, actor, project.id, script.id, int(old), int(new))
    st.caption(t("projects.diff_stats", added=d.added, removed=d.removed))
    if mode == "unified":
        st.code(d.unified or t("projects.no_difference"), language="diff", wrap_lines=True)
    else:
        diff_view.side_by_side(d)
    cols = st.columns([1, 1, 2])
    back = cols[0].selectbox(t("projects.revert_to"), numbers, key="projects_revert_to")
    if project.can_write and cols[1].button(t("projects.revert"), key="projects_revert"):
        try:
            result = versions.revert(rt, actor, project.id, script.id, int(back))
        except PetcareError as exc:
            show_error(exc)
        else:
            chosen = next(v for v in history if v.version == back)
            st.session_state.pop(sql_key(script.id), None)  # reload the editor with it
            flash(t("projects.reverted", v=result.version, old=chosen.version))
            st.rerun()
    if cols[2].button(
        t("projects.open_editor"), key="projects_open_editor", icon=":material/edit:"
    ):
        st.session_state["editor_sql"] = st.session_state.get(sql_key(script.id), "")
        st.switch_page("pages/sql_editor.py")


def script_settings(rt: Runtime, actor: Actor, project: Project, script: Script) -> None:
    """Rename, describe, tag, set the default connection, delete (writers only)."""
    if not project.can_write:
        return
    names = [c.name for c in connections.list_connections(rt, actor)]
    with st.form(f"projects_meta_{script.id}"):
        name = st.text_input(t("projects.script_name"), value=script.name)
        desc = st.text_area(t("projects.description"), value=script.description)
        tags = st.text_input(t("projects.tags"), value=", ".join(script.tags))
        options = ["", *names]
        current = script.default_connection or ""
        conn = st.selectbox(
            t("projects.default_connection"),
            options,
            index=options.index(current) if current in options else 0,
        )
        if st.form_submit_button(t("projects.save")):
            attempt(
                lambda: scripts.update(
                    rt,
                    actor,
                    project.id,
                    script.id,
                    new_name=name,
                    description=desc,
                    tags=tags,
                    default_connection=conn,
                ),
                t("projects.saved"),
            )
    if st.button(t("projects.delete_script"), key="projects_delete_script"):
        attempt(
            lambda: scripts.delete(rt, actor, project.id, script.id),
            t("projects.script_deleted", name=script.name),
        )


def deleted_scripts(rt: Runtime, actor: Actor, project: Project) -> None:
    """Soft-deleted scripts with a restore button each."""
    gone = scripts.list_scripts(rt, actor, project.id, deleted=True)
    if not gone:
        st.caption(t("projects.no_deleted"))
        return
    for s in gone:
        cols = st.columns([3, 1])
        cols[0].write(f"**{plain(s.name)}** · v{int(s.current_version)} · {ago(s.deleted_at)}")
        if project.can_write and cols[1].button(
            t("projects.restore"), key=f"projects_restore_{s.id}"
        ):
            attempt(
                functools.partial(scripts.restore, rt, actor, project.id, s.id),
                t("projects.restored", name=s.name),
            )

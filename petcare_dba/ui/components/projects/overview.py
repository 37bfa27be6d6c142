"""Widgets of the Projects page: my projects, create/import, activity, members and settings.

Every action calls `services.projects` / `services.project_io` as the signed-in actor; the
database's row level security decides, these widgets only hide buttons a role cannot use and
render refusals with `show_error`. The activity line refreshes itself (`st.fragment`
run_every = the `projects_refresh_s` setting) so members see each other's changes without
reloading: "edited by X, N minutes ago".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import streamlit as st

from petcare_dba.errors import PetcareError
from petcare_dba.services import projects
from petcare_dba.services.actor import Actor
from petcare_dba.services.projects import Project, bundle
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import users
from petcare_dba.ui import state
from petcare_dba.ui.components import grid
from petcare_dba.ui.components.errors import show_error
from petcare_dba.ui.components.text import plain

t = state.t
PICK = "projects_pick"
FLASH = "projects_flash"


def flash(message: str) -> None:
    """Show `message` once after the next rerun (actions rerun to refresh every list)."""
    st.session_state[FLASH] = message


def show_flash() -> None:
    # Always one container here, message or not: a changing element count above the tabs would
    # remount them and jump back to the first tab on the next rerun.
    slot = st.container()
    message = st.session_state.pop(FLASH, None)
    if message:
        slot.success(plain(message), icon=":material/check_circle:")


def attempt(action: Callable[[], Any], done: str | None = None) -> bool:
    """Run a service call; on success flash `done` and rerun, on a refusal render it."""
    try:
        action()
    except PetcareError as exc:
        show_error(exc)
        return False
    if done:
        flash(done)
    st.rerun()
    return True  # not reached: st.rerun raises


def ago(when: dt.datetime | None) -> str:
    """'just now', '3 minutes ago', '2 hours ago', '5 days ago'."""
    if when is None:
        return "-"
    seconds = max(0, int((dt.datetime.now(dt.UTC) - when).total_seconds()))
    if seconds < 60:
        return t("projects.ago_now")
    if seconds < 3600:
        return t("projects.ago_minutes", n=seconds // 60)
    if seconds < 86400:
        return t("projects.ago_hours", n=seconds // 3600)
    return t("projects.ago_days", n=seconds // 86400)


def create_and_import(rt: Runtime, actor: Actor) -> None:
    """The 'new project' form and the zip import (the role's reason instead, below analyst)."""
    if not actor.at_least(projects.CREATE_ROLE):
        st.caption(t("projects.create_needs"))
        return
    new, imp = st.columns(2)
    with new.expander(t("projects.new"), icon=":material/add:"):
        with st.form("projects_new", clear_on_submit=True):
            name = st.text_input(t("projects.name"), key="projects_new_name")
            description = st.text_area(t("projects.description"), key="projects_new_desc")
            if st.form_submit_button(t("projects.create"), type="primary"):
                try:
                    pid = projects.create(rt, actor, name, description)
                except PetcareError as exc:
                    show_error(exc)
                else:
                    st.session_state[PICK] = pid
                    flash(t("projects.created", name=name.strip()))
                    st.rerun()
    with imp.expander(t("projects.import"), icon=":material/upload:"):
        upload = st.file_uploader(t("projects.import_file"), type=["zip"], key="projects_zip")
        rename = st.text_input(t("projects.import_name"), key="projects_import_name")
        if st.button(t("projects.import_go"), key="projects_import_go", disabled=upload is None):
            assert upload is not None  # noqa: S101 - the button is disabled otherwise
            try:
                result = bundle.import_zip(rt, actor, upload.getvalue(), rename or None)
            except PetcareError as exc:
                show_error(exc)
            else:
                st.session_state[PICK] = result.project_id
                note = t("projects.imported", name=result.name, n=result.versions)
                flash("\n".join([note, *result.warnings]))
                st.rerun()


def pick_project(rt: Runtime, actor: Actor) -> Project | None:
    """Search and list my projects (admins may list all, audited); returns the opened one."""
    cols = st.columns([3, 1, 1])
    search = cols[0].text_input(t("projects.search"), key="projects_search")
    archived = cols[1].toggle(t("projects.show_archived"), key="projects_archived")
    everyone = False
    if actor.at_least("admin"):
        everyone = cols[2].toggle(
            t("projects.all"), key="projects_all", help=t("projects.all_help")
        )
    rows = projects.list_projects(rt, actor, search, all_projects=everyone, archived=archived)
    if not rows:
        st.info(t("projects.none"))
        return None
    st.dataframe(
        [
            {
                t("projects.col_name"): p.name,
                t("projects.col_role"): t("projects.role." + (p.my_role or "admin")),
                t("projects.col_status"): grid.word(p.status),
                t("projects.col_scripts"): p.scripts,
                t("projects.col_owner"): p.owner,
                t("projects.col_edited"): f"{p.updated_by or '?'}, {ago(p.updated_at)}",
                t("projects.description"): p.description,
            }
            for p in rows
        ],
        hide_index=True,
        width="stretch",
    )
    by_id = {p.id: p for p in rows}
    ids = list(by_id)
    if st.session_state.get(PICK) not in by_id:
        st.session_state[PICK] = ids[0]
    chosen = st.selectbox(
        t("projects.open"),
        ids,
        key=PICK,
        format_func=lambda i: (
            f"{by_id[i].name} ({t('projects.role.' + (by_id[i].my_role or 'admin'))})"
        ),
    )
    try:
        return projects.get(rt, actor, chosen)  # fresh, and audited for an admin looking in
    except PetcareError as exc:
        show_error(exc)
        return None


def header(rt: Runtime, actor: Actor, project: Project) -> None:
    """Name, status, owner and the live "edited by" line."""
    badge = "" if project.status == "active" else f" · :orange[{t('projects.archived')}]"
    st.subheader(f"{plain(project.name)}{badge}")
    st.caption(
        t("projects.owned_by", owner=plain(project.owner), role=plain(project.my_role or "admin"))
        + (f" · {plain(project.description)}" if project.description else "")
    )
    every = rt.settings.projects_refresh_s
    first = projects.activity(rt, actor, project.id)
    seen = first.at if first else None  # what the rest of this page was drawn from
    # The fragment's run inside this page run shows `first`; only its own reruns read again.
    unread = [first]

    @st.fragment(run_every=every if every > 0 else None)
    def live() -> None:
        last = unread.pop() if unread else projects.activity(rt, actor, project.id)
        if last is None:
            return
        what = plain(last.what) + ("" if last.version is None else f" v{int(last.version)}")
        line = t(
            "projects.edited_by", who=plain(last.username or "?"), when=ago(last.at), what=what
        )
        if seen is not None and last.at > seen:
            cols = st.columns([4, 1])
            cols[0].info(line, icon=":material/update:")
            if cols[1].button(t("projects.refresh"), key="projects_refresh"):
                st.rerun()  # the whole page, so lists and the editor show the change
        else:
            st.caption(line, help=plain(last.at))

    live()


def members_panel(rt: Runtime, actor: Actor, project: Project) -> None:
    """Members and roles; the owner (or an admin) invites, changes roles, transfers."""
    people = projects.members(rt, actor, project.id)
    st.dataframe(
        [
            {
                t("projects.col_user"): m.username,
                t("projects.col_role"): t("projects.role." + m.role),
                t("projects.col_added"): m.added_at,
                t("projects.col_added_by"): m.added_by,
            }
            for m in people
        ],
        hide_index=True,
        width="stretch",
    )
    manager = project.my_role == "owner" or actor.at_least("admin")
    if not manager:
        if project.my_role and st.button(t("projects.leave"), key="projects_leave"):
            attempt(lambda: projects.remove_member(rt, actor, project.id, actor.username))
        return
    current = {m.username for m in people}
    others = [u.username for u in users.list_users(rt, actor) if not u.disabled]
    invitable = [u for u in others if u not in current]
    cols = st.columns([2, 1, 1])
    who = cols[0].selectbox(
        t("projects.invite_user"),
        invitable,
        key="projects_invite_user",
        placeholder=t("common.choose"),
    )
    role = cols[1].selectbox(
        t("projects.col_role"), ["viewer", "editor"], key="projects_invite_role"
    )
    if cols[2].button(t("projects.invite"), key="projects_invite", disabled=who is None):
        attempt(
            lambda: projects.add_member(rt, actor, project.id, str(who), role),
            t("projects.invited", user=who, role=role),
        )
    members = [m.username for m in people if m.role != "owner"]
    if not members:
        return
    cols = st.columns([2, 1, 1, 1])
    member = cols[0].selectbox(t("projects.member"), members, key="projects_member")
    new_role = cols[1].selectbox(
        t("projects.col_role"), ["viewer", "editor"], key="projects_new_role"
    )
    if cols[2].button(t("projects.set_role"), key="projects_set_role"):
        attempt(lambda: projects.set_member_role(rt, actor, project.id, str(member), new_role))
    if cols[3].button(t("projects.remove"), key="projects_remove"):
        attempt(lambda: projects.remove_member(rt, actor, project.id, str(member)))
    with st.expander(t("projects.transfer"), icon=":material/swap_horiz:"):
        heir = st.selectbox(t("projects.transfer_to"), [*members, *invitable], key="projects_heir")
        sure = st.checkbox(t("projects.transfer_confirm"), key="projects_transfer_ok")
        if st.button(t("projects.transfer_go"), key="projects_transfer", disabled=not sure):
            attempt(
                lambda: projects.transfer(rt, actor, project.id, str(heir)),
                t("projects.transferred", user=heir),
            )


def settings_panel(rt: Runtime, actor: Actor, project: Project) -> None:
    """Export for every member; rename, describe, archive and delete for the owner or an admin."""
    if st.button(t("projects.export"), key="projects_export_prepare", icon=":material/download:"):
        try:
            st.session_state["projects_export"] = bundle.export_zip(rt, actor, project.id)
        except PetcareError as exc:
            show_error(exc)
    prepared = st.session_state.get("projects_export")
    if prepared:
        st.download_button(
            t("projects.download", name=plain(prepared[0])),
            prepared[1],
            file_name=prepared[0],
            mime="application/zip",
            key="projects_download",
        )
    if not (project.my_role == "owner" or actor.at_least("admin")):
        st.caption(t("projects.owner_only"))
        return
    with st.form("projects_edit"):
        name = st.text_input(t("projects.name"), value=project.name, key="projects_edit_name")
        desc = st.text_area(
            t("projects.description"), value=project.description, key="projects_edit_desc"
        )
        if st.form_submit_button(t("projects.save")):

            def change() -> None:
                if name.strip() != project.name:
                    projects.rename(rt, actor, project.id, name)
                if desc != project.description:
                    projects.describe(rt, actor, project.id, desc)

            attempt(change, t("projects.saved"))
    archived = project.status == "archived"
    label = t("projects.unarchive") if archived else t("projects.archive")
    if st.button(label, key="projects_archive"):
        attempt(lambda: projects.archive(rt, actor, project.id, not archived))
    if archived:
        sure = st.checkbox(
            t("projects.delete_confirm", name=plain(project.name)), key="projects_del_ok"
        )
        if st.button(
            t("projects.delete"), key="projects_delete", type="primary", disabled=not sure
        ):
            st.session_state.pop(PICK, None)
            attempt(lambda: projects.delete(rt, actor, project.id), t("projects.deleted"))

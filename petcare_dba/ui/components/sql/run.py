"""Running what the SQL editor asked for: worker job, Cancel, confirmation dialog, outcome.

`start` launches a `Job` for a `Request` (run through the engine or the open explicit
transaction, EXPLAIN, EXPLAIN ANALYZE, export to a temp file). `progress` shows a running job
with elapsed time, export progress and a Cancel button, polling in a fragment; when the job is
done `collect` stores the outcome in `st.session_state["ed_outcome"]`, or a pending confirmation
in `ed_confirm` when the engine answered NeedsConfirmation. The confirmation is driven from
session state (`ed_confirm_answer` = "yes" / "no"), which the dialog's buttons set, so tests can
answer it too; "no" is recorded with `engine.decline`.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import replace
from typing import Any

import streamlit as st

from petcare_dba.errors import NeedsConfirmation, PetcareError
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.sql import CancelHandle, engine, explain, export
from petcare_dba.ui import state
from petcare_dba.ui.components.errors import said
from petcare_dba.ui.components.format import decimal
from petcare_dba.ui.components.sql.editor import Request
from petcare_dba.ui.components.sql.jobs import Job
from petcare_dba.ui.components.text import plain, plain_all

t = state.t


def _work(rt: Runtime, actor: Actor, connection: str, req: Request, job_box: dict[str, Any]):  # type: ignore[no-untyped-def]
    ss = st.session_state
    tx = ss.get("ed_tx")
    mode = str(ss.get("ed_mode", "transaction"))

    def work(handle: CancelHandle) -> Any:
        if req.kind == "run" and tx is not None:
            return tx.run(req.sql, confirmed=req.confirmed, max_rows=req.max_rows, handle=handle)
        if req.kind == "run":
            return engine.run(
                rt,
                actor,
                connection,
                req.sql,
                mode=mode,
                confirmed=req.confirmed,
                max_rows=req.max_rows,
                handle=handle,
            )
        if req.kind in ("explain", "analyze"):
            return explain.explain(
                rt,
                actor,
                connection,
                req.sql,
                analyze=req.kind == "analyze",
                confirmed=req.confirmed,
                handle=handle,
            )
        path = job_box["path"]
        with open(path, "wb") as out:
            return export.export(
                rt,
                actor,
                connection,
                req.sql,
                out,
                fmt=req.fmt,
                progress=lambda r, b: job_box.update(rows=r, bytes=b),
                handle=handle,
            )

    return work


def start(rt: Runtime, actor: Actor, connection: str, req: Request) -> None:
    """Start `req` in a worker thread (refused while one runs or a transaction has ended)."""
    ss = st.session_state
    if (job := ss.get("ed_job")) is not None and not job.done:
        st.warning(t("editor.busy"))
        return
    tx = ss.get("ed_tx")
    if req.kind != "run" and tx is not None:
        st.warning(t("editor.tx_only_run"))
        return
    if tx is not None and not tx.is_open:
        st.warning(t("editor.tx_ended_first"))
        return
    box: dict[str, Any] = {"rows": 0, "bytes": 0}
    if req.kind == "export":
        clear_export()
        fd, path = tempfile.mkstemp(
            prefix="petcare-export-", suffix=f".{export.EXTENSIONS.get(req.fmt, 'bin')}"
        )
        os.close(fd)
        box["path"] = path
    ss["ed_outcome"] = None
    job = Job(_work(rt, actor, connection, req, box), label=req.kind)
    job.request = req  # type: ignore[attr-defined]
    job.box = box  # type: ignore[attr-defined]
    ss["ed_job"] = job


def clear_export() -> None:
    """Delete the previous export's temp file."""
    old = st.session_state.pop("ed_export_path", None)
    if old:
        with contextlib.suppress(OSError):
            os.unlink(old)


@st.fragment(run_every=0.5)
def progress() -> None:
    """While a job runs: elapsed time, progress and Cancel; rerun the page when it ends."""
    job = st.session_state.get("ed_job")
    if job is None:
        return
    if job.done:
        st.rerun(scope="app")
    box = job.box
    if job.request.kind == "export":
        label = t("editor.exporting", rows=box["rows"], bytes=box["bytes"])
        st.progress(
            min(
                1.0,
                box["rows"] / max(1, export.max_rows_for(state.runtime(), state.require_actor())),
            ),
            text=label,
        )
    else:
        st.info(
            t("editor.running", seconds=decimal(job.elapsed_s, state.language())),
            icon=":material/hourglass_top:",
        )
    if st.button(
        t("editor.cancel"), key="ed_cancel", icon=":material/stop:", disabled=job.cancel_requested
    ):
        job.cancel()
        st.toast(t("editor.cancel_sent"))


def collect(rt: Runtime, actor: Actor, connection: str) -> None:
    """Turn a finished job into an outcome or a pending confirmation."""
    ss = st.session_state
    job = ss.get("ed_job")
    if job is None or not job.done:
        return
    ss["ed_job"] = None
    req: Request = job.request
    if isinstance(job.error, NeedsConfirmation):
        ss["ed_confirm"] = {
            "request": req,
            "objects": list(job.error.objects),
            "reason": job.error.reason,
            "message": job.error.message,
        }
        return
    ss["ed_outcome"] = {
        "request": req,
        "result": job.result,
        "error": job.error,
        "cancelled": job.cancel_requested,
    }
    if req.kind == "export":
        if job.error is None:
            ss["ed_export_path"] = job.box["path"]
        else:
            with contextlib.suppress(OSError):
                os.unlink(job.box["path"])


def answer_confirmation(rt: Runtime, actor: Actor, connection: str) -> None:
    """Act on `ed_confirm_answer`: run confirmed, or record the decline."""
    ss = st.session_state
    answer = ss.pop("ed_confirm_answer", None)
    pending = ss.get("ed_confirm")
    if answer is None or pending is None:
        return
    ss["ed_confirm"] = None
    req: Request = pending["request"]
    if answer == "yes":
        start(rt, actor, connection, replace(req, confirmed=True))
        return
    try:
        engine.decline(rt, actor, connection, req.sql, pending["reason"])
    except PetcareError as exc:
        ss["ed_outcome"] = {"request": req, "result": None, "error": exc, "cancelled": False}
        return
    ss["ed_outcome"] = {
        "request": req,
        "result": None,
        "error": None,
        "cancelled": False,
        "declined": True,
    }


def _dialog_body(pending: dict[str, Any]) -> None:
    reason = said(pending["reason"] or pending["message"])  # the classifier's, in the language
    st.warning(plain(reason), icon=":material/warning:")
    objects = pending["objects"] or [t("editor.confirm_unknown_objects")]
    st.markdown(t("editor.confirm_objects") + " " + plain_all(objects))
    st.code(pending["request"].sql, language="sql")
    yes, no = st.columns(2)
    if yes.button(t("editor.confirm_yes"), key="ed_confirm_yes", type="primary"):
        st.session_state["ed_confirm_answer"] = "yes"
        st.rerun()
    if no.button(t("editor.confirm_no"), key="ed_confirm_no"):
        st.session_state["ed_confirm_answer"] = "no"
        st.rerun()


def confirmation() -> None:
    """Open the confirmation dialog while one is pending."""
    pending = st.session_state.get("ed_confirm")
    if pending:
        # Built per call so the title follows the session's language; the user must answer.
        st.dialog(t("editor.confirm_title"), width="large", dismissible=False)(_dialog_body)(
            pending
        )

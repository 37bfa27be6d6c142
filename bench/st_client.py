"""A small Streamlit client: the browser's side of `/_stcore/stream`, without a browser.

It does what the Streamlit frontend does for one tab, over the same websocket and protobufs
(`streamlit.proto.BackMsg_pb2` / `ForwardMsg_pb2`): it loads `/` first (so the load balancer's
affinity cookie and the app's pre-auth cookie arrive, as they do for a browser), opens the stream
with those cookies, sends `rerun_script` BackMsgs carrying widget states, and reads ForwardMsgs
until the run finishes. Widget ids are read from the run's deltas: a keyed widget's id ends with
`-<key>`, so `widget("ed_run")` finds the button whatever hash Streamlit put in front. A fragment
that asked for `run_every` (an `auto_rerun` message) is rerun by `poll()`, as the frontend's timer
would. The sign-in's cookie handoff is done as the hidden frame would: the iframe's
`#session=<code>` is POSTed to `/auth/session` while the script still waits for it.

Every ForwardMsg's bytes are kept per run (`Run.raw`), so a caller can check that a result holds
only its own marker. Used by `bench/scale.py` and tests/scale.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import time
import uuid
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import unquote, urlsplit

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState
from websockets.sync.client import ClientConnection, connect

DONE = {
    ForwardMsg.FINISHED_SUCCESSFULLY,
    ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY,
    ForwardMsg.FINISHED_WITH_COMPILE_ERROR,
}


class StreamClosed(Exception):
    """The websocket closed (the instance died or the proxy cut it)."""


@dataclass
class Run:
    """What one action brought back: the elements by delta path and every message's bytes."""

    elements: dict[tuple[int, ...], Any] = field(default_factory=dict)
    raw: list[bytes] = field(default_factory=list)
    seconds: float = 0.0

    def texts(self) -> str:
        """Every markdown/alert/text body of the page, joined (for assertions and errors)."""
        out = []
        for el in self.elements.values():
            kind = el.WhichOneof("type")
            if kind in ("markdown", "text", "alert", "exception", "heading"):
                out.append(str(getattr(el, kind)))
        return "\n".join(out)

    def errors(self) -> list[str]:
        """Error boxes and exceptions the page shows."""
        out = []
        for el in self.elements.values():
            kind = el.WhichOneof("type")
            if kind == "exception":
                out.append(el.exception.message)
            elif kind == "alert" and el.alert.format == el.alert.ERROR:
                out.append(el.alert.body)
        return out

    def has(self, needle: bytes) -> bool:
        return any(needle in chunk for chunk in self.raw)


class StClient:
    """One browser tab of the app at `base` (e.g. http://127.0.0.1:8080)."""

    def __init__(self, base: str, cookies: dict[str, str] | None = None, timeout: float = 60):
        self.base = base.rstrip("/")
        parts = urlsplit(self.base)
        self.host = parts.netloc
        self.path = parts.path
        self.cookies: dict[str, str] = dict(cookies or {})
        self.timeout = timeout
        self.ws: ClientConnection | None = None
        self.states: dict[str, WidgetState] = {}
        self.pages: dict[str, str] = {}  # url_pathname -> page_script_hash
        self.page_hash = ""
        self.auto: dict[str, float] = {}  # fragment id -> interval (run_every)
        self.last = Run()

    # -- HTTP ----------------------------------------------------------------------------
    def _http(self, method: str, path: str, body: str = "", headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
        conn = http.client.HTTPConnection(self.host, timeout=self.timeout)
        try:
            hdrs = {"Cookie": self.cookie_header(), **(headers or {})}
            conn.request(method, self.path + path, body=body.encode() or None, headers=hdrs)
            resp = conn.getresponse()
            data = resp.read()
            for value in resp.headers.get_all("Set-Cookie") or []:
                jar: SimpleCookie = SimpleCookie()
                jar.load(value)
                for name, morsel in jar.items():
                    if morsel["max-age"] == "0" or morsel["expires"].startswith("Thu, 01 Jan 1970"):
                        self.cookies.pop(name, None)
                    else:
                        self.cookies[name] = morsel.value
            return resp.status, data
        finally:
            conn.close()

    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    # -- the stream ----------------------------------------------------------------------
    def open(self) -> Run:
        """Load the page (cookies), open the stream and run the app's first page."""
        self.close()
        status, _ = self._http("GET", "/")
        if status != 200:
            raise StreamClosed(f"GET / answered {status}")
        url = "ws://" + self.host + self.path + "/_stcore/stream"
        try:
            # Entered at once (websockets >= 17.1 warns about a connection used without `with`);
            # `close()` ends it.
            self.ws = connect(
                url,
                subprotocols=["streamlit"],  # type: ignore[list-item]
                additional_headers={"Cookie": self.cookie_header(), "Origin": self.base},
                open_timeout=self.timeout,
                max_size=64 * 1024 * 1024,
                compression=None,
                # A browser never drops a tab for a late pong; on a loaded machine the server's
                # event loop may answer a ping after the default 20 s.
                ping_interval=None,
            ).__enter__()
        except Exception as exc:
            raise StreamClosed(f"websocket: {exc}") from exc
        self.states.clear()
        self.auto.clear()
        self.page_hash = ""
        return self.rerun()

    def close(self) -> None:
        if self.ws is not None:
            with contextlib.suppress(Exception):  # a dead peer: nothing to close politely
                self.ws.close()
            self.ws = None

    def rerun(
        self,
        set_values: dict[str, Any] | None = None,
        *,
        click: str | None = None,
        page: str | None = None,
        fragment: str | None = None,
    ) -> Run:
        """Send one rerun (new widget values, a click, a page change) and read it to its end."""
        if self.ws is None:
            raise StreamClosed("not open")
        for key, value in (set_values or {}).items():
            self.states[self.widget(key)] = _state(self.widget(key), value)
        msg = BackMsg()
        cs = msg.rerun_script
        cs.query_string = ""
        if page is not None:
            self.page_hash = self.pages[page]
            cs.page_name = page
        cs.page_script_hash = self.page_hash
        if fragment:
            cs.fragment_id = fragment
            cs.is_auto_rerun = click is None
        cs.widget_states.widgets.extend(self.states.values())
        if click is not None:
            trigger = WidgetState(id=self.widget(click), trigger_value=True)
            cs.widget_states.widgets.append(trigger)
        started = time.perf_counter()
        try:
            self.ws.send(msg.SerializeToString())
        except Exception as exc:
            raise StreamClosed(str(exc)) from exc
        run = self._read(keep=self.last)
        run.seconds = time.perf_counter() - started
        self.last = run
        return run

    def _read(self, keep: Run) -> Run:
        assert self.ws is not None
        run = Run(elements=dict(keep.elements))
        deadline = time.monotonic() + self.timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("the run did not finish in time")
            try:
                data = self.ws.recv(timeout=left)
            except TimeoutError:
                raise
            except Exception as exc:
                raise StreamClosed(str(exc)) from exc
            assert isinstance(data, bytes)
            fm = ForwardMsg()
            fm.ParseFromString(data)
            kind = fm.WhichOneof("type")
            run.raw.append(data)
            if kind == "new_session" and not fm.metadata.run.fragment_ids:
                run.elements.clear()  # a full run redraws the page; a fragment run patches it
                self.auto.clear()
            elif kind == "navigation":
                self.pages = {p.url_pathname: p.page_script_hash for p in fm.navigation.app_pages}
                self.page_hash = fm.navigation.page_script_hash or self.page_hash
            elif kind == "auto_rerun":
                self.auto[fm.auto_rerun.fragment_id] = fm.auto_rerun.interval
            elif kind == "stop_auto_rerun":
                for fid in fm.stop_auto_rerun.fragment_ids or list(self.auto):
                    self.auto.pop(fid, None)
            elif kind == "delta" and fm.delta.WhichOneof("type") == "new_element":
                path = tuple(fm.metadata.delta_path)
                run.elements[path] = fm.delta.new_element
                self._on_element(fm.delta.new_element)
            elif kind == "script_finished" and fm.script_finished in DONE:
                return run

    def _on_element(self, el: Any) -> None:
        # The sign-in's hidden frame: POST its code now, the script waits for it (HANDOFF_WAIT_S).
        if el.WhichOneof("type") == "iframe" and "#session=" in el.iframe.src:
            code = unquote(el.iframe.src.split("#session=", 1)[1])
            self._http(
                "POST",
                "/auth/session",
                body="code=" + code,
                headers={
                    "Origin": self.base,
                    "Sec-Fetch-Site": "same-origin",
                    "Content-Type": "application/x-www-form-urlencoded",
                },
            )

    def poll(self, until: Any, limit_s: float = 60) -> Run:
        """Rerun the page's `run_every` fragment(s) until `until(run)` holds (a running job)."""
        deadline = time.monotonic() + limit_s
        run = self.last
        while not until(run):
            if time.monotonic() > deadline:
                raise TimeoutError("the page did not reach the expected state")
            if not self.auto:
                run = self.rerun()
                continue
            fid, interval = next(iter(self.auto.items()))
            time.sleep(interval)
            run = self.rerun(fragment=fid)
        return run

    # -- the page ------------------------------------------------------------------------
    def widget(self, key: str) -> str:
        """The id of the widget with user key `key` (or an id itself) in the last run."""
        if key.startswith("$$ID-") and key.count("-") >= 2:
            return key
        for el in self.last.elements.values():
            wid = _widget_id(el)
            if wid and (wid.endswith("-" + key) or wid == key):
                return wid
        raise KeyError(f"no widget {key!r} on the page")

    def find(self, kind: str, key: str | None = None) -> Any:
        """The first element of `kind` (whose widget id ends with `-key` when given)."""
        for el in self.last.elements.values():
            if el.WhichOneof("type") == kind:
                if key is None or (_widget_id(el) or "").endswith("-" + key):
                    return getattr(el, kind)
        return None

    def submit_form(self, values: dict[str, str]) -> Run:
        """Fill a form's text inputs by key and press its submit button."""
        submit = next(
            (
                el.button.id
                for el in self.last.elements.values()
                if el.WhichOneof("type") == "button" and el.button.is_form_submitter
            ),
            None,
        )
        if submit is None:
            raise KeyError("no form submit button on the page")
        return self.rerun(values, click=submit)

    def component_event(self, key: str, payload: dict[str, Any]) -> Run:
        """What a custom component sends back (e.g. the code editor's submit), with a new id."""
        return self.rerun({key: {"id": uuid.uuid4().hex, **payload}})


def _widget_id(el: Any) -> str | None:
    kind = el.WhichOneof("type")
    if kind is None:
        return None
    inner = getattr(el, kind)
    return getattr(inner, "id", None) or None


def _state(wid: str, value: Any) -> WidgetState:
    if isinstance(value, dict):
        return WidgetState(id=wid, json_value=json.dumps(value))
    if isinstance(value, bool):
        return WidgetState(id=wid, bool_value=value)
    if isinstance(value, int):
        return WidgetState(id=wid, int_value=value)
    return WidgetState(id=wid, string_value=str(value))

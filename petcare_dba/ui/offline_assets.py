"""The SQL editor's component files, served without their call to Google Fonts.

streamlit-code-editor's Ace themes (`streamlit_light`, `streamlit_dark`, the only ones it uses)
`@import` Source Code Pro from fonts.googleapis.com. Every editor load would tell Google the
user's address, and an air-gapped deployment would log a failed request in every browser. The
app serves those few files itself, with the import removed (the editor then uses the browser's
monospace font): an ASGI middleware answers exactly those paths (Streamlit reserves
`/component/` for its own routes), and every other component file is Streamlit's. The patched
bytes are made once, at server start, from the installed package.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

from starlette.middleware import Middleware
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from petcare_dba.ui import streamlit_config

COMPONENT = "code_editor.code_editor"  # declare_component's name: module, then "code_editor"
_IMPORT = re.compile(rb"@import url\('https://fonts\.googleapis\.com/[^')]*'\);?")


def _build_dir() -> Path | None:
    # Located, not imported: importing code_editor declares its component, and a declaration
    # outside a script run would leave the runtime's registry without it (404 for its files).
    spec = importlib.util.find_spec("code_editor")
    if spec is None or spec.origin is None:  # pragma: no cover - a dependency of the app
        return None
    return Path(spec.origin).parent / "frontend" / "build"


def patched_files() -> dict[str, bytes]:
    """The component's files that import an outside font, by path under its build directory,
    with the imports removed."""
    root = _build_dir()
    if root is None or not root.is_dir():
        return {}
    files: dict[str, bytes] = {}
    for path in sorted(root.rglob("*.js")):
        data = path.read_bytes()
        if b"fonts.googleapis.com" in data:
            files[path.relative_to(root).as_posix()] = _IMPORT.sub(b"", data)
    return files


class WithoutOutsideFonts:
    """ASGI middleware: GET of a patched file under `base` gets the patched bytes."""

    def __init__(self, app: ASGIApp, base: str = "") -> None:
        self.app = app
        prefix = f"{base}/component/{COMPONENT}/"
        self.files = {prefix + name: data for name, data in patched_files().items()}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        data = self.files.get(scope.get("path", "")) if scope["type"] == "http" else None
        if data is None or scope.get("method") not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        response = Response(
            data, media_type="application/javascript", headers={"Cache-Control": "public"}
        )
        await response(scope, receive, send)


def middleware() -> Middleware:
    """The app's middleware entry for `WithoutOutsideFonts` under the app's base path."""
    return Middleware(WithoutOutsideFonts, base=streamlit_config.base_path())

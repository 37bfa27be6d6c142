"""Tabs whose hidden bodies do not run: only the selected tab's reads happen (issue 19).

Plain `st.tabs` runs every tab's body on every rerun (the browser only hides the others), so a
page with five tabs pays five tabs' reads per visit. With `on_change="rerun"` and a key the tabs
track which one is open (`TabContainer.open`, Streamlit >= 1.50) and a tab click reruns the page,
so a page draws the open tab only. The chosen tab is kept across reruns by the widget and across
visits to other pages by its position in session state (a widget's own state is dropped when its
page is left, and a position survives a change of language, which changes the labels).
"""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from petcare_dba.ui.components.text import plain


def selected(labels: Sequence[str], key: str) -> tuple[int, DeltaGenerator]:
    """Draw the tabs; (the open tab's position, its container). Draw into that one only."""
    last, opening = f"{key}_at", f"{key}_opening"
    # The callers' labels are the app's own words, escaped all the same (the rendering rule):
    # the widget's state holds the label as drawn.
    shown = [plain(label) for label in labels]
    if st.session_state.get(key) not in shown or opening not in st.session_state:
        # A new visit (the widget's state went with the page left) or new labels (another
        # language): open where the user last was. Within a visit `default` must not change,
        # as it is part of the widget's identity: a new identity would forget the click.
        at = st.session_state.get(last, 0)
        st.session_state[opening] = at if isinstance(at, int) and 0 <= at < len(shown) else 0
    containers = st.tabs(
        shown, default=shown[st.session_state[opening]], key=key, on_change="rerun"
    )
    at = next((i for i, tab in enumerate(containers) if tab.open), st.session_state[opening])
    st.session_state[last] = at
    return at, containers[at]

"""The API tokens page: create shows the token once, the list never shows it, revoke stops it."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from streamlit.testing.v1 import AppTest

from petcare_dba.errors import AuthError
from petcare_dba.services import mcp
from petcare_dba.services.runtime import Runtime
from tests.fix_db import USER_PASSWORD
from tests.fix_ui import sign_in


@pytest.mark.slow  # four AppTest runs of the real app (4-7 s on the shared machine)
def test_the_tokens_page_creates_shows_once_lists_and_revokes(
    app: Callable[[], AppTest], rt: Runtime, make_user
) -> None:  # type: ignore[no-untyped-def]
    ana = make_user("ana", "analyst")
    at = sign_in(app(), "ana", USER_PASSWORD)
    at.switch_page("pages/tokens.py").run()
    assert not at.exception
    role = at.selectbox(key="token_role")
    assert role.options == ["viewer", "analyst"]  # never above the user's own role
    at.text_input(key="token_name").input("<b>agent</b>")
    role.select("viewer")
    at.button[0].click().run()
    assert not at.exception and not at.error
    secret = at.code[0].value
    who = mcp.tokens.authenticate(rt, secret)
    assert (who.actor.username, who.actor.role) == ("ana", "viewer")
    at.run()  # the next run shows the list, never the token again
    assert not at.code and secret not in str(at.dataframe[0].value.to_dict())
    listed = mcp.tokens.list_tokens(rt, ana)
    assert [t.name for t in listed] == ["<b>agent</b>"]
    at.button(key="token_revoke").click().run()  # the one active token
    assert not at.exception
    with pytest.raises(AuthError):
        mcp.tokens.authenticate(rt, secret)

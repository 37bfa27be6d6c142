"""Optional OpenID Connect sign-in (Streamlit's `st.login`) mapped onto existing app users.

Streamlit performs the OIDC flow and exposes the identity (`st.user`); this module maps it to an
app user: by `oidc_subject`, or, on the first sign-in, by an e-mail the provider marks verified,
which then binds the subject. The app user's role applies as usual. An identity that maps to no
enabled user gets nothing: no session and the same generic failure, recorded in the audit log
(reliability L7).
"""

from __future__ import annotations

from petcare_dba.db.metastore import MetaStore
from petcare_dba.errors import AuthError
from petcare_dba.services.security import audit, auth
from petcare_dba.settings import Settings


def login(
    store: MetaStore,
    settings: Settings,
    subject: str,
    email: str | None,
    *,
    email_verified: bool = False,
    issuer: str = "",
    client_addr: str | None = None,
) -> auth.SignIn:
    """A session for the app user an OIDC identity maps to; AuthError when there is none."""
    if not subject:
        raise AuthError(auth.GENERIC_FAILURE)
    with store.tx() as tx:
        row = tx.one(
            "auth_oidc_lookup",
            {"subject": subject, "email": email if email_verified else None},
        )
    if row is None:
        audit.record(
            store,
            None,
            "login.oidc",
            "refused",
            username=(email or subject)[:200],
            client_addr=client_addr,
            detail={"reason": "unknown identity", "issuer": issuer},
        )
        raise AuthError(auth.GENERIC_FAILURE)
    signed = auth.open_session(store, settings, row, client_addr=client_addr)
    if row["by_email"]:
        with store.tx(signed.actor.identity) as tx:
            tx.execute("user_bind_oidc", {"user_id": signed.actor.user_id, "subject": subject})
    audit.record(
        store,
        signed.actor,
        "login.oidc",
        "ok",
        detail={"issuer": issuer, "bound_by_email": bool(row["by_email"])},
    )
    return signed

"""Row level security of run-time settings (migration 0032): a signed-in user who is not an
admin reads and writes no override, even with SQL on the app's own role; the store itself
refuses a plaintext in the sealed column and a value with control characters."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from petcare_dba.errors import PetcareError
from petcare_dba.services import settings_admin
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime


def _count(meta_url: str) -> int:
    with psycopg.connect(meta_url) as conn:
        return int(conn.execute(b"SELECT count(*) FROM petcare.setting_overrides").fetchone()[0])


@pytest.mark.parametrize("role", ["viewer", "analyst", "dba"])
def test_a_non_admin_identity_cannot_read_or_write_overrides_with_sql(
    rt: Runtime, admin: Actor, make_user: Any, meta_url: str, role: str
) -> None:
    settings_admin.set_value(rt, admin, "ai_retries", "5")
    settings_admin.set_value(rt, admin, "gemini_api_key", "AIza-rls-secret")
    someone = make_user("someone", role)
    with rt.store.tx(someone.identity) as tx:
        assert tx.value("SELECT count(*) FROM petcare.setting_overrides") == 0
        assert tx.execute("UPDATE petcare.setting_overrides SET value_text = '20'") == 0
        assert tx.execute("DELETE FROM petcare.setting_overrides") == 0
    with pytest.raises(PetcareError), rt.store.tx(someone.identity) as tx:
        tx.execute(
            "INSERT INTO petcare.setting_overrides (name, value_text, updated_by) "
            "VALUES ('ai_provider', 'gemini', %(me)s)",
            {"me": someone.user_id},
        )
    assert _count(meta_url) == 2
    assert rt.settings.ai_retries == 5


def test_an_admin_cannot_write_a_row_in_another_users_name(
    rt: Runtime, admin: Actor, make_user: Any
) -> None:
    other = make_user("other", "dba")
    with pytest.raises(PetcareError), rt.store.tx(admin.identity) as tx:
        tx.execute(
            "INSERT INTO petcare.setting_overrides (name, value_text, updated_by) "
            "VALUES ('ai_retries', '4', %(other)s)",
            {"other": other.user_id},
        )


@pytest.mark.parametrize(
    ("value_text", "secret_enc", "key_version"),
    [
        (None, b"AIza-plaintext-key-that-is-long-enough-xx", 1),  # not the envelope
        ("5", b"PC1" + b"\x00" * 40, 1),  # both at once
        (None, None, None),  # neither
        ("line\nbreak", None, None),  # control characters
        ("x" * 4097, None, None),  # oversized
    ],
)
def test_the_store_refuses_rows_the_app_would_never_write(
    rt: Runtime, admin: Actor, meta_url: str, value_text: Any, secret_enc: Any, key_version: Any
) -> None:
    with pytest.raises(PetcareError), rt.store.tx(admin.identity) as tx:
        tx.execute(
            "INSERT INTO petcare.setting_overrides "
            "(name, value_text, secret_enc, key_version, updated_by) "
            "VALUES ('gemini_api_key', %(v)s, %(s)s, %(k)s, %(me)s)",
            {"v": value_text, "s": secret_enc, "k": key_version, "me": admin.user_id},
        )
    assert _count(meta_url) == 0

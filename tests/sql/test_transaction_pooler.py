"""The metadata store through a transaction pooler: migrate, sign in, write and verify audit."""

from __future__ import annotations

from pathlib import Path

from petcare_dba import settings as settings_mod
from petcare_dba.db import migrations
from petcare_dba.services import crypto
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import audit, auth, users
from tests.fix_db import ADMIN_PASSWORD, RUNTIME_PASSWORD, PgServer, with_db


def test_everything_works_through_pgbouncer_transaction_mode(
    pg: PgServer, pooler: str, tmp_path: Path
) -> None:
    name = pg.create_database()
    try:
        url = with_db(pooler, name)
        assert migrations.migrate(url, RUNTIME_PASSWORD)  # applied through the pooler
        assert migrations.migrate(url, RUNTIME_PASSWORD) == []
        settings = settings_mod.load(
            env={
                "PETCARE_DATABASE_URL": url,
                "PETCARE_RUNTIME_PASSWORD": RUNTIME_PASSWORD,
                "PETCARE_SECRET_KEY": crypto.generate_key(),
                "PETCARE_DATA_DIR": str(tmp_path),
                "PETCARE_ADMIN_PASSWORD": ADMIN_PASSWORD,
                "PETCARE_POOL_MAX_SIZE": "3",
            }
        )
        rt = Runtime.start(settings)
        try:
            users.ensure_first_admin(rt)
            for _ in range(5):  # several transactions over few server connections
                signed = auth.login(rt.store, settings, "admin", ADMIN_PASSWORD)
                assert auth.resolve(rt.store, settings, signed.token) is not None
            admin = users.actor_for(rt, None)
            assert audit.verify(rt.store, admin).ok
            assert len(audit.recent(rt.store, admin, action="login")) == 5
        finally:
            rt.close()
    finally:
        pg.drop_database(name)

"""Backups in S3-compatible object storage (issue 18): streamed up with a sha256, catalogued,
restored by another instance with another data directory, and refused when tampered, missing,
oversized, or when the bucket or the credentials are wrong."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from petcare_dba.errors import ConfigError, NotFound
from petcare_dba.services import backups
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import users
from petcare_dba.settings import Settings
from petcare_dba.ui import i18n
from tests.fix_explorer import Target, tgt  # noqa: F401
from tests.fix_s3 import S3, s3, s3_endpoint  # noqa: F401


def _runtime(base: Settings, data_dir: Path, **overrides: object) -> Runtime:
    return Runtime.start(base.with_overrides(data_dir=str(data_dir), **overrides))


@pytest.fixture
def two(
    test_settings: Settings,
    tmp_path: Path,
    s3: S3,  # noqa: F811
    rt: Runtime,
    admin: Actor,
) -> Iterator[tuple[Runtime, Runtime]]:
    """Instances A and B: one metadata store, one bucket, different data directories."""
    a = _runtime(test_settings, tmp_path / "a", **s3.settings())
    b = _runtime(test_settings, tmp_path / "b", **s3.settings())
    yield a, b
    a.close()
    b.close()


def _admin(runtime: Runtime) -> Actor:
    return users.actor_for(runtime, None)


def _keys(s3: S3) -> list[str]:  # noqa: F811
    got = s3.client().list_objects_v2(Bucket=s3.bucket).get("Contents", [])
    return sorted(o["Key"] for o in got)


def test_a_backup_made_on_instance_a_in_s3_verifies_and_restores_on_instance_b(
    two: tuple[Runtime, Runtime],
    tgt: Target,  # noqa: F811
    s3: S3,  # noqa: F811
) -> None:
    a, b = two
    entry = backups.backup(a, _admin(a), "tgt", "public", "all_types")
    assert entry.storage == f"s3://{s3.bucket}" and entry.objects
    assert set(entry.objects) == {"data.copy", "manifest.json", "table.sql"}
    assert _keys(s3) == sorted(o["key"] for o in entry.objects.values())
    assert all(k.startswith(f"team/backups/tgt/{entry.id}-") for k in _keys(s3))
    # Nothing of it stays on A's disk: the bucket is the store.
    assert not (backups.store_dir(a.settings) / str(entry.path)).exists()

    listed = backups.list_backups(b, _admin(b))
    assert [(e.id, e.storage) for e in listed] == [(entry.id, entry.storage)]
    assert backups.verify(b, _admin(b), entry.id).ok
    result = backups.restore(b, _admin(b), entry.id)
    assert result.rows == 41 and result.verified
    assert tgt.execute(f"SELECT count(*) FROM {result.table}") == [(41,)]
    # What B streamed back to check is gone once it is done.
    fetched = backups.store_dir(b.settings) / backups.storage.FETCHED
    assert not fetched.exists() or not any(fetched.iterdir())


def test_a_tampered_a_missing_and_an_oversized_object_are_refused_with_clear_errors(
    two: tuple[Runtime, Runtime],
    tgt: Target,  # noqa: F811
    s3: S3,  # noqa: F811
) -> None:
    a, b = two
    entry = backups.backup(a, _admin(a), "tgt", "public", "all_types")
    assert entry.objects is not None
    client = s3.client()
    data_key = entry.objects["data.copy"]["key"]
    original = client.get_object(Bucket=s3.bucket, Key=data_key)["Body"].read()
    body = bytearray(original)
    body[50] ^= 0xFF
    client.put_object(Bucket=s3.bucket, Key=data_key, Body=bytes(body))
    bad = backups.verify(b, _admin(b), entry.id)
    assert not bad.ok and "sha256 mismatch" in bad.problems[0]
    with pytest.raises(backups.files.Tampered, match="checksum"):
        backups.restore(b, _admin(b), entry.id)

    client.put_object(Bucket=s3.bucket, Key=data_key, Body=original)
    assert backups.verify(b, _admin(b), entry.id).ok
    manifest_key = entry.objects["manifest.json"]["key"]
    client.put_object(Bucket=s3.bucket, Key=manifest_key, Body=b"{" + b" " * (3 << 20) + b"}")
    bad = backups.verify(b, _admin(b), entry.id)
    assert not bad.ok and "larger than catalogued" in " ".join(bad.problems)

    client.delete_object(Bucket=s3.bucket, Key=manifest_key)
    with pytest.raises(NotFound) as info:
        backups.restore(b, _admin(b), entry.id)
    assert info.value.message == (
        f"the backup's file manifest.json is missing from storage s3://{s3.bucket}"
    )
    said = i18n.said("pt-BR", info.value.message)  # the page says it in the user's language
    assert said == f"o arquivo manifest.json do backup não está no armazenamento s3://{s3.bucket}"
    fetched = backups.store_dir(b.settings) / backups.storage.FETCHED
    assert not fetched.exists() or not any(fetched.iterdir())


def test_a_table_name_with_slashes_dots_and_unicode_makes_plain_keys(
    two: tuple[Runtime, Runtime],
    tgt: Target,  # noqa: F811
    s3: S3,  # noqa: F811
) -> None:
    a, b = two
    tgt.execute('CREATE TABLE public."../../etc/påss wd" (id int)')
    tgt.execute('INSERT INTO public."../../etc/påss wd" VALUES (1), (2)')
    entry = backups.backup(a, _admin(a), "tgt", "public", "../../etc/påss wd")
    for key in _keys(s3):
        parts = key.split("/")
        assert key.isascii() and ".." not in parts and "." not in parts and "" not in parts
        assert parts[:3] == ["team", "backups", "tgt"]
    result = backups.restore(b, _admin(b), entry.id, into="restored_pass")
    assert result.rows == 2


def test_a_missing_bucket_and_wrong_credentials_fail_the_backup_clearly(
    test_settings: Settings,
    tmp_path: Path,
    tgt: Target,  # noqa: F811
    s3: S3,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    nobucket = _runtime(test_settings, tmp_path / "n", **s3.settings(backup_s3_bucket="pc-none"))
    try:
        with pytest.raises(ConfigError, match="bucket 'pc-none' does not exist"):
            backups.backup(nobucket, _admin(nobucket), "tgt", "public", "all_types")
        failed = backups.list_backups(nobucket, _admin(nobucket))[0]
        assert failed.status == "failed" and "does not exist" in str(failed.error)
        # Stored as English, read back as the message it was: said in pt-BR on the page.
        assert getattr(failed.error, "key", "") == "msg.backups.s3_no_bucket"
        assert "não existe no armazenamento de backups" in i18n.said("pt-BR", failed.error)
    finally:
        nobucket.close()
    # moto checks signatures once its authorization is on: an unknown key is refused.
    from moto import settings as moto_settings

    monkeypatch.setattr(moto_settings, "INITIAL_NO_AUTH_ACTION_COUNT", 0)
    wrong = _runtime(test_settings, tmp_path / "w", **s3.settings(backup_s3_access_key_id="bad"))
    try:
        with pytest.raises(ConfigError, match="refused the credentials"):
            backups.backup(wrong, _admin(wrong), "tgt", "public", "all_types")
    finally:
        wrong.close()


def test_retention_removes_the_objects_from_the_bucket(
    two: tuple[Runtime, Runtime],
    tgt: Target,  # noqa: F811
    s3: S3,  # noqa: F811
) -> None:
    a, b = two
    entry = backups.backup(a, _admin(a), "tgt", "public", "all_types")
    assert _keys(s3)
    tgt_meta = b.settings.database_url
    import psycopg

    with psycopg.connect(tgt_meta, autocommit=True) as conn:
        conn.execute(
            "UPDATE petcare.table_backups SET created_at = now() - interval '40 days' "
            "WHERE id = %s",
            (entry.id,),
        )
    assert backups.prune(b, _admin(b)) == 1
    assert _keys(s3) == []
    assert backups.get(b, _admin(b), entry.id).status == "deleted"

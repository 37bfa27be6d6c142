"""Issue 19, both languages everywhere: errors that used to be raised as plain English are said in
pt-BR. Each site is reached through its own service function (the metadata store, a target
database and a stored credential are real): the error keeps its English for the CLI, carries its
catalogue key, and `said("pt-BR", ...)` gives other words, none of the template's English ones.
Two sites are defences no input reaches (EXPLAIN without a plan, a what-if wrapper that is not
the checked statement): their templates are checked as said. A scheduled backup that did not end
ok is reached with the backups service standing in (a real backup raises rather than returning
a failed entry). The project's run history shows each run's outcome in pt-BR.
"""

from __future__ import annotations

import io
import re
import string
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from streamlit.testing.v1 import AppTest

from petcare_dba import errors
from petcare_dba.errors import PetcareError
from petcare_dba.messages import MESSAGES, Text, say
from petcare_dba.services import connections, crypto, intake, projects
from petcare_dba.services.actor import Actor
from petcare_dba.services.advisor import checks, indexes
from petcare_dba.services.backups import storage
from petcare_dba.services.projects import runs as project_runs
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import audit_export, handoff, keys
from petcare_dba.services.sql import engine, explain, verdict
from petcare_dba.ui import i18n
from tests.fix_db import PgServer
from tests.fix_engine import Target, target

__all__ = ["target"]
PT = "pt-BR"
_WORD = re.compile(r"[^\W\d_]{4,}")  # words of four letters or more (not `s3`, `of`, `ok`)


def _literal(template: str) -> str:
    return " ".join(lit for lit, _, _, _ in string.Formatter().parse(template))


def _english_words(key: str) -> set[str]:
    """Words of the English template that its pt-BR text does not use too (names such as
    PETCARE_SECRET_KEY or backup_storage read the same in both)."""
    english = set(_WORD.findall(_literal(MESSAGES[key])))
    return english - set(_WORD.findall(_literal(i18n.catalogue(PT)[key])))


def _said_in_pt_br(text: object, key: str) -> str:
    """`text` is the message `key`; said in pt-BR it differs and holds none of its English."""
    assert isinstance(text, Text) and text.key == key, (text, key)
    assert key in i18n.catalogue(PT), f"{key} has no pt-BR text"
    said = i18n.said(PT, text)
    assert said != str(text), said
    left = {w for w in _english_words(key) if re.search(rf"\b{w}\b", said)}
    assert left == set(), (said, left)
    return said


def _check(exc: PetcareError, key: str, english: str, hint: str | None = None) -> str:
    """The error keeps its English (CLI, logs, audit) and is said in pt-BR; so is its hint."""
    assert str(exc) == english
    said = _said_in_pt_br(exc.message, key)
    if hint is not None:
        _said_in_pt_br(exc.hint, hint)
    return said


def test_sql_sites_explain_classify_and_run_modes(
    rt: Runtime, admin: Actor, target: Target
) -> None:
    # A plan pasted to compare that is not one (the EXPLAIN page's "compare" box).
    with pytest.raises(errors.ValidationError) as caught:
        explain.parse_plan({"Query": "SELECT 1"})
    said = _check(caught.value, "msg.sql.explain.not_plan", "not an EXPLAIN (FORMAT JSON) plan")
    assert said == "isto não é um plano de EXPLAIN (FORMAT JSON)"
    # Text with no statement in it, classified on a stored connection.
    with pytest.raises(errors.ValidationError) as caught:
        verdict.verdict(rt, admin, target.name, "  -- only a comment\n")
    said = _check(
        caught.value, "msg.sql.no_statement_to_classify", "there is no SQL statement to classify"
    )
    assert said == "não há instrução SQL para classificar"
    # The engine's modes.
    with pytest.raises(errors.ValidationError) as caught:
        engine.run(rt, admin, target.name, "SELECT 1", mode="sometimes")
    english = "mode must be one of transaction, statements, not 'sometimes'"
    said = _check(caught.value, "msg.sql.mode", english)
    assert said == "o modo deve ser um de transaction, statements, não 'sometimes'"
    with pytest.raises(errors.ValidationError) as caught:
        engine.run(rt, admin, target.name, "SELECT 1", mode="statements", rollback=True)
    _check(caught.value, "msg.sql.rollback_mode", "a rolled-back run needs mode='transaction'")
    # A defence no input reaches: EXPLAIN always returns a plan.
    assert i18n.said(PT, say("msg.sql.explain.no_plan")) == "o EXPLAIN não devolveu nenhum plano"
    _said_in_pt_br(say("msg.sql.explain.no_plan"), "msg.sql.explain.no_plan")


def test_intake_sites_unreadable_file_and_invalid_utf8(rt: Runtime, tmp_path: Path) -> None:
    missing = tmp_path / "missing.sql"
    with pytest.raises(errors.ValidationError) as caught:
        intake.read_text_file(missing, rt.settings)
    assert str(caught.value).startswith(f"cannot read {missing}: ")
    said = _said_in_pt_br(caught.value.message, "msg.sql.cannot_read")
    assert said.startswith(f"não foi possível ler {missing}: ")  # the OS's words follow
    latin1 = tmp_path / "latin1.sql"
    latin1.write_bytes("SELECT 'café'".encode("latin-1"))
    with pytest.raises(errors.ValidationError) as caught:
        intake.read_text_file(latin1, rt.settings)
    english = f"SQL file {latin1} is not valid UTF-8 (byte 0xe9 at offset 11)"
    said = _check(caught.value, "msg.sql.not_utf8", english, hint="msg.sql.not_utf8.hint")
    assert said == f"o arquivo SQL {latin1} não é UTF-8 válido (byte 0xe9 na posição 11)"
    with pytest.raises(errors.ValidationError) as caught:
        intake.read_stream(io.BytesIO(b"SELECT 1 \xff"), rt.settings)
    english = "standard input is not valid UTF-8 (byte 0xff at offset 9)"
    said = _check(caught.value, "msg.sql.not_utf8", english)
    assert said == "a entrada padrão não é UTF-8 válido (byte 0xff na posição 9)"


def test_advisor_sites_what_if_and_thresholds() -> None:
    with pytest.raises(errors.ValidationError) as caught:
        indexes.prepared_text("SELECT 1; SELECT 2")
    _check(caught.value, "msg.advisor.whatif_one", "a what-if plans exactly one statement")
    with pytest.raises(errors.ValidationError) as caught:
        indexes.prepared_text("SELEC 1 FROM")
    _check(caught.value, "msg.advisor.whatif_unparsed", "the statement does not parse")
    # A defence no input reaches: the wrapper is parsed again and compared.
    _said_in_pt_br(say("msg.advisor.whatif_wrapper"), "msg.advisor.whatif_wrapper")
    with pytest.raises(errors.ConfigError) as caught:
        checks.thresholds(overrides={"long_query_s": 1})
    assert str(caught.value) == "'long_query_s' is not an advisor threshold"
    assert caught.value.hint is not None and caught.value.hint.startswith("one of: ")
    said = _check(
        caught.value,
        "msg.advisor.not_threshold",
        "'long_query_s' is not an advisor threshold",
        hint="msg.advisor.not_threshold.hint",
    )
    assert said == "'long_query_s' não é um limite das Recomendações"


def test_backup_storage_sites(rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    local = rt.settings
    s3 = local.with_overrides(backup_storage="s3", backup_s3_bucket="shared")
    with pytest.raises(errors.ConfigError) as caught:
        storage.for_entry(local, "s3://shared")
    english = "the backup's files are in s3://shared, but this instance's backup_storage is local"
    _check(
        caught.value, "msg.backups.storage_local", english, hint="msg.backups.storage_local.hint"
    )
    with pytest.raises(errors.ConfigError) as caught:
        storage.for_entry(s3, "s3://elsewhere")
    english = "the backup's files are in s3://elsewhere, this instance's bucket is s3://shared"
    said = _check(caught.value, "msg.backups.storage_bucket", english)
    assert said == (
        "os arquivos do backup estão em s3://elsewhere; o bucket desta instância é s3://shared"
    )
    with pytest.raises(errors.ConfigError) as caught:
        storage.configured(local.with_overrides(backup_storage="s3", backup_s3_bucket=" "))
    _check(
        caught.value, "msg.backups.no_bucket", "backup_storage is s3 but backup_s3_bucket is empty"
    )
    monkeypatch.setattr(storage, "boto3", None)  # an install without the s3 extra
    with pytest.raises(errors.ConfigError) as caught:
        storage.configured(s3)
    english = "backup_storage is s3 but boto3 is not installed"
    _check(caught.value, "msg.backups.no_boto3", english, hint="msg.backups.no_boto3.hint")


@pytest.fixture
def stored(rt: Runtime, admin: Actor, pg: PgServer, meta_url: str) -> Iterator[psycopg.Connection]:
    """Connection `c1` stored sealed, and the metadata store as its superuser sees it."""
    connections.add(rt, admin, "c1", pg.admin_url())
    with psycopg.connect(meta_url, autocommit=True) as conn:
        yield conn


def _sealed(conn: psycopg.Connection, blob: bytes) -> None:
    conn.execute("UPDATE petcare.connections SET secret_enc = %s WHERE name = 'c1'", (blob,))


def test_stored_credential_sites(rt: Runtime, admin: Actor, stored: psycopg.Connection) -> None:
    row = stored.execute("SELECT secret_enc FROM petcare.connections WHERE name = 'c1'").fetchone()
    assert row is not None
    blob = bytes(row[0])
    reenter = "msg.crypto.reenter.hint"
    flipped = bytearray(blob)
    flipped[-5] ^= 0x01
    _sealed(stored, bytes(flipped))
    with pytest.raises(errors.CryptoError) as caught:
        connections.resolve_url(rt, admin, "c1")
    english = (
        "the stored credential failed its integrity check (tampered or sealed for another record)"
    )
    _check(caught.value, "msg.crypto.integrity", english, hint=reenter)
    _sealed(stored, b"postgresql://u:p@h/db")
    with pytest.raises(errors.CryptoError) as caught:
        connections.resolve_url(rt, admin, "c1")
    english = "the stored credential is not encrypted in a known format"
    _check(caught.value, "msg.crypto.format", english, hint=reenter)
    _sealed(stored, crypto.MAGIC + (7).to_bytes(4, "big") + blob[7:])
    with pytest.raises(errors.CryptoError) as caught:
        connections.resolve_url(rt, admin, "c1")
    english = "the stored credential uses unknown key version 7"
    said = _check(caught.value, "msg.crypto.unknown_version", english, hint=reenter)
    assert said == "a credencial guardada usa a versão de chave desconhecida 7"
    # The data keys as the store keeps them, loaded under another secret key or tampered.
    wrapped = rt.keyring.wrap(1)
    other = crypto.Keyring(crypto.parse_key(crypto.generate_key(), "other"))
    with pytest.raises(errors.CryptoError) as caught:
        other.load([wrapped])
    english = "key version 1 was wrapped by a different secret key"
    _check(caught.value, "msg.crypto.other_key", english, hint="msg.crypto.other_key.hint")
    tampered = crypto.WrappedKey(1, wrapped.wrapped_dek[:-1] + b"\x00", wrapped.kek_id)
    with pytest.raises(errors.CryptoError) as caught:
        crypto.Keyring(rt.keyring.kek).load([tampered])
    _check(caught.value, "msg.crypto.unwrap", "key version 1 cannot be unwrapped")


def test_security_sites_export_format_key_rotation_and_handoff(rt: Runtime, admin: Actor) -> None:
    with pytest.raises(errors.ValidationError) as caught:
        audit_export.render([], "xml")
    said = _check(
        caught.value,
        "msg.security.export_format",
        "unknown export format 'xml'; choose csv or jsonl",
    )
    assert said == "formato de exportação desconhecido 'xml'; escolha csv ou jsonl"
    with pytest.raises(errors.ValidationError) as caught:
        keys.rotate(rt, admin, new_key=rt.settings.secret_key)
    _check(caught.value, "msg.keys.same", "the new key is the key in use")
    with pytest.raises(errors.ValidationError) as caught:
        keys.rotate(rt, admin)  # the key comes from PETCARE_SECRET_KEY (the test settings)
    english = "the secret key comes from PETCARE_SECRET_KEY, which this command cannot change"
    _check(caught.value, "msg.keys.from_env", english, hint="msg.keys.from_env.hint")
    with pytest.raises(errors.ValidationError) as caught:
        handoff.create_handoff(rt.store, rt.keyring, admin, "token", "n" * 32)  # a CLI actor
    english = "only a signed-in browser session can get a session cookie"
    _check(caught.value, "msg.security.handoff_session", english)
    browser = Actor(admin.user_id, admin.username, admin.role, session_id="s1")
    with pytest.raises(errors.ValidationError) as caught:
        handoff.create_handoff(rt.store, rt.keyring, browser, "token", "short")
    english = "the browser holds no pre-auth nonce; sign-in stays in this tab"
    _check(caught.value, "msg.security.handoff_nonce", english)


def _history_page(username: str, project_id: int, script: str) -> None:
    import streamlit as st

    from petcare_dba.services import projects as svc
    from petcare_dba.services.security import users
    from petcare_dba.ui import state
    from petcare_dba.ui.components.projects import runs

    st.session_state["lang"] = "pt-BR"  # the page runs as its own script: no module names
    rt = state.runtime()
    who = users.actor_for(rt, username)
    project = svc.get(rt, who, project_id)
    runs.history(rt, who, project, svc.scripts.get(rt, who, project_id, script))


def test_a_script_runs_outcomes_are_said_in_pt_br(
    app_env: Runtime, admin: Actor, target: Target
) -> None:
    rt = app_env
    pid = projects.create(rt, admin, "P")
    projects.scripts.save(rt, admin, pid, "s", "SELECT 1")
    projects.scripts.save(rt, admin, pid, "s", "SELECT 1/0")
    project_runs.run_script(rt, admin, pid, "s", version=1, connection=target.name)
    project_runs.run_script(rt, admin, pid, "s", version=2, connection=target.name)
    at = AppTest.from_function(_history_page, args=("admin", pid, "s"), default_timeout=30).run()
    assert not at.exception, at.exception
    outcomes = [r[i18n.translate(PT, "projects.col_outcome")] for r in _records(at)]
    assert sorted(outcomes) == ["erro", "ok"], outcomes


def _records(at: AppTest) -> list[dict[str, object]]:
    frames = [d.value for d in at.dataframe]
    assert len(frames) == 1, frames
    records: list[dict[str, object]] = frames[0].to_dict("records")
    return records

"""Issue 19, errors in the user's language, the cheap half (no database): every error class's
title has its pt-BR words; every message key the code names (`messages.say("msg…")`) is in
the registry, and has an English and a pt-BR text with the same placeholders; nothing in the
registry is left unsaid; a message is said in pt-BR with its values (a rule inside a refusal in
pt-BR too, outside text as it came) and stays English where the CLI reads it; a note stored as
English only (History's) is read back when it is exactly one of its templates; a refused
archive names its field in pt-BR too.
"""

from __future__ import annotations

import ast
import io
import json
import re
import string
import zipfile
from pathlib import Path

import pytest

from petcare_dba import errors
from petcare_dba.errors import PetcareError, ValidationError, title_key
from petcare_dba.messages import MESSAGES, Text, joined, recognised, say
from petcare_dba.ui import i18n

PACKAGE = Path(__file__).resolve().parents[2] / "petcare_dba"
PT = "pt-BR"
# Templates whose pt-BR text is rightly the same as the English: only values around the same
# punctuation (a command and its effect, a rule and why, two hints).
SAME_IN_PT_BR = {
    "msg.sql.summary",
    "msg.sql.rule_because",
    "msg.sql.reason.guarded",
    "msg.sql.reason.function",
    "msg.sql.reason.set_config",
    "msg.sql.reason.copy",
    "msg.sql.hints",
}


def _fields(text: str) -> list[str]:
    return sorted(f for _, f, _, _ in string.Formatter().parse(text) if f)


def _subclasses(cls: type[PetcareError]) -> list[type[PetcareError]]:
    return [cls, *(s for sub in cls.__subclasses__() for s in _subclasses(sub))]


def _said_keys() -> dict[str, str]:
    """{key: where} of every message key the package names outside the registry: the literal
    `"msg…"` strings (`say("msg.x")`, or a key picked by a condition and then said), and the keys
    a packaged query names beside an error it writes word for word (read back by
    `recognised_in`; tests/ui/test_ptbr_stored_errors.py checks the words match)."""
    found: dict[str, str] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.parent.name == "messages":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if re.fullmatch(r"msg\.[a-z0-9_.]+", node.value):
                    found[node.value] = f"{path.relative_to(PACKAGE)}:{node.lineno}"
    for path in sorted((PACKAGE / "sql").glob("*.sql")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for key in re.findall(r"--.*?\b(msg\.[a-z0-9_]+(?:\.[a-z0-9_]+)+)", line):
                found[key] = f"{path.relative_to(PACKAGE)}:{n}"
    return found


def test_every_error_title_has_pt_br_words() -> None:
    from petcare_dba.services import backups, intake  # noqa: F401 - their subclasses count too

    en, pt = i18n.catalogue("en"), i18n.catalogue(PT)
    for cls in _subclasses(PetcareError):
        key = title_key(cls.title)
        assert key is not None, f"{cls.__name__}: its title {cls.title!r} has no key"
        assert en[key] == cls.title and pt[key] != cls.title, cls.__name__
    assert len(errors.TITLES) == len(errors.FAMILY)  # one key per class: titles are distinct


def test_every_message_the_code_says_has_en_and_pt_br_text() -> None:
    en, pt = i18n.catalogue("en"), i18n.catalogue(PT)
    said = _said_keys()
    unknown = {key: where for key, where in said.items() if key not in MESSAGES}
    assert unknown == {}, "said but not in the registry"
    assert sorted(set(MESSAGES) - set(said)) == [], "in the registry but never said"
    for key, english in MESSAGES.items():
        assert en[key] == english, key
        assert key in pt, f"{key} has no pt-BR text"
        assert _fields(pt[key]) == _fields(english), key
        assert (pt[key] == english) == (key in SAME_IN_PT_BR), key


def test_a_message_is_said_in_the_language_and_stays_english_for_the_cli() -> None:
    inner = say("msg.settings.bounds", var="PETCARE_AI_RETRIES", low=0, high=20, value="'500'")
    error = ValidationError(inner, hint=say("msg.db.busy.hint"))
    english = "PETCARE_AI_RETRIES must be between 0 and 20, not '500'"
    assert str(error) == error.message == english and error.as_dict()["message"] == english
    assert error.key == "msg.settings.bounds" and error.params["value"] == "'500'"
    assert error.hint_key == "msg.db.busy.hint"
    assert i18n.said(PT, error.message) == "PETCARE_AI_RETRIES deve estar entre 0 e 20, não '500'"
    assert i18n.said("en", error.message) == english
    timeout = say("msg.db.lock_timeout", message="canceling statement due to lock timeout")
    assert i18n.said(PT, timeout).endswith(
        ": canceling statement due to lock timeout (lock_timeout_ms)"
    )
    listed = joined([say("msg.db.cancelled"), "outside text"])
    assert str(listed) == "the statement was cancelled; outside text"
    assert i18n.said(PT, listed) == "a instrução foi cancelada; outside text"
    assert i18n.said(PT, "plain English") == "plain English"
    assert i18n.said(PT, say("msg.settings.bounds", var="X", low=0.5, high=2, value="'9'")) == (
        "X deve estar entre 0,5 e 2, não '9'"
    )


def test_a_stored_note_is_read_back_exactly_and_said_in_pt_br() -> None:
    from petcare_dba.services.sql.history import NOTES

    declined = recognised("declined by the user: table edit cancelled", NOTES)
    assert declined == "declined by the user: table edit cancelled"  # the English, as stored
    assert i18n.said(PT, declined) == "não confirmado pelo usuário: edição da tabela cancelada"
    failed = recognised("rolled back: statement 2 failed", NOTES)  # the specific one, not {message}
    assert i18n.said(PT, failed) == "desfeito (rollback): a instrução 2 falhou"
    outside = recognised("rolled back: deadlock detected", NOTES)  # a value: as it came
    assert i18n.said(PT, outside) == "desfeito (rollback): deadlock detected"
    assert i18n.said(PT, recognised("exported csv, 12 B", NOTES)) == "exportado em csv, 12 B"
    for text in ("declined by the user:", "rolled back (dry run) ", "deadlock detected"):
        assert recognised(text, NOTES) is text  # not a template's exact sentence: left as is
    busy = "busy: you already run 2 statement(s) on this connection "
    cap = recognised(f"{busy}(max_connections_per_user=2); waited 1 s", ["msg.target.busy"])
    assert isinstance(cap, Text) and cap.params == {"n": "2", "waited": "1"}
    mismatch = f"{busy}(max_connections_per_user=3); waited 1 s"  # a value named twice repeats
    assert recognised(mismatch, ["msg.target.busy"]) is mismatch


def test_an_archive_field_is_named_in_pt_br_inside_the_refusal() -> None:
    from petcare_dba.services.projects import bundle_check

    def refusal(project: object, scripts: object = ()) -> str:
        manifest = {"format": bundle_check.FORMAT, "format_version": 1, "project": project}
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as zf:
            zf.writestr("manifest.json", json.dumps({**manifest, "scripts": list(scripts)}))
        with pytest.raises(ValidationError) as caught:
            bundle_check.read(buffer.getvalue(), bundle_check.Limits(1 << 20, 10, 10))
        assert str(caught.value).startswith("this project archive cannot be imported: ")
        return i18n.said(PT, caught.value.message)

    lead = "este arquivo de projeto não pode ser importado: "
    assert refusal({"name": "a\x07b"}) == (
        f"{lead}o nome do projeto 'a\\x07b' contém caracteres de controle ou invisíveis"
    )
    assert refusal({"name": " "}) == f"{lead}o nome do projeto deve ter de 1 a 200 caracteres"
    assert refusal({"name": 7}) == f"{lead}nome do projeto tem o tipo errado no manifest.json"
    assert refusal({"name": "p"}, [{"name": "s", "versions": 1}]) == (
        f"{lead}versions tem o tipo errado no manifest.json"  # a manifest key, as written
    )

"""Problem texts read as sentences, and every problem has a stable type (docs/api.md, "Errors").

Clients match on ``type`` and on the field names in ``errors``; people read ``title``,
``detail`` and the field messages, so those are sentences: a capital letter, a full stop.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from services.gateway.problems import (
    KIND_OF_STATUS,
    as_sentence,
    fields_detail,
    kind_of_status,
    try_again_in,
)
from shared.domain.errors import Conflict, InvalidInput, NotFound, Text, plural_text
from tests.api.conftest import Headers, Person, assert_problem, reads_as_sentence

ROOT = Path(__file__).resolve().parents[2]
TYPES = "https://compound.invalid/problems/"

# -- the pure parts ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "sentence"),
    [
        ("no such team", "No such team."),
        ("No such team.", "No such team."),
        ("is it?", "Is it?"),
        ("`totp` is wrong", "`totp` is wrong."),
        ("2026-W60 does not exist", "2026-W60 does not exist."),
        ("  padded  ", "Padded."),
        ("", ""),
    ],
)
def test_as_sentence(text: str, sentence: str):
    assert as_sentence(text) == sentence


def test_a_validation_detail_counts_the_fields_and_gives_their_messages():
    one = fields_detail({"minutes": ["Not a valid integer."]})
    assert one == "1 field is not valid. minutes: Not a valid integer."
    two = fields_detail({"tactic": ["Missing data for required field."], "minutes": ["x"]})
    assert two.startswith("2 fields are not valid. minutes: X. tactic: Missing")
    assert as_sentence("⟦Ŝéñţéñçé.⟧") == "⟦Ŝéñţéñçé.⟧"  # the pseudo-locale's, as it is
    assert reads_as_sentence(one) and reads_as_sentence(two)


def test_a_long_validation_detail_stops_at_a_whole_field():
    many = {f"events.{i}.type": ["'Nope' cannot be imported."] for i in range(40)}
    detail = fields_detail(many, limit=200)
    assert len(detail) <= 200 + len(" 36 more fields in errors.")
    assert detail.endswith(" 36 more fields in errors.") and "imported. events.11" in detail
    assert "cannot be impo " not in detail  # no field cut in half


def test_a_wait_is_counted_in_words():
    assert try_again_in(1) == "Too many requests: try again in 1 second."
    assert try_again_in(2) == "Too many requests: try again in 2 seconds."


def test_every_status_has_a_kind():
    assert kind_of_status(404) == "not-found"
    assert kind_of_status(422) == "validation"
    assert kind_of_status(418) == "im-a-teapot"  # not listed: its phrase
    assert kind_of_status(499) == "http-499"
    assert len(set(KIND_OF_STATUS.values())) == len(KIND_OF_STATUS)


def test_a_text_is_its_english_and_keeps_what_translates_it():
    text = Text("There is no team %(id)s.", id="t1")
    assert text == "There is no team t1." and text.msgid == "There is no team %(id)s."
    assert text.values == {"id": "t1"}
    one = plural_text("%(num)d event failed.", "%(num)d events failed.", 1)
    many = plural_text("%(num)d event failed.", "%(num)d events failed.", 3)
    assert (one, many) == ("1 event failed.", "3 events failed.")
    assert many.msgid == "%(num)d event failed." and many.plural == "%(num)d events failed."


def test_domain_errors_have_kinds():
    assert NotFound("There is no team.").kind == "not-found"
    assert InvalidInput("Not valid.").kind == "validation"
    assert Conflict("Used.", kind="invitation-used").kind == "invitation-used"
    assert Conflict("Other.").kind == "conflict"  # the override is the instance's only


# -- the sources: every message a refusal gives is a sentence, and translatable ---------------

MINE = [
    "services/gateway/problems.py",
    "services/gateway/api",
    "services/gateway/scim",
    "shared/domain/errors.py",
    "shared/domain/bounds.py",
    "shared/domain/verification.py",
    "shared/domain/working_hours.py",
    "shared/domain/volume.py",
    "shared/domain/privacy.py",
    "shared/domain/scopes.py",
    "shared/commands",
]
NOT_MINE = {"activity.py", "journal.py", "personal_data.py", "settings.py"}
TRANSLATED = {"Text", "plural_text", "N_"}
"""The calls that put a message through the catalogue (shared/domain/errors.py)."""
REFUSALS = {
    "DomainError",
    "NotFound",
    "Forbidden",
    "Unauthorized",
    "Conflict",
    "InvalidInput",
    "Gone",
    "TooManyActions",
    "ValidationError",
    "Text",
    "plural_text",
}


def _sources() -> Iterator[Path]:
    for name in MINE:
        path = ROOT / name
        for found in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            if not (found.parent.name == "commands" and found.name in NOT_MINE):
                yield found


def _name(call: ast.Call) -> str:
    func = call.func
    return func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")


def _messages(call: ast.Call) -> Iterator[ast.expr]:
    """The message arguments of a refusal: its first argument (``detail=`` of a SCIM
    exception, the third of ``problem``), and the strings in the lists of its ``errors``."""
    name = _name(call)
    if name.endswith("Exception"):
        yield from (k.value for k in call.keywords if k.arg == "detail")
        return
    if name == "problem":
        yield from call.args[2:3]
        return
    if name not in REFUSALS:
        return
    yield from call.args[:1]
    if name in TRANSLATED:
        yield from call.args[1:2] if name == "plural_text" else ()
        return
    for errors in call.args[1:2]:
        if isinstance(errors, ast.Dict):
            for value in errors.values:
                if isinstance(value, ast.List):
                    yield from value.elts


def _names_errors(target: ast.expr) -> bool:
    """Whether ``target`` is ``errors[...]`` (a field's messages set one by one)."""
    return isinstance(target, ast.Subscript) and getattr(target.value, "id", "") == "errors"


def test_every_refusal_in_the_sources_is_a_translatable_sentence():
    wrong: list[str] = []
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Assign)
                and isinstance(node.value, ast.List)
                and any(_names_errors(target) for target in node.targets)
            ):
                wrong.extend(
                    f"{path.relative_to(ROOT)}:{m.lineno}: {ast.unparse(m)} is not translated"
                    for m in node.value.elts
                    if isinstance(m, ast.Constant | ast.JoinedStr)
                )
            if not isinstance(node, ast.Call):
                continue
            for message in _messages(node):
                where = f"{path.relative_to(ROOT)}:{message.lineno}"
                if isinstance(message, ast.JoinedStr):
                    wrong.append(f"{where}: an f-string cannot be translated: use Text")
                elif isinstance(message, ast.Constant) and isinstance(message.value, str):
                    if _name(node) not in TRANSLATED:
                        wrong.append(f"{where}: {message.value!r} is not translated: use Text")
                    # A message that ends with another (``%(message)s``) ends as that one does.
                    ending = message.value.endswith("%(message)s")
                    if not reads_as_sentence(message.value) and not ending:
                        wrong.append(f"{where}: {message.value!r} is not a sentence")
    assert not wrong, "\n".join(wrong)


# -- the API: problems people read, types clients match on ------------------------------------

ACTION = {"tactic": "regular_signaling", "minutes": 10, "audience": "team"}


def test_a_validation_problem_names_each_field_in_a_sentence(
    client: FlaskClient, headers_of: Callable[[str], Headers]
):
    response = client.post(
        "/api/v1/actions", headers=headers_of("platform-1"), json={**ACTION, "minutes": "ten"}
    )
    problem = assert_problem(response, 422, "minutes")
    assert problem["type"] == TYPES + "validation"
    assert problem["detail"] == "1 field is not valid. minutes: Not a valid integer."


def test_an_unknown_route_and_a_wrong_method_have_their_types(
    client: FlaskClient, headers_of: Callable[[str], Headers]
):
    employee = headers_of("platform-1")
    assert assert_problem(client.get("/api/v1/nowhere", headers=employee), 404)["type"] == (
        TYPES + "not-found"
    )
    wrong = client.delete("/api/v1/actions", headers=employee)
    assert assert_problem(wrong, 405)["type"] == TYPES + "method-not-allowed"


def test_an_answered_question_is_answered_already(
    client: FlaskClient, new_person: Callable[..., Person]
):
    asker, colleague = new_person(), new_person()
    asked = client.post(
        "/api/v1/feedback-requests",
        headers=asker.headers,
        json={"question": "Was the summary useful?", "colleague": str(colleague.id)},
    )
    assert asked.status_code == 201, asked.get_data(as_text=True)
    answer = f"/api/v1/feedback-requests/{asked.get_json()['request_id']}/answer"
    first = client.post(answer, headers=colleague.headers, json={"useful": True})
    assert first.status_code == 201, first.get_data(as_text=True)
    again = client.post(answer, headers=colleague.headers, json={"useful": False})
    problem = assert_problem(again, 409)
    assert problem["type"] == TYPES + "answered-already"
    assert problem["detail"] == "This question has been answered already."


def test_a_used_idempotency_key_with_another_body(
    client: FlaskClient, headers_of: Callable[[str], Headers]
):
    headers = {**headers_of("platform-2"), "Idempotency-Key": "problem-texts-1"}
    assert client.post("/api/v1/actions", headers=headers, json=ACTION).status_code == 201
    other = client.post("/api/v1/actions", headers=headers, json={**ACTION, "minutes": 11})
    problem = assert_problem(other, 422)
    assert problem["type"] == TYPES + "idempotency"
    assert problem["detail"] == "This Idempotency-Key was used with a different request."

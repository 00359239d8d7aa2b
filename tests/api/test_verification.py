"""Verification through the API: an item names the party who may confirm it (an outcome's
confirmer, a relationship action's counterpart, a feedback request's colleague); only that
party's answer counts, once; other tenants' ids are not found; mailed links are signed,
bound to the item and the address, single-use and expiring."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask.testing import FlaskClient

from shared.eventlog import EventStore
from shared.projections import runtime
from tests.api.conftest import Person, assert_problem
from tests.portal.conftest import CSRF, mailbox, mailed_link

pytestmark = pytest.mark.integration
__all__ = ["mailbox"]  # the fixture, used by name


def post(client: FlaskClient, who: Person, path: str, body: dict[str, Any]) -> Any:
    return client.post(f"/api/v1{path}", headers=who.headers, json=body)


def outcome_naming(client: FlaskClient, owner: Person, confirmer: str) -> dict[str, Any]:
    response = post(client, owner, "/outcomes", {"kind": "recognition", "confirmer": confirmer})
    assert response.status_code == 201, response.get_json()
    return dict(response.get_json())


def events_of(store: EventStore, person: uuid.UUID, event_type: str) -> list[dict[str, Any]]:
    return [e.data for e in store.read_stream(f"journal-{person}") if e.type == event_type]


def test_the_named_confirmer_confirms_once_and_again_idempotently(
    client: FlaskClient, store: EventStore, new_person: Callable[..., Person], mailbox: list
):
    owner, colleague = new_person(), new_person()
    made = outcome_naming(client, owner, str(colleague.id))
    link = made["confirmation_link"]
    assert urlsplit(link).path == f"/confirm/outcomes/{made['outcome_id']}"
    assert "t=" not in link  # the owner never holds the address token
    assert mailed_link(mailbox, colleague.email).startswith(link + "?t=")

    path = f"/outcomes/{made['outcome_id']}/confirmation"
    first = post(client, colleague, path, {"confirmed": True})
    assert first.status_code == 200 and first.get_json()["replayed"] is False
    again = post(client, colleague, path, {"confirmed": True})
    assert again.status_code == 200 and again.get_json()["replayed"] is True
    assert again.get_json()["position"] == first.get_json()["position"]
    assert_problem(post(client, colleague, path, {"confirmed": False}), 409)
    assert events_of(store, owner.id, "OutcomeConfirmed") == [
        {"outcome_id": made["outcome_id"], "person_id": str(owner.id), "confirmed": True}
    ]


def test_only_the_named_person_confirms(
    client: FlaskClient, new_person: Callable[..., Person], other_org: Any, store: EventStore
):
    owner, colleague, bystander = new_person(), new_person(), new_person()
    made = outcome_naming(client, owner, str(colleague.id))
    path = f"/outcomes/{made['outcome_id']}/confirmation"
    assert_problem(post(client, owner, path, {"confirmed": True}), 403)
    assert_problem(post(client, bystander, path, {"confirmed": True}), 403)
    from tests.api.conftest import bearer

    outsider = bearer(store, other_org, other_org.people["platform-1"])
    response = client.post(f"/api/v1{path}", headers=outsider, json={"confirmed": True})
    assert_problem(response, 404)
    unnamed = post(client, owner, "/outcomes", {"kind": "recognition"}).get_json()
    assert unnamed["confirmation_link"] is None
    response = post(
        client, colleague, f"/outcomes/{unnamed['outcome_id']}/confirmation", {"confirmed": True}
    )
    assert_problem(response, 404)
    assert events_of(store, owner.id, "OutcomeConfirmed") == []


def test_a_confirmer_must_be_a_colleague_or_an_address(
    client: FlaskClient, new_person: Callable[..., Person], other_org: Any, store: EventStore
):
    owner = new_person()
    for confirmer in (str(owner.id), str(other_org.people["platform-1"]), str(uuid.uuid4())):
        response = post(client, owner, "/outcomes", {"kind": "assignment", "confirmer": confirmer})
        assert_problem(response, 422, "confirmer")
    for confirmer in ("not an address", owner.email.upper(), "x" * 400 + "@a.test"):
        response = post(client, owner, "/outcomes", {"kind": "assignment", "confirmer": confirmer})
        assert_problem(response, 422, "confirmer")
    assert events_of(store, owner.id, "OutcomeRecorded") == []


def test_an_outside_confirmer_answers_through_the_mailed_link_once(
    client: FlaskClient, store: EventStore, new_person: Callable[..., Person], mailbox: list
):
    owner = new_person()
    made = outcome_naming(client, owner, "Mentor@Example.org")
    link = mailed_link(mailbox, "Mentor@Example.org")
    page = client.get(link)
    assert page.status_code == 200 and b"Confirm" in page.data
    csrf = CSRF.search(page.get_data(as_text=True))
    assert csrf is not None
    token = parse_qs(urlsplit(link).query)["t"][0]
    path = urlsplit(link).path
    form = {"t": token, "answer": "decline", "csrf_token": csrf.group(1)}
    assert client.post(path, data={**form, "t": token + "x"}).status_code == 404
    answer = client.post(path, data=form)
    assert answer.status_code == 201, answer.data
    assert client.post(path, data=form).status_code == 409  # used once
    assert client.get(link).status_code == 200  # the page says it was answered
    assert b"answered already" in client.get(link).data
    assert events_of(store, owner.id, "OutcomeConfirmed") == [
        {"outcome_id": made["outcome_id"], "person_id": str(owner.id), "confirmed": False}
    ]


def test_tampered_foreign_and_expired_tokens_are_refused(
    client: FlaskClient, new_person: Callable[..., Person], mailbox: list,
    monkeypatch: pytest.MonkeyPatch,
):  # fmt: skip
    owner = new_person()
    first = outcome_naming(client, owner, "one@example.org")
    second = outcome_naming(client, owner, "two@example.org")
    one = mailed_link(mailbox, "one@example.org")
    token = parse_qs(urlsplit(one).query)["t"][0]
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert client.get(f"/confirm/outcomes/{first['outcome_id']}?t={tampered}").status_code == 404
    # a token for one item (and address) does not open another
    assert client.get(f"/confirm/outcomes/{second['outcome_id']}?t={token}").status_code == 404
    # nor the same item as an action
    assert client.get(f"/confirm/actions/{first['outcome_id']}?t={token}").status_code == 404
    from services.gateway import confirmations

    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + confirmations.LINK_DAYS * 86400 + 60)
    assert client.get(urlsplit(one).path + "?t=" + token).status_code == 410


def test_a_relationship_action_names_its_counterpart(
    client: FlaskClient, store: EventStore, new_person: Callable[..., Person], mailbox: list
):
    owner, counterpart = new_person(), new_person()
    body = {"tactic": "relationship_deposit", "minutes": 5, "audience": "team"}
    response = post(client, owner, "/actions", {**body, "counterpart": str(counterpart.id)})
    assert response.status_code == 201, response.get_json()
    action = response.get_json()
    assert urlsplit(action["confirmation_link"]).path == f"/confirm/actions/{action['action_id']}"
    assert mailed_link(mailbox, counterpart.email).startswith(action["confirmation_link"])
    path = f"/actions/{action['action_id']}/confirmation"
    assert_problem(post(client, owner, path, {"confirmed": True}), 403)
    assert post(client, counterpart, path, {"confirmed": True}).status_code == 200
    assert events_of(store, owner.id, "ActionConfirmed")[0]["confirmed"] is True

    wrong = {**body, "tactic": "small_exposure", "counterpart": str(counterpart.id)}
    assert_problem(post(client, owner, "/actions", wrong), 422, "counterpart")
    me_again = {**body, "counterpart": str(owner.id)}
    assert_problem(post(client, owner, "/actions", me_again), 422, "counterpart")
    plain = post(client, owner, "/actions", body).get_json()
    assert plain["confirmation_link"] is None

    undone = post(client, owner, "/actions", {**body, "counterpart": str(counterpart.id)})
    undone_id = undone.get_json()["action_id"]
    assert post(client, owner, f"/actions/{undone_id}/undo", {}).status_code == 200
    path = f"/actions/{undone_id}/confirmation"
    assert_problem(post(client, counterpart, path, {"confirmed": True}), 410)


def test_a_named_colleague_answers_feedback_confirmed(
    client: FlaskClient, store: EventStore, new_person: Callable[..., Person], mailbox: list
):
    asker, colleague, bystander = new_person(), new_person(), new_person()
    ask = {"question": "Was my summary useful?", "colleague": str(colleague.id)}
    response = post(client, asker, "/feedback-requests", ask)
    assert response.status_code == 201, response.get_json()
    request_id = response.get_json()["request_id"]
    link = response.get_json()["link"]
    assert mailed_link(mailbox, colleague.email).startswith(link + "?t=")
    # the asker's link, without login, is refused for a named request
    assert_problem(client.post(link, json={"useful": True}), 401)
    path = f"/feedback-requests/{request_id}/answer"
    assert_problem(post(client, asker, path, {"useful": True}), 403)
    assert_problem(post(client, bystander, path, {"useful": True}), 403)
    answered = post(client, colleague, path, {"useful": True, "comment": "Yes"})
    assert answered.status_code == 201 and answered.get_json()["confirmed"] is True
    assert_problem(post(client, colleague, path, {"useful": False}), 409)
    given = events_of(store, asker.id, "FeedbackGiven")
    assert [(g["useful"], g["confirmed"]) for g in given] == [(True, True)]
    unnamed = post(client, asker, "/feedback-requests", {"question": "And this?"}).get_json()
    assert client.post(unnamed["link"], json={"useful": False}).status_code == 201
    runtime(store).catch_up("feedback_loop")
    mine = client.get("/api/v1/me/feedback", headers=asker.headers).get_json()  # caught up
    states = {i["request_id"]: (i["colleague_named"], i["confirmed"]) for i in mine["items"]}
    assert states == {request_id: (True, True), unnamed["request_id"]: (False, False)}


def test_an_outside_colleague_answers_through_the_mailed_link(
    client: FlaskClient, store: EventStore, new_person: Callable[..., Person], mailbox: list
):
    asker = new_person()
    ask = {"question": "Did my update help?", "colleague": "peer@outside.example"}
    link = post(client, asker, "/feedback-requests", ask).get_json()["link"]
    mailed = mailed_link(mailbox, "peer@outside.example")
    assert client.post(mailed + "x", json={"useful": True}).status_code == 404  # tampered
    other = post(client, asker, "/feedback-requests", {**ask, "question": "And this?"})
    foreign = other.get_json()["link"] + "?t=" + mailed.split("?t=")[1]
    assert client.post(foreign, json={"useful": True}).status_code == 404  # another request
    assert client.post(mailed, json={"useful": True}).status_code == 201
    assert client.post(mailed, json={"useful": True}).status_code == 409  # single use
    assert client.post(link, json={"useful": False}).status_code == 401
    given = events_of(store, asker.id, "FeedbackGiven")
    assert [(g["useful"], g["confirmed"]) for g in given] == [(True, True)]


def test_an_unnamed_request_still_answers_without_login_unconfirmed(
    client: FlaskClient, store: EventStore, new_person: Callable[..., Person]
):
    asker = new_person()
    link = post(client, asker, "/feedback-requests", {"question": "Useful?"}).get_json()["link"]
    assert client.post(link, json={"useful": True}).status_code == 201
    given = events_of(store, asker.id, "FeedbackGiven")
    assert [g.get("confirmed", False) for g in given] == [False]


def test_a_confirmation_retried_with_its_key_answers_the_same(
    client: FlaskClient, new_person: Callable[..., Person]
):
    owner, colleague = new_person(), new_person()
    made = outcome_naming(client, owner, str(colleague.id))
    headers = {**colleague.headers, "Idempotency-Key": "confirm-once"}
    path = f"/api/v1/outcomes/{made['outcome_id']}/confirmation"
    first = client.post(path, headers=headers, json={"confirmed": True})
    again = client.post(path, headers=headers, json={"confirmed": True})
    assert first.status_code == again.status_code == 200
    assert again.get_json() == first.get_json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert_problem(client.post(path, headers=headers, json={"confirmed": False}), 422)

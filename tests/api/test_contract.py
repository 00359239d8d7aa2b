"""The public API contract (docs/api.md): errors, validation, idempotency, the flows.

Every error is ``application/problem+json``; writes honour ``Idempotency-Key``; feedback
links, pulses, logins, tokens and invitations behave as documented.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from services.gateway.feedback import feedback_token
from shared.commands import Actor, OrganizationCommands
from shared.eventlog import EventStore
from tests.api.conftest import Headers, Person, assert_problem
from tests.conftest import DemoOrg
from tests.security.pages import log_in

pytestmark = pytest.mark.integration

ACTION = {"tactic": "regular_signaling", "minutes": 10, "audience": "team"}
ONE_MIB = 1024 * 1024


def csrf_token(page: str) -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert found, "no CSRF token on the page"
    return found.group(1)


def path_of(link: str) -> str:
    return urlsplit(link).path


@pytest.fixture
def employee(headers_of: Callable[[str], Headers]) -> Headers:
    return headers_of("platform-1")


@pytest.fixture
def admin(headers_of: Callable[[str], Headers]) -> Headers:
    return headers_of("admin")


# -- problem+json everywhere ---------------------------------------------------------------------


def _call(
    client: FlaskClient, org: DemoOrg, headers_of: Callable[[str], Headers], case: str
) -> Any:
    employee, admin = headers_of("platform-1"), headers_of("admin")
    match case:
        case "401 no credentials":
            return client.get("/api/v1/me")
        case "401 not a bearer":
            return client.get("/api/v1/me", headers={"Authorization": "Basic dXNlcjpwdw=="})
        case "401 unknown token":
            return client.get("/api/v1/me", headers={"Authorization": "Bearer cpd_nope"})
        case "401 wrong password":
            return client.post(
                "/api/v1/auth/token",
                json={"email": f"nobody-{uuid.uuid4().hex}@demo.test", "password": "wrong"},
            )
        case "403 not an admin":
            return client.post("/api/v1/teams", headers=employee, json={"name": "mine"})
        case "404 no such route":
            return client.get("/api/v1/nothing-here", headers=employee)
        case "404 no such team":
            return client.post(
                f"/api/v1/teams/{uuid.uuid4()}/managers",
                headers=admin,
                json={"person_id": str(org.people["platform-1"])},
            )
        case "404 no such experiment":
            return client.post(f"/api/v1/experiments/{uuid.uuid4()}/end", headers=employee, json={})
        case "405 wrong method":
            return client.get("/api/v1/actions", headers=employee)
        case "409 e-mail taken":
            return client.post(
                "/api/v1/invitations", headers=admin, json={"email": org.emails["platform-1"]}
            )
        case "413 body too large":
            return client.post(
                "/api/v1/actions",
                headers=employee,
                data=b" " * (ONE_MIB + 1),
                content_type="application/json",
            )
        case "400 malformed JSON":
            return client.post(
                "/api/v1/actions", headers=employee, data="{", content_type="application/json"
            )
        case "400 Idempotency-Key too long":
            return client.post(
                "/api/v1/actions", headers={**employee, "Idempotency-Key": "k" * 201}, json=ACTION
            )
        case "422 invalid body":
            return client.post("/api/v1/actions", headers=employee, json={})
        case "422 invalid week":
            return client.post(
                "/api/v1/plans/2026-W60",
                headers=employee,
                json={"actions": [{"tactic": "learning_bit"}]},
            )
    raise AssertionError(case)


ERROR_CASES = [
    "401 no credentials",
    "401 not a bearer",
    "401 unknown token",
    "401 wrong password",
    "403 not an admin",
    "404 no such route",
    "404 no such team",
    "404 no such experiment",
    "405 wrong method",
    "409 e-mail taken",
    "413 body too large",
    "400 malformed JSON",
    "400 Idempotency-Key too long",
    "422 invalid body",
    "422 invalid week",
]


KIND_OF_CASE = {
    "401 no credentials": "unauthorized",
    "401 not a bearer": "unauthorized",
    "401 unknown token": "unauthorized",
    "401 wrong password": "unauthorized",
    "403 not an admin": "forbidden",
    "404 no such route": "not-found",
    "404 no such team": "not-found",
    "404 no such experiment": "not-found",
    "405 wrong method": "method-not-allowed",
    "409 e-mail taken": "account-exists",
    "413 body too large": "too-large",
    "400 malformed JSON": "invalid-json",
    "400 Idempotency-Key too long": "idempotency-key",
    "422 invalid body": "validation",
    "422 invalid week": "validation",
}
"""The stable ``type`` of each case (docs/api.md, "Errors"): clients match on it, not on text."""


@pytest.mark.parametrize("case", ERROR_CASES)
def test_every_error_is_a_problem(
    case: str, client: FlaskClient, org: DemoOrg, headers_of: Callable[[str], Headers]
):
    response = _call(client, org, headers_of, case)
    problem = assert_problem(response, int(case[:3]))
    assert problem["type"] == "https://compound.invalid/problems/" + KIND_OF_CASE[case]


def test_405_says_what_is_allowed(client: FlaskClient, employee: Headers):
    response = client.get("/api/v1/actions", headers=employee)
    assert_problem(response, 405)
    assert "POST" in response.headers["Allow"]


def test_an_unexpected_error_is_a_500_problem(
    app: Flask, client: FlaskClient, employee: Headers, monkeypatch: pytest.MonkeyPatch
):
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(app.extensions["compound"].journal, "log_action", broken)
    body = assert_problem(client.post("/api/v1/actions", headers=employee, json=ACTION), 500)
    assert "a bug" not in json.dumps(body)  # no internals leak


def test_a_database_outage_is_a_503_problem(
    app: Flask, client: FlaskClient, employee: Headers, monkeypatch: pytest.MonkeyPatch
):
    def down(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(app.extensions["compound"].journal, "log_action", down)
    response = client.post("/api/v1/actions", headers=employee, json=ACTION)
    assert_problem(response, 503)
    assert int(response.headers["Retry-After"]) > 0


# -- validation: 422 naming each field --------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"minutes": 10, "audience": "team"}, "tactic"),  # missing
        ({**ACTION, "minutes": "ten"}, "minutes"),  # wrong type
        ({**ACTION, "minutes": True}, "minutes"),  # wrong type, however truthy
        ({**ACTION, "audience": "everyone"}, "audience"),  # not one of the choices
        ({**ACTION, "colour": "blue"}, "colour"),  # unknown
        ({**ACTION, "occurred_at": "yesterday"}, "occurred_at"),
    ],
    ids=["missing", "wrong-type", "bool-for-int", "bad-choice", "unknown-field", "bad-date"],
)
def test_invalid_action_names_the_field(
    body: dict[str, Any], field: str, client: FlaskClient, employee: Headers
):
    response = client.post("/api/v1/actions", headers=employee, json=body)
    problem = assert_problem(response, 422, field)
    assert field in problem["detail"]


def test_nested_fields_are_named_by_their_path(client: FlaskClient, employee: Headers):
    response = client.post(
        "/api/v1/plans/2026-W10",
        headers=employee,
        json={"actions": [{"tactic": "learning_bit"}, {"tactic": "learning_bit", "x": 1}]},
    )
    assert_problem(response, 422, "actions.1.x")


def test_a_body_that_is_not_an_object_is_refused(client: FlaskClient, employee: Headers):
    response = client.post("/api/v1/actions", headers=employee, json=[ACTION])
    assert_problem(response, 422)


NUL = "a\x00b"


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v1/actions", {**ACTION, "note": NUL}, "note"),
        ("/api/v1/outcomes", {"kind": "recognition", "note": NUL}, "note"),
        ("/api/v1/plans/2026-W10", {"actions": [{"tactic": "learning_bit", "label": NUL}]}, None),
        ("/api/v1/experiments", {"tactic": "learning_bit", "hypothesis": NUL}, "hypothesis"),
        ("/api/v1/feedback-requests", {"question": NUL}, "question"),
        ("/api/v1/me/tokens", {"name": NUL}, "name"),
        ("/api/v1/teams", {"name": NUL}, "name"),
        ("/api/v1/auth/token", {"email": "a@b.test", "password": NUL}, "password"),
        (
            "/api/v1/events:import",
            {"events": [{"type": "MeetingObserved", "data": {NUL: 1}}]},
            None,
        ),
    ],
    ids=lambda value: value if isinstance(value, str) and value.startswith("/") else "",
)
def test_a_nul_character_is_422_not_500(
    path: str, body: dict[str, Any], field: str | None, client: FlaskClient, admin: Headers
):
    """PostgreSQL text cannot hold NUL: refused with the field named, never a 500."""
    response = client.post(path, headers=admin, json=body)
    problem = assert_problem(response, 422, *([field] if field else []))
    assert "NUL" in problem["detail"]


def test_a_nul_in_the_idempotency_key_is_400(client: FlaskClient, employee: Headers):
    headers = {**employee, "Idempotency-Key": "a\x00b"}
    response = client.post("/api/v1/actions", headers=headers, json=ACTION)
    assert_problem(response, 400, "Idempotency-Key")


@pytest.mark.parametrize(
    "path",
    ["/api/v1/actions", "/api/v1/auth/token", "/api/v1/pulse", "/api/v1/teams"],
)
def test_malformed_json_is_a_4xx_problem(path: str, client: FlaskClient, admin: Headers):
    response = client.post(
        path,
        headers={**admin, "Idempotency-Key": str(uuid.uuid4())},
        data='{"tactic": ',
        content_type="application/json",
    )
    assert 400 <= response.status_code < 500
    assert_problem(response, response.status_code)


def test_a_body_over_one_mib_is_refused_with_413(client: FlaskClient, employee: Headers):
    note = "x" * ONE_MIB
    response = client.post(
        "/api/v1/actions",
        headers={**employee, "Idempotency-Key": str(uuid.uuid4())},
        json={**ACTION, "note": note},
    )
    assert_problem(response, 413)


# -- Idempotency-Key ------------------------------------------------------------------------------


def test_same_key_and_body_replays_the_first_response(
    client: FlaskClient, store: EventStore, new_person: Callable[..., Person]
):
    person = new_person("platform")
    stream = f"journal-{person.id}"
    headers = {**person.headers, "Idempotency-Key": "log-once"}
    first = client.post("/api/v1/actions", headers=headers, json=ACTION)
    assert first.status_code == 201, first.get_json()
    assert "Idempotent-Replayed" not in first.headers
    # The same body, its keys in another order.
    again = client.post("/api/v1/actions", headers=headers, json=dict(reversed(ACTION.items())))
    assert again.status_code == first.status_code
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert store.stream_version(stream) == 1
    assert [e.event_id for e in store.read_stream(stream)] == [
        uuid.UUID(first.get_json()["event_id"])
    ]


def test_same_key_with_another_body_is_422(
    client: FlaskClient, store: EventStore, new_person: Callable[..., Person]
):
    person = new_person("platform")
    headers = {**person.headers, "Idempotency-Key": "reused"}
    assert client.post("/api/v1/actions", headers=headers, json=ACTION).status_code == 201
    other = client.post("/api/v1/actions", headers=headers, json={**ACTION, "minutes": 11})
    assert_problem(other, 422)
    assert store.stream_version(f"journal-{person.id}") == 1


def test_keys_belong_to_their_caller(
    client: FlaskClient, store: EventStore, new_person: Callable[..., Person]
):
    first, second = new_person("platform"), new_person("platform")
    for person in (first, second):
        response = client.post(
            "/api/v1/actions", headers={**person.headers, "Idempotency-Key": "shared"}, json=ACTION
        )
        assert response.status_code == 201
        assert "Idempotent-Replayed" not in response.headers
        assert store.stream_version(f"journal-{person.id}") == 1


def test_a_retry_after_a_lost_record_writes_nothing_new(
    client: FlaskClient, engine: Engine, store: EventStore, new_person: Callable[..., Person]
):
    """The gateway's record can be lost (crash between append and record): the store's own
    idempotency still gives the retry the same action, event and position."""
    person = new_person("platform")
    headers = {**person.headers, "Idempotency-Key": "crash-in-between"}
    first = client.post("/api/v1/actions", headers=headers, json=ACTION)
    assert first.status_code == 201
    with engine.begin() as conn:
        deleted = conn.execute(
            text("DELETE FROM idempotency_records WHERE actor = :a AND key = :k"),
            {"a": str(person.id), "k": "crash-in-between"},
        )
        assert deleted.rowcount == 1
    retry = client.post("/api/v1/actions", headers=headers, json=ACTION)
    assert retry.status_code == 201
    for name in ("action_id", "event_id", "position"):
        assert retry.get_json()[name] == first.get_json()[name]
    assert store.stream_version(f"journal-{person.id}") == 1


# -- the feedback link ------------------------------------------------------------------------


def test_feedback_link_flow(client: FlaskClient, employee: Headers):
    asked = client.post(
        "/api/v1/feedback-requests",
        headers=employee,
        json={"question": "Was my sprint summary useful?"},
    )
    assert asked.status_code == 201, asked.get_json()
    link = path_of(asked.get_json()["link"])
    anonymous = client.application.test_client()

    shown = anonymous.get(link, headers={"Accept": "application/json"})
    assert shown.status_code == 200
    assert shown.get_json()["question"] == "Was my sprint summary useful?"
    assert shown.get_json()["answered"] is False
    page = anonymous.get(link, headers={"Accept": "text/html"})
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert "Was my sprint summary useful?" in page.get_data(as_text=True)

    answered = anonymous.post(link, json={"useful": True, "comment": "Short and clear."})
    assert answered.status_code == 201, answered.get_json()
    assert_problem(anonymous.post(link, json={"useful": False}), 409)
    assert anonymous.get(link, headers={"Accept": "application/json"}).get_json()["answered"]


def test_the_feedback_page_escapes_the_question(client: FlaskClient, employee: Headers):
    question = '<script>alert("hi")</script> ok?'
    asked = client.post("/api/v1/feedback-requests", headers=employee, json={"question": question})
    page = client.get(path_of(asked.get_json()["link"]), headers={"Accept": "text/html"})
    html = page.get_data(as_text=True)
    assert "<script>" not in html
    assert "&lt;script&gt;" in html


def test_feedback_form_answers_once(client: FlaskClient, employee: Headers):
    asked = client.post("/api/v1/feedback-requests", headers=employee, json={"question": "Ok?"})
    link = path_of(asked.get_json()["link"])
    browser = client.application.test_client()
    page = browser.get(link)
    form = {"csrf_token": csrf_token(page.get_data(as_text=True)), "useful": "yes"}
    assert browser.post(link, data=form).status_code == 201
    again = browser.post(link, data=form)
    assert again.status_code == 409 and again.mimetype == "text/html"


def test_a_form_answer_needs_the_csrf_token(client: FlaskClient, employee: Headers):
    asked = client.post("/api/v1/feedback-requests", headers=employee, json={"question": "Ok?"})
    link = path_of(asked.get_json()["link"])
    refused = client.post(link, data={"useful": "yes"})  # a page's form: answered by a page
    assert refused.status_code == 400 and refused.mimetype == "text/html"
    assert "The form was not sent" in refused.get_data(as_text=True)
    json_refused = client.post(link, data={"useful": "yes"}, headers={"Accept": "application/json"})
    assert_problem(json_refused, 400)


def test_a_tampered_feedback_link_is_404(client: FlaskClient, employee: Headers):
    asked = client.post("/api/v1/feedback-requests", headers=employee, json={"question": "Ok?"})
    link = path_of(asked.get_json()["link"])
    tampered = link[:-3] + ("AAA" if not link.endswith("AAA") else "BBB")
    assert_problem(client.get(tampered, headers={"Accept": "application/json"}), 404)
    assert_problem(client.post(tampered, json={"useful": True}), 404)
    assert client.get(tampered, headers={"Accept": "text/html"}).status_code == 404


def test_an_expired_feedback_link_is_410(app: Flask, org: DemoOrg):
    person = org.people["platform-1"]
    actor = Actor(tenant_id=org.tenant_id, person_id=person, source="test")
    asked = app.extensions["compound"].journal.request_feedback(
        actor, "Still there?", days=1, now=datetime.now(UTC) - timedelta(days=2)
    )
    with app.app_context():
        link = "/f/" + feedback_token(org.tenant_id, person, asked.id)
    client = app.test_client()
    assert_problem(client.get(link, headers={"Accept": "application/json"}), 410)
    assert_problem(client.post(link, json={"useful": True}), 410)
    assert client.get(link, headers={"Accept": "text/html"}).status_code == 410


# -- the anonymous pulse ---------------------------------------------------------------------


def test_one_pulse_per_person_and_week(
    client: FlaskClient, engine: Engine, store: EventStore, new_person: Callable[..., Person]
):
    person = new_person("payments")
    answers = {"workload": 5, "ps2_raise_problems": 6}
    headers = {**person.headers, "Idempotency-Key": "pulse-key"}
    first = client.post("/api/v1/pulse", headers=headers, json={"answers": answers})
    assert first.status_code == 201, first.get_json()
    body = first.get_json()
    assert body["recorded"] is True and "shuffled batch" in body["detail"]
    assert "position" not in body  # nothing is in the log yet: it waits for its batch
    same = client.post("/api/v1/pulse", headers=person.headers, json={"answers": answers})
    assert same.status_code == 201
    assert same.get_json() == body
    changed = client.post(
        "/api/v1/pulse", headers=person.headers, json={"answers": {**answers, "workload": 1}}
    )
    assert_problem(changed, 409)

    # What is stored names nobody: no person id, e-mail or idempotency key in any pulse table.
    with engine.connect() as conn:
        stored = conn.execute(
            text(
                "SELECT (SELECT coalesce(json_agg(w), '[]') FROM pulse_waiting w)::text, "
                "(SELECT coalesce(json_agg(a), '[]') FROM pulse_answered a)::text"
            )
        ).one()
        records = conn.execute(
            text("SELECT count(*) FROM idempotency_records WHERE actor = :a"),
            {"a": str(person.id)},
        ).scalar_one()
    for identifying in (str(person.id), person.email, "pulse-key"):
        assert all(identifying not in text_ for text_ in stored)
    # Nor does the gateway keep an Idempotency-Key record tying the caller to it.
    assert records == 0


# -- logging in, tokens -----------------------------------------------------------------------


def test_wrong_password_is_401(client: FlaskClient, new_person: Callable[..., Person]):
    person = new_person()
    response = client.post(
        "/api/v1/auth/token", json={"email": person.email, "password": "not-the-password"}
    )
    body = assert_problem(response, 401)
    assert "access_token" not in body


def test_repeated_failures_back_off_with_429(
    client: FlaskClient, new_person: Callable[..., Person]
):
    person = new_person()
    wrong = {"email": person.email, "password": "not-the-password"}
    for _ in range(5):
        assert_problem(client.post("/api/v1/auth/token", json=wrong), 401)
    # Even the right password waits now.
    right = {"email": person.email, "password": person.password}
    response = client.post("/api/v1/auth/token", json=right)
    assert_problem(response, 429)
    assert int(response.headers["Retry-After"]) > 0


def test_a_token_from_the_password_works(client: FlaskClient, new_person: Callable[..., Person]):
    person = new_person()
    issued = client.post(
        "/api/v1/auth/token", json={"email": person.email, "password": person.password}
    )
    assert issued.status_code == 200
    body = issued.get_json()
    assert body["token_type"] == "bearer"
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200 and me.get_json()["person_id"] == str(person.id)


def test_personal_access_tokens_work_until_revoked(
    client: FlaskClient, new_person: Callable[..., Person]
):
    person = new_person()
    browser = client.application.test_client()  # a token is minted in a portal session
    log_in(browser, person.email, person.password)
    csrf = {"X-CSRFToken": csrf_token(browser.get("/account").get_data(as_text=True))}
    created = browser.post("/api/v1/me/tokens", headers=csrf, json={"name": "laptop"})
    assert created.status_code == 201, created.get_json()
    token = created.get_json()
    pat = {"Authorization": f"Bearer {token['access_token']}"}
    assert client.get("/api/v1/me", headers=pat).get_json()["person_id"] == str(person.id)
    assert client.post("/api/v1/actions", headers=pat, json=ACTION).status_code == 201

    revoked = client.delete(f"/api/v1/me/tokens/{token['token_id']}", headers=pat)
    assert revoked.status_code == 204
    assert_problem(client.get("/api/v1/me", headers=pat), 401)
    # The other token of the person is untouched.
    assert client.get("/api/v1/me", headers=person.headers).status_code == 200


def test_an_expired_session_token_is_401(
    client: FlaskClient, store: EventStore, org: DemoOrg, new_person: Callable[..., Person]
):
    person = new_person()
    actor = Actor(tenant_id=org.tenant_id, person_id=person.id, source="test")
    _, token = OrganizationCommands(store).create_token(
        actor, "yesterday", kind="session", now=datetime.now(UTC) - timedelta(hours=13)
    )
    assert_problem(client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}), 401)


def test_session_calls_to_the_api_need_the_csrf_token(
    client: FlaskClient, new_person: Callable[..., Person]
):
    """The portal's cookie authenticates API calls too; its writes must carry X-CSRFToken."""
    person = new_person()
    token = csrf_token(client.get("/login").get_data(as_text=True))
    login = {"csrf_token": token, "email": person.email, "password": person.password}
    assert client.post("/login", data=login).status_code == 302
    assert client.get("/api/v1/me").get_json()["person_id"] == str(person.id)
    stale = client.post("/api/v1/actions", headers={"X-CSRFToken": token}, json=ACTION)
    assert_problem(stale, 400)  # the login started a new session: a new CSRF token too
    token = csrf_token(client.get("/account").get_data(as_text=True))
    assert_problem(client.post("/api/v1/actions", json=ACTION), 400)
    forged = client.post("/api/v1/actions", headers={"X-CSRFToken": "forged"}, json=ACTION)
    assert_problem(forged, 400)
    sent = client.post("/api/v1/actions", headers={"X-CSRFToken": token}, json=ACTION)
    assert sent.status_code == 201, sent.get_json()


# -- invitations and the login page ---------------------------------------------------------


def test_invitation_flow(client: FlaskClient, org: DemoOrg, admin: Headers):
    email = f"new-{uuid.uuid4().hex[:10]}@demo.test"
    invited = client.post(
        "/api/v1/invitations",
        headers=admin,
        json={"email": email, "team_id": str(org.teams["payments"])},
    )
    assert invited.status_code == 201, invited.get_json()
    link = path_of(invited.get_json()["link"])

    browser = client.application.test_client()
    page = browser.get(link)
    assert page.status_code == 200
    form = {
        "csrf_token": csrf_token(page.get_data(as_text=True)),
        "display_name": "Nia New",
        "password": "a-long-enough-password",
    }
    joined = browser.post(link, data=form)
    assert joined.status_code == 302
    assert path_of(joined.headers["Location"]) == "/"  # logged in at once

    token = client.post(
        "/api/v1/auth/token", json={"email": email, "password": "a-long-enough-password"}
    )
    assert token.status_code == 200
    me = client.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {token.get_json()['access_token']}"}
    ).get_json()
    assert me["display_name"] == "Nia New"
    assert [t["id"] for t in me["teams"]] == [str(org.teams["payments"])]

    stranger = client.application.test_client()
    form["csrf_token"] = csrf_token(stranger.get("/login").get_data(as_text=True))
    again = stranger.post(link, data={**form, "password": "another-long-password"})
    assert again.status_code == 410  # used: said without taking the form
    refused = client.post(
        "/api/v1/auth/token", json={"email": email, "password": "another-long-password"}
    )
    assert refused.status_code == 401


def test_a_tampered_invitation_link_is_404(client: FlaskClient, org: DemoOrg, admin: Headers):
    invited = client.post(
        "/api/v1/invitations", headers=admin, json={"email": f"t-{uuid.uuid4().hex}@demo.test"}
    )
    link = path_of(invited.get_json()["link"])
    assert client.get(link + "x").status_code == 404


def test_login_page(client: FlaskClient, new_person: Callable[..., Person]):
    person = new_person()
    page = client.get("/login")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert re.search(r'<input[^>]*name="email"', html)
    assert re.search(r'<input[^>]*name="password"', html)
    token = csrf_token(html)

    bad = client.post(
        "/login", data={"csrf_token": token, "email": person.email, "password": "wrong-password"}
    )
    assert bad.status_code == 401
    html = bad.get_data(as_text=True)
    field = re.search(r'<input[^>]*name="password"[^>]*>\s*<p class="error"[^>]*>([^<]+)<', html)
    assert field, "the error shows next to the password field"
    assert re.search(r'<input[^>]*aria-invalid="true"[^>]*name="password"', html) or re.search(
        r'<input[^>]*name="password"[^>]*aria-invalid="true"', html
    )

    good = client.post(
        "/login", data={"csrf_token": token, "email": person.email, "password": person.password}
    )
    assert good.status_code == 302
    assert path_of(good.headers["Location"]) == "/"


def test_the_portal_renders_after_login(client: FlaskClient, new_person: Callable[..., Person]):
    person = new_person()
    token = csrf_token(client.get("/login").get_data(as_text=True))
    login = {"csrf_token": token, "email": person.email, "password": person.password}
    assert client.post("/login", data=login).status_code == 302
    assert client.get("/").status_code == 200


def test_pages_refuse_nul_characters(client: FlaskClient, admin: Headers):
    invited = client.post(
        "/api/v1/invitations", headers=admin, json={"email": f"n-{uuid.uuid4().hex}@demo.test"}
    )
    link = path_of(invited.get_json()["link"])
    token = csrf_token(client.get(link).get_data(as_text=True))
    form = {"csrf_token": token, "display_name": "a\x00b", "password": "long-enough-password"}
    assert client.post(link, data=form).status_code == 422
    login = {"csrf_token": token, "email": "a\x00b@demo.test", "password": "whatever"}
    assert client.post("/login", data=login).status_code == 422

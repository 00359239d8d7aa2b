"""``POST /api/v1/actions/{id}/undo`` and ``GET /api/v1/me/export`` (JSON and CSV)."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient

from tests.api.conftest import Person, assert_problem

pytestmark = pytest.mark.integration


def log(client: FlaskClient, person: Person, note: str | None = None) -> str:
    response = client.post(
        "/api/v1/actions",
        json={"tactic": "relationship_deposit", "minutes": 5, "audience": "team", "note": note},
        headers=person.headers,
    )
    assert response.status_code == 201, response.get_json()
    return str(response.get_json()["action_id"])


def test_undo_within_a_minute_then_never_again(
    client: FlaskClient, new_person: Callable[..., Person]
):
    person, stranger = new_person(), new_person()
    action = log(client, person)
    assert_problem(client.post(f"/api/v1/actions/{action}/undo", headers=stranger.headers), 404)
    undone = client.post(f"/api/v1/actions/{action}/undo", headers=person.headers)
    assert undone.status_code == 200, undone.get_json()
    assert undone.get_json()["action_id"] == action
    assert_problem(client.post(f"/api/v1/actions/{action}/undo", headers=person.headers), 409)
    assert_problem(client.post(f"/api/v1/actions/{uuid.uuid4()}/undo", headers=person.headers), 404)


def test_export_has_my_events_and_no_secrets(
    client: FlaskClient, new_person: Callable[..., Person]
):
    person, other = new_person(), new_person()
    log(client, person, note="thanked Sam for the review")
    log(client, other, note="someone else's note")
    response = client.get("/api/v1/me/export", headers=person.headers)
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    body = response.get_json()
    assert body["person_id"] == str(person.id) and body["format"] == 2
    assert body["profile"]["email"] == person.email
    assert {"PersonInvited", "PersonJoined"} <= {row["event"] for row in body["account"]}
    notes = [action["note"] for action in body["actions"]]
    assert notes == ["thanked Sam for the review"]  # decrypted, and only mine
    text = response.get_data(as_text=True)
    assert "password_hash" not in text and "token_hash" not in text
    assert "position" not in text  # no log position leaves: nothing about other tenants

    as_csv = client.get("/api/v1/me/export?format=csv", headers=person.headers)
    assert as_csv.status_code == 200 and as_csv.mimetype == "text/csv"
    assert as_csv.data.startswith(b"\xef\xbb\xbf")  # a byte-order mark: Excel reads UTF-8
    rows = list(csv.DictReader(io.StringIO(as_csv.get_data(as_text=True).lstrip("\ufeff"))))
    assert [r["note"] for r in rows if r["section"] == "actions"] == notes

    assert_problem(
        client.get("/api/v1/me/export?format=xml", headers=person.headers), 422, "format"
    )
    assert_problem(client.get("/api/v1/me/export"), 401)


def test_self_erasure_ends_api_access(client: FlaskClient, new_person: Callable[..., Person]):
    person = new_person()
    log(client, person, note="private words")
    headers = person.headers
    erased = client.delete(f"/api/v1/people/{person.id}", headers=headers)
    assert erased.status_code == 204, erased.get_data(as_text=True)
    # The erased person can no longer call at all (tokens end with the person).
    assert_problem(client.get("/api/v1/me/export", headers=headers), 401)

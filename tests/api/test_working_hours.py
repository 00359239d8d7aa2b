"""``GET`` and ``PUT /api/v1/me/working-hours``: the defaults, setting them (one event on the
caller's stream, idempotent with a key), per-field validation, and who may call (real
PostgreSQL; tests/api/test_authorization.py covers every caller)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from shared.eventlog import EventStore
from tests.api.conftest import Person, assert_problem

pytestmark = pytest.mark.integration
PATH = "/api/v1/me/working-hours"
HOURS = {
    "start": "08:30",
    "end": "16:45",
    "working_days": ["sun", "mon", "tue", "wed", "thu"],
    "time_zone": "Asia/Jerusalem",
}


def settings_written(store: EventStore, person: uuid.UUID) -> list[dict[str, Any]]:
    """The ``WorkingHoursSet`` events of the person, as the store reads them back (their
    behaviour is stored sealed: tests/api/test_behaviour_erasure.py)."""
    return [e.data for e in store.read_stream(f"person-{person}") if e.type == "WorkingHoursSet"]


def test_defaults_then_set_then_read_back(
    client: FlaskClient, store: EventStore, new_person: Callable[..., Person]
):
    person = new_person()
    got = client.get(PATH, headers=person.headers)
    assert got.status_code == 200
    assert got.get_json() == {
        "start": "09:00",
        "end": "17:00",
        "working_days": ["mon", "tue", "wed", "thu", "fri"],
        "time_zone": "UTC",  # the zone they joined with
        "changed": False,
    }
    put = client.put(PATH, json=HOURS, headers=person.headers)
    assert put.status_code == 200, put.get_json()
    assert put.get_json() == {**HOURS, "working_days": ["mon", "tue", "wed", "thu", "sun"],
                              "changed": True}  # fmt: skip
    assert client.get(PATH, headers=person.headers).get_json() == put.get_json()
    assert settings_written(store, person.id) == [
        {
            "person_id": str(person.id),
            "start_minute": 8 * 60 + 30,
            "end_minute": 16 * 60 + 45,
            "working_days": ["mon", "tue", "wed", "thu", "sun"],
            "time_zone": "Asia/Jerusalem",
        }
    ]


def test_idempotency_key_replays_without_a_second_event(
    client: FlaskClient, store: EventStore, new_person: Callable[..., Person]
):
    person = new_person()
    headers = {**person.headers, "Idempotency-Key": f"hours-{uuid.uuid4()}"}
    first = client.put(PATH, json=HOURS, headers=headers)
    again = client.put(PATH, json=HOURS, headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.get_json() == first.get_json()
    assert len(settings_written(store, person.id)) == 1
    other = client.put(PATH, json={**HOURS, "end": "17:00"}, headers=headers)
    assert_problem(other, 422)
    assert len(settings_written(store, person.id)) == 1


@pytest.mark.parametrize(
    ("change", "fields"),
    [
        ({"start": "17:00", "end": "09:00"}, ["end"]),
        ({"start": "9 am"}, ["start"]),
        ({"end": "25:00"}, ["end"]),
        ({"working_days": []}, ["working_days"]),
        ({"working_days": ["mon", "mon"]}, ["working_days"]),
        ({"working_days": ["someday"]}, ["working_days"]),
        ({"time_zone": "Mars/Olympus_Mons"}, ["time_zone"]),
        ({"time_zone": "Mars/Base", "start": "18:00"}, ["time_zone", "end"]),
        ({"lunch": "12:00"}, ["lunch"]),  # unknown fields are refused
    ],
)
def test_invalid_settings_are_field_errors_and_write_nothing(
    client: FlaskClient,
    store: EventStore,
    new_person: Callable[..., Person],
    change: dict[str, Any],
    fields: list[str],
):
    person = new_person()
    response = client.put(PATH, json={**HOURS, **change}, headers=person.headers)
    assert_problem(response, 422, *fields)
    assert settings_written(store, person.id) == []


def test_a_missing_field_is_named(client: FlaskClient, new_person: Callable[..., Person]):
    person = new_person()
    body = {k: v for k, v in HOURS.items() if k != "time_zone"}
    assert_problem(client.put(PATH, json=body, headers=person.headers), 422, "time_zone")


def test_anonymous_and_revoked_callers_get_401(
    client: FlaskClient, store: EventStore, new_person: Callable[..., Person]
):
    assert_problem(client.get(PATH), 401)
    assert_problem(client.put(PATH, json=HOURS), 401)  # before the body is looked at
    assert_problem(client.put(PATH, json={"start": "x"}), 401)
    bad = {"Authorization": "Bearer not-a-token"}
    assert_problem(client.put(PATH, json=HOURS, headers=bad), 401)


def test_a_session_write_without_csrf_is_refused(
    client: FlaskClient, store: EventStore, new_person: Callable[..., Person]
):
    """With the portal's session cookie (no bearer token) a write needs the CSRF header."""
    person = new_person()
    from tests.portal.conftest import csrf_of

    csrf = csrf_of(client)
    login = {"csrf_token": csrf, "email": person.email, "password": person.password}
    assert client.post("/login", data=login).status_code == 302
    refused = client.put(PATH, json=HOURS)
    assert refused.status_code in (400, 403), refused.get_data(as_text=True)
    assert refused.mimetype == "application/problem+json"
    assert settings_written(store, person.id) == []
    token = csrf_of(client, "/account")
    assert client.put(PATH, json=HOURS, headers={"X-CSRFToken": token}).status_code == 200
    assert len(settings_written(store, person.id)) == 1
    client.post("/logout", data={"csrf_token": token})

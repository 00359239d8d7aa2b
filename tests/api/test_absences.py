"""``/api/v1/me/absences``: declare, list and withdraw; bad days answered 422 naming the
fields, nothing written; another person's absence is not mine to withdraw."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from flask.testing import FlaskClient

from shared.eventlog import EventStore
from shared.projections import runtime
from tests.api.conftest import Person, assert_problem
from tests.api.test_bounds import events_of
from tests.conftest import DemoOrg

pytestmark = pytest.mark.integration
TODAY = datetime.now(UTC).date()


def test_declare_list_and_withdraw(
    client: FlaskClient, store: EventStore, new_person: Callable[..., Person]
):
    person = new_person()
    body = {"starts_on": TODAY.isoformat(), "ends_on": (TODAY + timedelta(days=55)).isoformat()}
    declared = client.post("/api/v1/me/absences", json=body, headers=person.headers)
    assert declared.status_code == 201, declared.get_json()
    absence = declared.get_json()
    runtime(store).catch_up("capital")
    listed = client.get(
        f"/api/v1/me/absences?min_position={absence['position']}", headers=person.headers
    ).get_json()
    assert listed["absences"] == [{"absence_id": absence["absence_id"], **body}]
    capital = client.get("/api/v1/me/capital", headers=person.headers).get_json()
    assert capital["leave"] == [body]
    gone = client.delete(f"/api/v1/me/absences/{absence['absence_id']}", headers=person.headers)
    assert gone.status_code == 200, gone.get_json()
    assert_problem(
        client.delete(f"/api/v1/me/absences/{absence['absence_id']}", headers=person.headers), 404
    )
    runtime(store).catch_up("capital")
    assert client.get("/api/v1/me/absences", headers=person.headers).get_json()["absences"] == []


@pytest.mark.parametrize(
    ("starts_on", "ends_on", "fields"),
    [
        (TODAY, TODAY - timedelta(days=1), ("ends_on",)),
        (TODAY, TODAY + timedelta(days=367), ("ends_on",)),
        (TODAY + timedelta(days=368), TODAY + timedelta(days=369), ("starts_on", "ends_on")),
        (date(1, 1, 1), TODAY, ("starts_on",)),
        (TODAY, date(9999, 12, 31), ("ends_on",)),
        (date(1, 1, 1), date(9999, 12, 31), ("starts_on", "ends_on")),
    ],
)
def test_bad_days_are_refused_naming_the_fields(
    client: FlaskClient,
    store: EventStore,
    org: DemoOrg,
    new_person: Callable[..., Person],
    starts_on: date,
    ends_on: date,
    fields: tuple[str, ...],
):
    person = new_person()
    before = events_of(store, org.tenant_id)
    body = {"starts_on": starts_on.isoformat(), "ends_on": ends_on.isoformat()}
    assert_problem(
        client.post("/api/v1/me/absences", json=body, headers=person.headers), 422, *fields
    )
    assert events_of(store, org.tenant_id) == before


def test_malformed_bodies_and_others_absences(
    client: FlaskClient, new_person: Callable[..., Person]
):
    me, other = new_person(), new_person()
    for body in ({"starts_on": "2026-02-30", "ends_on": "2026-03-01"}, {"starts_on": "x"}, {}):
        assert_problem(client.post("/api/v1/me/absences", json=body, headers=me.headers), 422)
    body = {"starts_on": TODAY.isoformat(), "ends_on": TODAY.isoformat()}
    theirs = client.post("/api/v1/me/absences", json=body, headers=other.headers).get_json()
    assert_problem(
        client.delete(f"/api/v1/me/absences/{theirs['absence_id']}", headers=me.headers), 404
    )
    assert_problem(client.delete(f"/api/v1/me/absences/{uuid.uuid4()}", headers=me.headers), 404)

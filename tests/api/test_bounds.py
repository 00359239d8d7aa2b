"""Bounds at every boundary, through the HTTP API (docs/api.md, "Bounds"; issue 18): times,
weeks, meetings and zones outside an organisation's span get 422 naming the field, and nothing
is appended; the edges inside it are accepted (real PostgreSQL)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text

from shared.eventlog import EventStore
from tests.api.conftest import Headers, Person, assert_problem
from tests.conftest import DemoOrg

pytestmark = pytest.mark.integration


def events_of(store: EventStore, tenant: uuid.UUID) -> int:
    with store.engine.connect() as conn:
        return int(
            conn.execute(
                text("SELECT count(*) FROM events WHERE tenant_id = :t"), {"t": tenant}
            ).scalar_one()
        )


def meeting(person: uuid.UUID, start: str, end: str) -> dict[str, Any]:
    return {
        "type": "MeetingObserved",
        "data": {
            "person_id": str(person),
            "connection_id": str(uuid.uuid5(person, "bounds")),
            "meeting_key": uuid.uuid4().hex,
            "start": start,
            "end": end,
            "attendee_count": 3,
            "one_on_one": False,
            "with_manager": False,
            "organizer_is_self": False,
            "response_status": "accepted",
            "recurring": False,
        },
        "occurred_at": start,
    }


def action(person: uuid.UUID, occurred_at: str | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {
        "type": "MicroActionLogged",
        "data": {
            "action_id": str(uuid.uuid4()),
            "person_id": str(person),
            "tactic": "learning_bit",
            "minutes": 10,
            "audience": "team",
        },
    }
    if occurred_at is not None:
        item["occurred_at"] = occurred_at
    return item


def plan(person: uuid.UUID, week: str) -> dict[str, Any]:
    data = {"person_id": str(person), "week": week, "tactics": ["learning_bit"]}
    return {"type": "WeeklyPlanSet", "data": data}


def refused(
    client: FlaskClient,
    store: EventStore,
    org: DemoOrg,
    call: Callable[[], Any],
    *fields: str,
) -> dict[str, Any]:
    """``call`` answers 422 naming ``fields``, and the organisation's log did not grow."""
    before = events_of(store, org.tenant_id)
    problem = assert_problem(call(), 422, *fields)
    assert events_of(store, org.tenant_id) == before
    return problem


@pytest.fixture
def admin(headers_of: Callable[[str], Headers]) -> Headers:
    return headers_of("admin")


def test_the_far_future_meeting_in_kiritimati_is_refused(
    client: FlaskClient, store: EventStore, org: DemoOrg, admin: Headers
):
    """The issue's first attack: an admin in UTC+14 imports a meeting in year 9999."""
    hours = {
        "start": "09:00",
        "end": "17:00",
        "working_days": ["mon"],
        "time_zone": "Pacific/Kiritimati",
    }
    assert client.put("/api/v1/me/working-hours", json=hours, headers=admin).status_code == 200
    item = meeting(org.admin, "9999-12-31T20:00:00+00:00", "9999-12-31T21:00:00+00:00")
    body = {"events": [action(org.admin), item]}
    problem = refused(
        client,
        store,
        org,
        lambda: client.post("/api/v1/events:import", json=body, headers=admin),
        "events.1.occurred_at",
        "events.1.data.start",
        "events.1.data.end",
    )
    assert "events.0.type" not in problem["errors"]  # the valid item is not blamed


def test_a_pulse_for_year_one_is_refused(
    client: FlaskClient, store: EventStore, org: DemoOrg, headers_of: Callable[[str], Headers]
):
    """The issue's second attack: a pulse answer for 0001-W01."""
    body = {"answers": {"workload": 3}, "week": "0001-W01"}
    employee = headers_of("platform-1")
    refused(
        client,
        store,
        org,
        lambda: client.post("/api/v1/pulse", json=body, headers=employee),
        "week",
    )


@pytest.mark.parametrize("week", ["0001-W01", "1999-W52", "9999-W52", "2025-W53", "2027-W10"])
def test_pulse_weeks_outside_the_span_are_refused(
    client: FlaskClient,
    store: EventStore,
    org: DemoOrg,
    new_person: Callable[..., Person],
    week: str,
):
    person = new_person()
    body = {"answers": {"workload": 3}, "week": week}
    refused(
        client,
        store,
        org,
        lambda: client.post("/api/v1/pulse", json=body, headers=person.headers),
        "week",
    )


def test_a_pulse_two_years_before_the_organisation_is_refused_one_now_accepted(
    client: FlaskClient, store: EventStore, org: DemoOrg, new_person: Callable[..., Person]
):
    person = new_person()
    now = datetime.now(UTC)
    too_old = (now - timedelta(days=745)).isocalendar()
    week = f"{too_old.year:04d}-W{too_old.week:02d}"
    body = {"answers": {"workload": 3}, "week": week}
    refused(
        client,
        store,
        org,
        lambda: client.post("/api/v1/pulse", json=body, headers=person.headers),
        "week",
    )
    inside = (now - timedelta(days=700)).isocalendar()
    body["week"] = f"{inside.year:04d}-W{inside.week:02d}"
    closed = client.post("/api/v1/pulse", json=body, headers=person.headers)
    assert "closed" in assert_problem(closed, 422, "week")["detail"]  # its period has closed
    body["week"] = f"{now.isocalendar().year:04d}-W{now.isocalendar().week:02d}"
    assert client.post("/api/v1/pulse", json=body, headers=person.headers).status_code == 201


@pytest.mark.parametrize("week", ["0001-W01", "9999-W52", "2025-W53", "2027-W40"])
def test_plan_weeks_outside_the_span_are_refused(
    client: FlaskClient,
    store: EventStore,
    org: DemoOrg,
    new_person: Callable[..., Person],
    week: str,
):
    person = new_person()
    body = {"actions": [{"tactic": "learning_bit"}]}
    refused(
        client,
        store,
        org,
        lambda: client.post(f"/api/v1/plans/{week}", json=body, headers=person.headers),
        "isoweek",
    )


@pytest.mark.parametrize(
    "moment", ["0001-01-01T00:00:00+00:00", "9999-12-31T20:00:00+00:00", "1970-01-01T00:00:00Z"]
)
def test_import_times_at_the_extremes_are_refused(
    client: FlaskClient, store: EventStore, org: DemoOrg, admin: Headers, moment: str
):
    body = {"events": [action(org.admin, moment)]}
    refused(
        client,
        store,
        org,
        lambda: client.post("/api/v1/events:import", json=body, headers=admin),
        "events.0.occurred_at",
    )


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        (timedelta(hours=1), timedelta(hours=1), "events.0.data.end"),  # not before its end
        (timedelta(hours=2), timedelta(hours=1), "events.0.data.end"),  # ends before it starts
        (timedelta(0), timedelta(hours=24, seconds=1), "events.0.data.end"),  # longer than a day
        (timedelta(weeks=5, days=1), timedelta(weeks=5, days=1, hours=1), "events.0.data.start"),
        (-timedelta(days=800), -timedelta(days=800) + timedelta(hours=1), "events.0.data.start"),
    ],
)
def test_imported_meetings_outside_the_rules_are_refused(
    client: FlaskClient,
    store: EventStore,
    org: DemoOrg,
    admin: Headers,
    start: timedelta,
    end: timedelta,
    field: str,
):
    base = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)
    item = meeting(org.admin, (base + start).isoformat(), (base + end).isoformat())
    item["occurred_at"] = base.isoformat()
    body = {"events": [item]}
    refused(
        client,
        store,
        org,
        lambda: client.post("/api/v1/events:import", json=body, headers=admin),
        field,
    )


@pytest.mark.parametrize(
    ("item", "field"),
    [
        (lambda p: plan(p, "0001-W01"), "events.0.data.week"),
        (lambda p: plan(p, "2025-W53"), "events.0.data.week"),
        (lambda p: plan(p, "2027-W40"), "events.0.data.week"),
        (
            lambda p: {
                "type": "ExperimentStarted",
                "data": {
                    "experiment_id": str(uuid.uuid4()),
                    "person_id": str(p),
                    "tactic": "learning_bit",
                    "starts_on": "9999-01-01",
                },
            },
            "events.0.data.starts_on",
        ),
    ],
)
def test_imported_weeks_and_dates_outside_the_span_are_refused(
    client: FlaskClient,
    store: EventStore,
    org: DemoOrg,
    admin: Headers,
    item: Callable[[uuid.UUID], dict[str, Any]],
    field: str,
):
    body = {"events": [item(org.admin)]}
    refused(
        client,
        store,
        org,
        lambda: client.post("/api/v1/events:import", json=body, headers=admin),
        field,
    )


def test_unknown_time_zones_are_refused(
    client: FlaskClient, store: EventStore, org: DemoOrg, new_person: Callable[..., Person]
):
    person = new_person()
    hours = {"start": "09:00", "end": "17:00", "working_days": ["mon"], "time_zone": "Mars/Olympus"}
    refused(
        client,
        store,
        org,
        lambda: client.put("/api/v1/me/working-hours", json=hours, headers=person.headers),
        "time_zone",
    )


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Pacific/Niue", "Asia/Kathmandu"])
def test_extreme_but_real_zones_are_accepted(
    client: FlaskClient, new_person: Callable[..., Person], zone: str
):
    person = new_person()
    hours = {"start": "09:00", "end": "17:00", "working_days": ["mon"], "time_zone": zone}
    response = client.put("/api/v1/me/working-hours", json=hours, headers=person.headers)
    assert response.status_code == 200, response.get_json()


def test_the_edges_of_the_span_are_accepted(
    client: FlaskClient, store: EventStore, org: DemoOrg, admin: Headers
):
    """Exactly two years back, exactly a day ahead, a 24-hour meeting, a meeting at the end of
    the sync window (4 weeks ahead), this week's plan: all in one import, all written."""
    now = datetime.now(UTC).replace(microsecond=0)
    this_week = now.isocalendar()
    in_four_weeks = now + timedelta(weeks=4)
    body = {
        "events": [
            action(org.admin, (now - timedelta(days=730)).isoformat()),
            action(org.admin, (now + timedelta(days=1)).isoformat()),
            meeting(
                org.admin,
                (now - timedelta(days=2)).isoformat(),
                (now - timedelta(days=1)).isoformat(),
            ),
            meeting(
                org.admin,
                in_four_weeks.isoformat(),
                (in_four_weeks + timedelta(hours=1)).isoformat(),
            ),
            plan(org.admin, f"{this_week.year:04d}-W{this_week.week:02d}"),
        ]
    }
    before = events_of(store, org.tenant_id)
    response = client.post("/api/v1/events:import", json=body, headers=admin)
    assert response.status_code == 201, response.get_json()
    assert events_of(store, org.tenant_id) == before + 5

"""Hypothesis fuzzing of ``POST /api/v1/events:import`` (issue 18): batches valid by schema
but extreme in value (year 1 and 9999, the span's very edges, UTC+14, UTC-12, UTC+5:45, week
53 of years with and without one, the longest texts and meetings, ids shared between items and
streams, duplicates, retries of the same batch) never get a 5xx; afterwards every projection
catches up without stopping, and another organisation reads its own numbers as before (real
PostgreSQL and Redis)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.domain.tactics import AUDIENCES, OUTCOME_KINDS, TACTICS
from shared.eventlog import EventStore
from shared.projections import runtime
from shared.projections.quarantine import quarantined
from tests.api.conftest import Headers, bearer
from tests.conftest import DemoOrg, make_org

pytestmark = pytest.mark.integration

ZONES = [
    UTC,
    ZoneInfo("Pacific/Kiritimati"),
    ZoneInfo("Pacific/Niue"),
    ZoneInfo("Asia/Kathmandu"),
    timezone(timedelta(hours=14)),
    timezone(-timedelta(hours=12)),
]
NOW = datetime.now(UTC)
EDGES = [
    NOW - timedelta(days=730, seconds=1),  # the span's start, either side
    NOW - timedelta(days=729, hours=23),
    NOW + timedelta(days=1, seconds=-1),  # the span's end, either side
    NOW + timedelta(days=1, seconds=1),
    NOW + timedelta(weeks=5),  # beyond the calendar sync's window
    datetime(2000, 1, 1, tzinfo=UTC),  # the catalogue's window
    datetime(2099, 12, 31, 23, 59, tzinfo=UTC),
]

NOT_NUL = st.characters(exclude_characters="\x00")  # the API refuses NUL (422)


def _moment() -> st.SearchStrategy[datetime]:
    """Mostly times an organisation may write (so whole batches get in), else extremes."""
    anywhere = st.datetimes(
        min_value=datetime(1, 1, 2),
        max_value=datetime(9999, 12, 30),
        timezones=st.sampled_from(ZONES),
    )
    edge = st.tuples(st.sampled_from(EDGES), st.sampled_from(ZONES)).map(
        lambda pair: pair[0].astimezone(pair[1])
    )
    recent = st.datetimes(
        min_value=(NOW - timedelta(days=700)).replace(tzinfo=None),
        max_value=(NOW - timedelta(days=1)).replace(tzinfo=None),
        timezones=st.sampled_from(ZONES),
    )
    return st.one_of(recent, recent, recent, edge, anywhere)


MOMENTS = _moment().map(lambda m: m.isoformat())
MEETING_TIMES = st.tuples(_moment(), st.integers(-60, 25 * 60)).map(
    lambda pair: (
        (pair[0].isoformat(), (pair[0] + timedelta(minutes=pair[1])).isoformat())
        if pair[0].year < 9999
        else (pair[0].isoformat(), pair[0].isoformat())
    )
)
THIS_WEEK = st.integers(0, 100).map(lambda n: NOW.date() - timedelta(weeks=n))
WEEKS = st.one_of(
    THIS_WEEK.map(lambda d: f"{d.isocalendar().year}-W{d.isocalendar().week:02d}"),
    THIS_WEEK.map(lambda d: f"{d.isocalendar().year}-W{d.isocalendar().week:02d}"),
    st.sampled_from(["0001-W01", "9999-W52", "2025-W53", "2026-W53", "2020-W53", "2099-W53"]),
    st.builds(lambda y, w: f"{y:04d}-W{w:02d}", st.integers(1, 9999), st.integers(1, 53)),
)
DAYS = st.one_of(
    THIS_WEEK,
    THIS_WEEK,
    st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)),
    st.sampled_from([NOW.date() + timedelta(days=365), NOW.date() - timedelta(days=731)]),
).map(date.isoformat)
TEXTS = st.one_of(st.none(), st.text(max_size=20), st.just("ü" * 300), st.just("x" * 5000))
MINUTES = st.one_of(st.integers(1, 480), st.sampled_from([1, 480, 0, 481, 2**31, -(2**63)]))
TACTIC = st.sampled_from(sorted(TACTICS))


def _items(people: list[str], ids: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    person, ident = st.sampled_from(people), st.sampled_from(ids)

    def item(event_type: str, **data: Any) -> st.SearchStrategy[dict[str, Any]]:
        body = st.fixed_dictionaries({"person_id": person, **data})
        return st.fixed_dictionaries(
            {"type": st.just(event_type), "data": body}, optional={"occurred_at": MOMENTS}
        )

    meeting = {
        "connection_id": ident,
        "meeting_key": st.text(min_size=1, max_size=128),
    }
    return st.one_of(
        item("MicroActionLogged", action_id=ident, tactic=TACTIC, minutes=MINUTES,
             audience=st.sampled_from(AUDIENCES), note=TEXTS),
        item("OutcomeRecorded", outcome_id=ident, kind=st.sampled_from(OUTCOME_KINDS),
             action_id=st.one_of(st.none(), ident), note=TEXTS),
        item("WeeklyPlanSet", week=WEEKS, tactics=st.lists(TACTIC, min_size=1, max_size=6)),
        item("ExperimentStarted", experiment_id=ident, tactic=TACTIC,
             weeks=st.integers(1, 12), starts_on=DAYS, hypothesis=TEXTS),
        item("ExperimentEnded", experiment_id=ident, reflection=TEXTS),
        item("FeedbackRequested", request_id=ident, question=st.text(min_size=1, max_size=300),
             expires_at=MOMENTS),
        item("FeedbackGiven", request_id=ident, useful=st.booleans(), comment=TEXTS),
        item("MeetingObserved", **meeting, times=MEETING_TIMES,
             attendee_count=st.sampled_from([0, 2, 2**31, 2**63]), one_on_one=st.booleans(),
             with_manager=st.booleans(), organizer_is_self=st.booleans(),
             response_status=st.just("accepted"), recurring=st.booleans()).map(_meeting),
        item("MeetingCancelled", **meeting),
    )  # fmt: skip


def assert_every_projection_applies_all(store: EventStore, *orgs: DemoOrg) -> None:
    """Every projection catches up without stopping, and none holds back an event of
    ``orgs`` (what an import let in, every projection can apply)."""
    rt = runtime(store)
    for name in rt.projections:
        rt.catch_up(name)
    failed = [(s.name, s.last_error) for s in rt.status() if s.status == "failed"]
    assert not failed, failed
    with store.engine.connect() as conn:
        waiting = [q for org in orgs for q in quarantined(conn, org.tenant_id)]
    assert not waiting, waiting


def _meeting(item: dict[str, Any]) -> dict[str, Any]:
    """A generated meeting's ``times`` pair as its start and end."""
    start, end = item["data"].pop("times")
    item["data"].update(start=start, end=end)
    return item


@pytest.fixture(scope="module")
def hostile(store: EventStore) -> DemoOrg:
    """The organisation sending the batches."""
    return make_org(store, people_per_team=1)


def test_extreme_imports_never_fail_and_stop_no_projection(
    client: FlaskClient, store: EventStore, org: DemoOrg, hostile: DemoOrg
) -> None:
    rt = runtime(store)
    rt.ensure()
    victim = bearer(store, org, org.people["platform-1"])
    logged = client.post(
        "/api/v1/actions",
        json={"tactic": "learning_bit", "minutes": 15, "audience": "team"},
        headers=victim,
    )
    assert logged.status_code == 201
    admin: Headers = bearer(store, hostile, hostile.admin)
    people = [str(p) for p in hostile.people.values()] * 3 + [str(org.people["platform-1"])]
    ids = [str(uuid.uuid4()) for _ in range(3)] + [logged.get_json()["action_id"]]
    statuses: list[int] = []

    @settings(
        max_examples=80,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(batch=st.lists(_items(people, ids), min_size=1, max_size=4), retry=st.booleans())
    def attack(batch: list[dict[str, Any]], retry: bool) -> None:
        if len(batch) > 1 and retry:
            batch = [*batch, batch[0]]  # a duplicate inside the batch
        headers = {**admin, "Idempotency-Key": uuid.uuid4().hex}
        first = client.post("/api/v1/events:import", json={"events": batch}, headers=headers)
        assert first.status_code < 500, first.get_data(as_text=True)[:500]
        statuses.append(first.status_code)
        if retry:
            again = client.post("/api/v1/events:import", json={"events": batch}, headers=headers)
            assert again.status_code == first.status_code
            assert again.get_json() == first.get_json()

    attack()
    assert 201 in statuses and 422 in statuses, statuses  # both sides were reached

    assert_every_projection_applies_all(store, org, hostile)
    capital = client.get("/api/v1/me/capital", headers=victim)
    assert capital.status_code == 200


def _edge_items(people: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    """Items every field of which lies inside the span, at its edges: accepted, projected."""
    person = st.sampled_from(people)
    fresh = st.builds(lambda: str(uuid.uuid4()))  # new each time (examples repeat uuids())
    inside = st.one_of(
        st.sampled_from([NOW - timedelta(days=729, hours=23), NOW - timedelta(hours=1), NOW]),
        st.datetimes(
            min_value=(NOW - timedelta(days=729)).replace(tzinfo=None),
            max_value=NOW.replace(tzinfo=None),
            timezones=st.just(UTC),
        ),
    )
    zoned = st.tuples(inside, st.sampled_from(ZONES)).map(lambda p: p[0].astimezone(p[1]))
    week = inside.map(lambda m: f"{m.isocalendar().year}-W{m.isocalendar().week:02d}")
    return st.one_of(
        st.fixed_dictionaries({
            "type": st.just("MicroActionLogged"),
            "data": st.fixed_dictionaries({
                "person_id": person, "action_id": fresh, "tactic": TACTIC,
                "minutes": st.sampled_from([1, 480]), "audience": st.sampled_from(AUDIENCES),
                "note": st.sampled_from([None, "n" * 2000]),
            }),
            "occurred_at": zoned.map(datetime.isoformat),
        }),
        st.fixed_dictionaries({
            "type": st.just("MeetingObserved"),
            "data": st.fixed_dictionaries({
                "person_id": person, "connection_id": fresh,
                "meeting_key": st.text(NOT_NUL, min_size=1, max_size=128),
                "times": st.tuples(zoned, st.sampled_from([1, 60, 24 * 60])).map(
                    lambda p: (p[0].isoformat(), (p[0] + timedelta(minutes=p[1])).isoformat())
                ),
                "attendee_count": st.sampled_from([0, 1, 2**31, 2**63 - 1]),
                "one_on_one": st.booleans(), "with_manager": st.booleans(),
                "organizer_is_self": st.booleans(), "response_status": st.just("declined"),
                "recurring": st.booleans(),
            }),
        }).map(_meeting),
        st.fixed_dictionaries({
            "type": st.just("WeeklyPlanSet"),
            "data": st.fixed_dictionaries({
                "person_id": person, "week": week,
                "tactics": st.lists(TACTIC, min_size=6, max_size=6),
            }),
        }),
        st.fixed_dictionaries({
            "type": st.just("ExperimentStarted"),
            "data": st.fixed_dictionaries({
                "person_id": person, "experiment_id": fresh, "tactic": TACTIC,
                "weeks": st.sampled_from([1, 12]),
                "starts_on": inside.map(lambda m: m.date().isoformat()),
            }),
        }),
    )  # fmt: skip


def test_imports_at_the_span_edges_are_accepted_and_projected(
    client: FlaskClient, store: EventStore, hostile: DemoOrg
) -> None:
    rt = runtime(store)
    rt.ensure()
    admin = bearer(store, hostile, hostile.admin)
    people = [str(p) for p in hostile.people.values()]

    @settings(
        max_examples=30,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(batch=st.lists(_edge_items(people), min_size=1, max_size=5))
    def inside(batch: list[dict[str, Any]]) -> None:
        response = client.post("/api/v1/events:import", json={"events": batch}, headers=admin)
        assert response.status_code == 201, response.get_data(as_text=True)[:500]

    inside()
    assert_every_projection_applies_all(store, hostile)

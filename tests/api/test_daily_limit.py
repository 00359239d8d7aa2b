"""The daily volume limit (issue #19, "Bad input"): beyond ``COMPOUND_DAILY_ACTION_LIMIT``
actions per person and UTC day, logging is refused with 429 problem+json naming the limit,
and nothing is written; also for the import; a retry of a written request still replays."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

from shared.eventlog import EventStore
from tests.api.conftest import Headers, Person, assert_problem
from tests.api.test_bounds import action, events_of
from tests.conftest import DemoOrg

pytestmark = pytest.mark.integration
ACTION = {"tactic": "learning_bit", "minutes": 10, "audience": "team"}


@pytest.fixture(autouse=True)
def limit_of_three(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPOUND_DAILY_ACTION_LIMIT", "3")


@pytest.fixture
def admin(headers_of: Callable[[str], Headers]) -> Headers:
    return headers_of("admin")


def post(client: FlaskClient, person: Person, **extra: Any) -> Any:
    headers = {**person.headers, **extra.pop("headers", {})}
    return client.post("/api/v1/actions", headers=headers, json={**ACTION, **extra})


def test_the_action_beyond_the_limit_is_refused_with_429(
    client: FlaskClient, store: EventStore, org: DemoOrg, new_person: Callable[..., Person]
):
    person = new_person()
    for _ in range(3):
        assert post(client, person).status_code == 201
    before = events_of(store, org.tenant_id)
    problem = assert_problem(post(client, person), 429, "occurred_at")
    assert "3 actions per person per day" in problem["detail"]
    assert events_of(store, org.tenant_id) == before
    yesterday = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    assert post(client, person, occurred_at=yesterday).status_code == 201  # another day


def test_a_retry_of_a_written_action_replays_at_the_limit(
    client: FlaskClient, new_person: Callable[..., Person]
):
    person = new_person()
    key = {"Idempotency-Key": f"limit-{uuid.uuid4()}"}
    first = post(client, person, headers=key)
    for _ in range(2):
        assert post(client, person).status_code == 201
    again = post(client, person, headers=key)
    assert again.status_code in (200, 201), again.get_json()
    assert again.get_json()["action_id"] == first.get_json()["action_id"]


def test_an_import_beyond_the_limit_writes_nothing(
    client: FlaskClient,
    store: EventStore,
    org: DemoOrg,
    admin: Headers,
    new_person: Callable[..., Person],
):
    person, other = new_person(), new_person()
    day = (datetime.now(UTC) - timedelta(days=2)).replace(hour=10).isoformat()
    assert post(client, person, occurred_at=day).status_code == 201
    body = {"events": [action(other.id, day)] + [action(person.id, day) for _ in range(3)]}
    before = events_of(store, org.tenant_id)
    problem = assert_problem(
        client.post("/api/v1/events:import", json=body, headers=admin), 429, "events"
    )
    assert "3 actions" in problem["detail"]
    assert events_of(store, org.tenant_id) == before  # not even the other person's
    body = {"events": [action(person.id, day) for _ in range(2)]}
    assert client.post("/api/v1/events:import", json=body, headers=admin).status_code in (
        200,
        201,
    )


def test_a_week_within_the_limit_reads_no_action(
    client: FlaskClient, new_person: Callable[..., Person], monkeypatch: pytest.MonkeyPatch
):
    """The check counts the week from the ``occurred_at`` column; the actions themselves
    (their exact times sealed) are read only once the week holds more than the limit."""
    person = new_person()
    reads: list[int] = []
    original = EventStore.read_positions

    def counted(self: EventStore, *args: Any, **kwargs: Any) -> Any:
        reads.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(EventStore, "read_positions", counted)
    for _ in range(3):
        assert post(client, person).status_code == 201
    assert reads == []  # the week holds at most 3: within the limit of 3 per day
    assert post(client, person).status_code == 429  # it would hold 4: days are counted
    assert reads


def test_an_action_within_the_limit_counts_its_week_in_its_append(
    client: FlaskClient, new_person: Callable[..., Person], monkeypatch: pytest.MonkeyPatch
):
    """The week's count rides on the append's statement (EventStore.append_capped): the
    separate count runs only once the week is at the limit, and still refuses then."""
    from shared.commands import volume

    person = new_person()
    counts: list[int] = []
    original = volume.logged_per_week

    def counted(*args: Any, **kwargs: Any) -> Any:
        counts.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(volume, "logged_per_week", counted)
    for _ in range(3):
        assert post(client, person).status_code == 201
    assert counts == []
    assert post(client, person).status_code == 429
    assert counts == [1]

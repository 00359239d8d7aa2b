"""Pulses no one can link (issue #17, attack 6 and the first half of 8).

The attacks, as an operator holding the database, the master keys and ``COMPOUND_SECRET_KEY``:

* **by key**: the old ``responder_hash`` was HMAC(secret, person, team, week): trying every
  person of ``people`` linked every answer. Now the hash is keyed by the period's key,
  destroyed at close, and nothing else stored names a person;
* **by position and time**: an answer was appended at once, next to the same person's
  action. Now answers wait, sealed, and enter the log in shuffled batches (k of a team, or at
  close), dated the answered week's Monday.

Also: only members answer (a manager answering the team they lead made respondents exceed
members), retries, and a restart with waiting answers loses nothing.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine, text

from shared.commands import Actor, JournalCommands
from shared.domain.errors import InvalidInput
from shared.domain.weeks import iso_week_of, pulse_period
from shared.eventlog import EventStore, KeyRing, RecordedEvent
from shared.pulses import PulseVault
from shared.security import keyed_hash
from shared.settings import Settings
from tests.api.conftest import assert_problem, bearer
from tests.conftest import TEST_SECRET, DemoOrg, make_org
from workers.scheduler import close_pulse_periods

pytestmark = pytest.mark.integration

MEMBERS = 6  # k = 5 (the test settings' COMPOUND_K): one batch of 5 at once, 1 left to wait
ACTION = {"tactic": "learning_bit", "minutes": 10, "audience": "private"}


def answers_of(i: int) -> dict[str, int]:
    """A distinct answer per member, to tell them apart in the log."""
    return {
        "workload": 1 + i % 7,
        "ps2_raise_problems": 1 + (i * 3) % 7,
        "ps4_safe_to_take_risk": 1 + i // 7,
    }


@pytest.fixture
def team(store: EventStore) -> tuple[DemoOrg, list[uuid.UUID], dict[uuid.UUID, dict[str, str]]]:
    """An organisation of this test alone: six members in ``platform`` with their headers."""
    org = make_org(store, people_per_team=MEMBERS)
    members = [org.people[f"platform-{i}"] for i in range(1, MEMBERS + 1)]
    return org, members, {m: bearer(store, org, m) for m in members}


def pulse_events(store: EventStore, org: DemoOrg) -> list[RecordedEvent]:
    week = iso_week_of(datetime.now(UTC))
    return store.read_stream(f"pulse-{org.teams['platform']}-{week}")


def answer_everyone(
    client: FlaskClient, members: list[uuid.UUID], headers: dict[uuid.UUID, dict[str, str]]
) -> dict[uuid.UUID, int]:
    """Each member logs an action and at once answers the pulse: the position of each action."""
    actions = {}
    for i, member in enumerate(members):
        logged = client.post("/api/v1/actions", headers=headers[member], json=ACTION)
        assert logged.status_code == 201
        actions[member] = logged.get_json()["event_id"]
        answered = client.post(
            "/api/v1/pulse", headers=headers[member], json={"answers": answers_of(i)}
        )
        assert answered.status_code == 201, answered.get_json()
        assert answered.get_json()["recorded"] is True
    return actions


def close_now(store: EventStore, org: DemoOrg) -> tuple[int, int]:
    """What the scheduler does once the period has ended (``compound scheduler``), for this
    test's organisation alone (other tests answer the current period of theirs)."""
    period = pulse_period(iso_week_of(datetime.now(UTC)), 1)
    with store.engine.begin() as conn:
        return 1, PulseVault(store).close(conn, org.tenant_id, period)


def operator_candidates(org: DemoOrg, master_key: str) -> set[str]:
    """Every hash an operator can compute from the database and every key they hold."""
    week = iso_week_of(datetime.now(UTC))
    secrets = [TEST_SECRET, master_key]
    people = list(org.people.values())
    return {
        keyed_hash(secret, label, str(person), str(team), when)
        for secret in secrets
        for label in ("pulse", "responder", "answered")
        for person in people
        for team in org.teams.values()
        for when in (week, pulse_period(week, 1))
    }


def test_an_operator_with_every_key_cannot_link_answers_after_close(
    client: FlaskClient,
    store: EventStore,
    engine: Engine,
    master_key: str,
    team: tuple[DemoOrg, list[uuid.UUID], dict[uuid.UUID, dict[str, str]]],
):
    org, members, headers = team
    week = iso_week_of(datetime.now(UTC))
    # The leak, on the raw computation of before: HMAC(secret, person, team, week) is
    # reproducible by whoever holds the secret and the people table.
    old = keyed_hash(TEST_SECRET, "pulse", str(members[0]), str(org.teams["platform"]), week)
    assert old in operator_candidates(org, master_key)

    actions = answer_everyone(client, members, headers)
    batch = pulse_events(store, org)
    assert len(batch) == 5  # k answers waited: they entered the log together, not one by one
    closed, released = close_now(store, org)
    assert (closed, released) >= (1, 1)
    events = pulse_events(store, org)
    assert len(events) == MEMBERS
    assert Counter(json.dumps(e.data["answers"], sort_keys=True) for e in events) == Counter(
        json.dumps(answers_of(i), sort_keys=True) for i in range(MEMBERS)
    )

    # By key: no hash an operator can compute matches, and no key of the period is left.
    candidates = operator_candidates(org, master_key)
    assert not {e.data["responder_hash"] for e in events} & candidates
    with engine.connect() as conn:
        left = conn.execute(
            text(
                "SELECT (SELECT count(*) FROM pulse_period_keys "
                "        WHERE tenant_id = :t AND wrapped_key IS NOT NULL), "
                "       (SELECT count(*) FROM pulse_answered WHERE tenant_id = :t), "
                "       (SELECT count(*) FROM pulse_waiting WHERE tenant_id = :t)"
            ),
            {"t": org.tenant_id},
        ).one()
    assert tuple(left) == (0, 0, 0)

    # By position and time: no answer carries the moment of answering or an actor; each
    # batch is one transaction of consecutive positions, so an action just before a batch
    # ties its author to the batch (k answers of the team, shuffled), never to one answer.
    rest = [e for e in events if e not in batch]
    monday = datetime.fromisocalendar(*datetime.now(UTC).isocalendar()[:2], 1).replace(tzinfo=UTC)
    for event in events:
        assert event.occurred_at == monday
        assert event.metadata == {"source": "pulse"}
    starts = set()
    for group in (batch, rest):
        positions = sorted(e.position for e in group)
        assert positions == list(range(positions[0], positions[0] + len(positions)))
        assert len({e.recorded_at for e in group}) == 1
        starts.add(positions[0])
    mine = {
        str(e.event_id): e.position for e in store.read_all(0, 100_000, tenant_id=org.tenant_id)
    }
    pulse_positions = {e.position for e in events}
    for event_id in actions.values():
        after = mine[event_id] + 1
        assert after not in pulse_positions or after in starts


def test_waiting_answers_survive_a_restart(
    client: FlaskClient,
    store: EventStore,
    engine: Engine,
    master_key: str,
    team: tuple[DemoOrg, list[uuid.UUID], dict[uuid.UUID, dict[str, str]]],
):
    org, members, headers = team
    for i, member in enumerate(members[:3]):  # fewer than k: they wait
        response = client.post(
            "/api/v1/pulse", headers=headers[member], json={"answers": answers_of(i)}
        )
        assert response.status_code == 201
    assert pulse_events(store, org) == []
    with engine.connect() as conn:
        sealed = (
            conn.execute(
                text("SELECT sealed FROM pulse_waiting WHERE tenant_id = :t"), {"t": org.tenant_id}
            )
            .scalars()
            .all()
        )
    assert len(sealed) == 3
    assert not any(b"workload" in bytes(s) for s in sealed)  # stored encrypted

    restarted = EventStore(engine, keyring=KeyRing([master_key]))  # a new process
    close_now(restarted, org)
    events = pulse_events(store, org)
    assert sorted(json.dumps(e.data["answers"], sort_keys=True) for e in events) == sorted(
        json.dumps(answers_of(i), sort_keys=True) for i in range(3)
    )


def test_retries_and_a_second_answer(
    client: FlaskClient,
    store: EventStore,
    team: tuple[DemoOrg, list[uuid.UUID], dict[uuid.UUID, dict[str, str]]],
):
    org, members, headers = team
    member = members[0]
    body = {"answers": answers_of(0)}
    first = client.post("/api/v1/pulse", headers=headers[member], json=body)
    for _ in range(3):  # a client retrying after a lost answer
        again = client.post("/api/v1/pulse", headers=headers[member], json=body)
        assert (again.status_code, again.get_json()) == (201, first.get_json())
    assert_problem(
        client.post("/api/v1/pulse", headers=headers[member], json={"answers": answers_of(1)}), 409
    )
    close_now(store, org)
    assert len(pulse_events(store, org)) == 1  # the retries wrote nothing
    closed = client.post("/api/v1/pulse", headers=headers[member], json=body)
    assert "closed" in assert_problem(closed, 422, "week")["detail"]


def test_only_members_answer_their_teams_pulse(
    client: FlaskClient,
    store: EventStore,
    team: tuple[DemoOrg, list[uuid.UUID], dict[uuid.UUID, dict[str, str]]],
):
    org, members, headers = team
    manager = bearer(store, org, org.people["platform-manager"])
    body: dict[str, Any] = {"answers": answers_of(0), "team_id": str(org.teams["platform"])}
    assert_problem(client.post("/api/v1/pulse", headers=manager, json=body), 403)
    body["team_id"] = str(org.teams["payments"])  # a team the member is not in
    assert_problem(client.post("/api/v1/pulse", headers=headers[members[0]], json=body), 403)


def test_the_close_is_idempotent_and_takes_no_more_answers(store: EventStore, engine: Engine):
    org = make_org(store, people_per_team=1)
    journal = JournalCommands(store, TEST_SECRET)
    actor = Actor(tenant_id=org.tenant_id, person_id=org.people["platform-1"], source="test")
    receipt = journal.submit_pulse(actor, answers_of(0))
    assert receipt.released == 0
    assert journal.pulse_answered(actor, org.teams["platform"], receipt.week)
    vault = PulseVault(store)
    with engine.begin() as conn:
        assert vault.close(conn, org.tenant_id, pulse_period(receipt.week, 1)) == 1
    with engine.begin() as conn:
        assert vault.close(conn, org.tenant_id, pulse_period(receipt.week, 1)) == 0
    assert not journal.pulse_answered(actor, org.teams["platform"], receipt.week)
    with pytest.raises(InvalidInput, match="closed"):
        journal.submit_pulse(actor, answers_of(1))


def test_the_scheduler_closes_ended_periods(
    store: EventStore, engine: Engine, settings: Settings, master_key: str
):
    """``compound scheduler``'s job: a period whose last week has ended is closed (its
    answers enter the log, its key is destroyed); an open one is left alone."""
    org = make_org(store, people_per_team=1)
    journal = JournalCommands(store, TEST_SECRET)
    actor = Actor(tenant_id=org.tenant_id, person_id=org.people["platform-1"], source="test")
    last_week = datetime.now(UTC) - timedelta(weeks=1)
    receipt = journal.submit_pulse(actor, answers_of(0), week=iso_week_of(last_week), now=last_week)
    journal.submit_pulse(actor, answers_of(1))  # this week's period: still open
    assert receipt.closes_at <= datetime.now(UTC)
    closed, released = close_pulse_periods(engine, settings)
    assert closed >= 1 and released >= 1
    [event] = store.read_stream(f"pulse-{org.teams['platform']}-{receipt.week}")
    assert event.data["answers"] == answers_of(0)
    with engine.connect() as conn:
        keys = conn.execute(
            text(
                "SELECT period, wrapped_key IS NULL FROM pulse_period_keys WHERE tenant_id = :t "
                "ORDER BY period"
            ),
            {"t": org.tenant_id},
        ).all()
    assert [destroyed for _, destroyed in keys] == [True, False]

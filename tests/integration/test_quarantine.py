"""Poison events quarantined per tenant, on real PostgreSQL: tenant B's bad event holds back
B's part of the projection only, A goes on; retry after a fix applies B's held events in order
with nothing lost (or records the new failure); a rebuild quarantines B at the same event."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from shared.eventlog import EventStore, NewEvent
from shared.projections.capital import CapitalProjection
from shared.projections.quarantine import Quarantined, quarantined
from shared.projections.runtime import Projection, Runtime, Status
from tests.contract.contract import snapshot, start_at_head
from tests.integration.poisoned import poisoned

pytestmark = pytest.mark.integration

START = datetime(2026, 9, 7, 9, tzinfo=UTC)


def action(person: uuid.UUID, day: int) -> NewEvent:
    data = {"action_id": str(uuid.uuid4()), "person_id": str(person), "tactic": "learning_bit",
            "minutes": 15, "audience": "team", "note": None}  # fmt: skip
    return NewEvent("MicroActionLogged", data, START + timedelta(days=day))


class World:
    """Tenants A and B with a person each, a poisoned capital and a clean copy beside it."""

    def __init__(self, store: EventStore) -> None:
        self.store = store
        self.a, self.b = uuid.uuid4(), uuid.uuid4()
        self.people = {self.a: uuid.uuid4(), self.b: uuid.uuid4()}
        self.bad: set[str] = set()
        suffix = uuid.uuid4().hex[:8]
        self.projection = poisoned(CapitalProjection(), f"q{suffix}", self.bad)
        self.clean = poisoned(CapitalProjection(), f"c{suffix}", set())
        start_at_head(store, [self.projection, self.clean])
        self.days = 0

    @property
    def name(self) -> str:
        return self.projection.name

    def log(self, tenant: uuid.UUID, count: int = 1, *, bad: bool = False) -> list[int]:
        """``count`` actions of ``tenant``'s person (each poisoned with ``bad``)."""
        person = self.people[tenant]
        positions = []
        for _ in range(count):
            self.days += 1
            event = action(person, self.days)
            result = self.store.append(tenant, f"journal-{person}", None, [event])
            if bad:
                self.bad.add(str(result.event_ids[0]))
            positions.append(result.positions[0])
        return positions

    def runtime(self, batch: int = 2, projection: Projection | None = None) -> Runtime:
        return Runtime(self.store, [projection or self.projection], batch=batch)

    def status(self) -> Status:
        return next(s for s in self.runtime().status() if s.name == self.name)

    def waiting(self) -> list[Quarantined]:
        with self.store.engine.connect() as conn:
            return [q for q in quarantined(conn) if q.projection == self.name]

    def rows(self, projection: Projection, tenant: uuid.UUID) -> Any:
        return snapshot(self.store, projection, {tenant, self.people[tenant]})

    def clean_rows(self, tenant: uuid.UUID) -> Any:
        self.runtime(batch=1000, projection=self.clean).catch_up(self.clean.name)
        return self.rows(self.clean, tenant)


@pytest.fixture
def world(store: EventStore) -> World:
    return World(store)


def test_b_waits_at_its_poison_event_while_a_goes_on(world: World) -> None:
    rt = world.runtime()
    world.log(world.a, 3)
    before = world.log(world.b)
    (poison,) = world.log(world.b, bad=True)
    world.log(world.b, 1)
    rt.catch_up(world.name)
    status = world.status()
    assert status.status == "live" and status.lag_events == 0
    assert (status.quarantined_tenants, status.held_events) == (1, 2)
    (waiting,) = world.waiting()
    assert (waiting.tenant_id, waiting.position) == (world.b, poison)
    assert "PoisonError" in waiting.error and waiting.retried_at is None
    assert world.rows(world.projection, world.a) == world.clean_rows(world.a)
    b_rows = world.rows(world.projection, world.b)
    assert before and b_rows != world.clean_rows(world.b)  # B counts its first action only

    # A goes on at full speed; B's new events are held back, in order, counted.
    world.log(world.a, 3)
    world.log(world.b, 2)
    rt.catch_up(world.name)
    status = world.status()
    assert status.lag_events == 0 and status.position == world.store.head()
    assert status.held_events == 4
    assert world.rows(world.projection, world.a) == world.clean_rows(world.a)
    assert world.rows(world.projection, world.b) == b_rows

    world.bad.clear()  # the fix
    (released,) = rt.retry(world.name, world.b)
    assert released.waiting is None and released.applied == 4 and released.held_events == 0
    assert world.waiting() == [] and world.status().quarantined_tenants == 0
    world.log(world.b, 1)  # and B goes on from there
    rt.catch_up(world.name)
    assert world.rows(world.projection, world.b) == world.clean_rows(world.b)
    assert world.rows(world.projection, world.a) == world.clean_rows(world.a)


def test_a_retry_that_fails_again_records_the_next_poison_event(world: World) -> None:
    rt = world.runtime(batch=100)
    world.log(world.b)
    (first,) = world.log(world.b, bad=True)
    world.log(world.b)
    (second,) = world.log(world.b, bad=True)
    world.log(world.b)
    rt.catch_up(world.name)
    assert [(q.position, q.held_events) for q in world.waiting()] == [(first, 4)]
    first_id = next(iter(world.waiting())).event_id
    world.bad.discard(str(first_id))  # mends the first only
    (retried,) = rt.retry(world.name, world.b)
    assert retried.waiting is not None and retried.waiting.event.position == second
    assert (retried.applied, retried.held_events) == (2, 2)
    (waiting,) = world.waiting()
    assert (waiting.position, waiting.held_events) == (second, 2)
    assert waiting.retried_at is not None
    rt.catch_up(world.name)  # catch-up does not apply them behind the retry's back
    assert world.waiting()[0].held_events == 2
    world.bad.clear()
    (released,) = rt.retry(world.name)  # every waiting tenant of the projection
    assert released.waiting is None and released.applied == 2
    assert world.rows(world.projection, world.b) == world.clean_rows(world.b)


def test_a_retry_of_a_tenant_that_does_not_wait_is_refused(world: World) -> None:
    with pytest.raises(LookupError):
        world.runtime().retry(world.name, world.a)


@pytest.mark.parametrize("chunk_events", [1, 1000])
def test_a_rebuild_quarantines_the_same_tenant_at_the_same_event(
    world: World, chunk_events: int
) -> None:
    world.log(world.a, 2)
    world.log(world.b)
    world.log(world.b, bad=True)
    world.log(world.a, 2)
    world.log(world.b, 2)
    world.runtime(batch=3).catch_up(world.name)
    caught_up = [(q.tenant_id, q.position, q.event_id, q.held_events) for q in world.waiting()]
    rows = {t: world.rows(world.projection, t) for t in (world.a, world.b)}
    assert len(caught_up) == 1
    rebuilding = Runtime(world.store, [world.projection], chunk_events=chunk_events)
    generation = rebuilding.rebuild(world.name)
    rebuilt = [(q.tenant_id, q.position, q.event_id, q.held_events) for q in world.waiting()]
    assert rebuilt == caught_up
    assert {t: world.rows(world.projection, t) for t in (world.a, world.b)} == rows
    with world.store.engine.connect() as conn:  # the old generation's rows went with it
        generations = conn.execute(
            text("SELECT generation FROM projection_quarantine WHERE projection = :n"),
            {"n": world.name},
        ).scalars()
        assert list(generations) == [generation]
    world.bad.clear()
    (released,) = rebuilding.retry(world.name, world.b)
    assert released.waiting is None and released.applied == 3
    assert world.rows(world.projection, world.b) == world.clean_rows(world.b)


def test_a_rebuild_after_the_fix_releases_the_tenant(world: World) -> None:
    world.log(world.b)
    world.log(world.b, bad=True)
    world.log(world.b)
    rt = world.runtime()
    rt.catch_up(world.name)
    assert len(world.waiting()) == 1
    world.bad.clear()
    rt.rebuild(world.name)
    assert world.waiting() == []
    assert world.rows(world.projection, world.b) == world.clean_rows(world.b)


@pytest.mark.parametrize("chunk_events", [1, 1000])
def test_a_skipped_poison_event_is_left_out_by_catch_up_and_rebuild_alike(
    world: World, chunk_events: int
) -> None:
    """The fix was a compensating event: the operator skips the poison event, which stays
    poisonous; every later catch-up and rebuild leaves it out."""
    rt = world.runtime()
    world.log(world.b)
    (poison,) = world.log(world.b, bad=True)
    world.log(world.b, 2)  # the compensating event among them
    rt.catch_up(world.name)
    (released,) = rt.retry(world.name, world.b, skip_event=True)
    assert released.waiting is None and released.applied == 2  # held 3, one skipped
    world.log(world.b)
    rt.catch_up(world.name)
    assert world.waiting() == []
    rows = world.rows(world.projection, world.b)
    with world.store.engine.connect() as conn:
        skipped = conn.execute(
            text("SELECT position, tenant_id FROM projection_skipped_events WHERE projection = :n"),
            {"n": world.name},
        ).all()
    assert [tuple(r) for r in skipped] == [(poison, world.b)]
    Runtime(world.store, [world.projection], chunk_events=chunk_events).rebuild(world.name)
    assert world.waiting() == [] and world.rows(world.projection, world.b) == rows
    assert rows != world.clean_rows(world.b)  # the clean copy counted the skipped event

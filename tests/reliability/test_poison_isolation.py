"""One tenant's poison event stops no other tenant: while tenant B waits at an event its
projection cannot apply, tenant A keeps writing and its part of the projection is never
behind; a rebuild quarantines B at the same event; after the fix, a retry applies B's held
events in order and both equal a clean copy (nothing lost, nothing applied twice)."""

from __future__ import annotations

import uuid

import pytest

from shared.eventlog import EventStore
from tests.integration.test_quarantine import World, action
from tests.reliability.report import Figures

pytestmark = pytest.mark.integration

ROUNDS = 10
A_PER_ROUND = 60
B_PER_ROUND = 10


def test_b_waits_at_its_poison_event_and_a_is_never_behind(
    store: EventStore, figures: Figures
) -> None:
    world = World(store)
    a_people = [uuid.uuid4() for _ in range(6)]
    world.people[world.a] = a_people[0]
    world.log(world.b)
    world.log(world.b, bad=True)
    rt = world.runtime(batch=64)
    behind = []
    for round_ in range(ROUNDS):
        for i in range(A_PER_ROUND):
            person = a_people[i % len(a_people)]
            event = action(person, round_ * 7 + i % 7)
            store.append(world.a, f"journal-{person}", None, [event])
        world.log(world.b, B_PER_ROUND)
        rt.catch_up(world.name)
        status = world.status()
        behind.append(status.lag_events)
        assert status.position == store.head() and status.quarantined_tenants == 1
    held = world.status().held_events
    assert held == 1 + ROUNDS * B_PER_ROUND and max(behind) == 0

    caught_up = [(q.tenant_id, q.position, q.held_events) for q in world.waiting()]
    rt.rebuild(world.name)
    assert [(q.tenant_id, q.position, q.held_events) for q in world.waiting()] == caught_up

    world.bad.clear()
    (released,) = rt.retry(world.name, world.b)
    assert released.waiting is None and released.applied == held
    compared = 0
    for person in a_people:
        world.people[world.a] = person
        rows = world.rows(world.projection, world.a)
        assert rows == world.clean_rows(world.a)
        compared += sum(len(r) for r in rows.values())
    rows = world.rows(world.projection, world.b)
    assert rows == world.clean_rows(world.b)
    compared += sum(len(r) for r in rows.values())
    figures.record(
        "poison-per-tenant",
        "Bad input",
        "a poison event of tenant B (its projection cannot apply it) holds back B's part of "
        "that projection only: tenant A keeps writing and is never behind after a catch-up; "
        "a rebuild quarantines B at the same event; after the fix, retry --tenant applies "
        "B's held events in order and every row equals a clean copy's",
        "tests/reliability/test_poison_isolation.py",
        a_events_applied=ROUNDS * A_PER_ROUND,
        b_events_held=held,
        b_events_applied_by_retry=released.applied,
        events_behind_after_each_catch_up=max(behind),
        read_model_rows_equal_to_clean_copy=compared,
    )

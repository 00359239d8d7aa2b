"""The capped append (EventStore.append_capped): the daily action limit's count and the
append in one statement; a cap that does not hold writes nothing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from shared.eventlog import AppendContext, EventStore, NewEvent, StreamCap
from tests.integration.test_event_store import count_events

pytestmark = pytest.mark.integration

MONDAY = datetime(2026, 11, 30, tzinfo=UTC)


def action(person: uuid.UUID, at: datetime) -> NewEvent:
    return NewEvent(
        "MicroActionLogged",
        {
            "action_id": str(uuid.uuid4()),
            "person_id": str(person),
            "tactic": "regular_signaling",
            "minutes": 10,
            "audience": "team",
            "note": None,
        },
        at,
    )


def week_cap(most: int, monday: datetime = MONDAY) -> StreamCap:
    return StreamCap("MicroActionLogged", monday, monday + timedelta(days=7), most)


def test_appends_while_the_stream_is_within_the_cap_and_writes_nothing_beyond(
    store: EventStore, tenant: uuid.UUID
):
    person = uuid.uuid4()
    stream = f"journal-{person}"
    written = [
        store.append_capped(tenant, stream, action(person, MONDAY + timedelta(days=i)), week_cap(1))
        for i in range(2)
    ]
    assert all(w is not None for w in written)
    assert [w.stream_version for w in written if w] == [1, 2]
    # The stream holds 2 actions this week: a cap of at most 1 holds the third back.
    assert store.append_capped(tenant, stream, action(person, MONDAY), week_cap(1)) is None
    assert count_events(store.engine, tenant) == 2
    # Another week, and another type's count, are not this week's actions.
    next_week = MONDAY + timedelta(days=7)
    assert store.append_capped(tenant, stream, action(person, next_week), week_cap(0, next_week))
    other_type = StreamCap("OutcomeRecorded", MONDAY, MONDAY + timedelta(days=7), 0)
    assert store.append_capped(tenant, stream, action(person, MONDAY), other_type)
    assert count_events(store.engine, tenant) == 4


def test_the_count_stops_just_past_the_cap_and_still_holds_back(
    store: EventStore, tenant: uuid.UUID
):
    """The count reads at most ``most + 1`` events (the rest of a busy week is not read): one
    past the cap is enough to hold the append back, at the cap it goes ahead."""
    person = uuid.uuid4()
    stream = f"journal-{person}"
    for _ in range(6):
        assert store.append_capped(tenant, stream, action(person, MONDAY), week_cap(9)) is not None
    for most in (0, 1, 4, 5):  # 6 in the week: more than each of these
        assert store.append_capped(tenant, stream, action(person, MONDAY), week_cap(most)) is None
    assert count_events(store.engine, tenant) == 6
    assert store.append_capped(tenant, stream, action(person, MONDAY), week_cap(6)) is not None
    assert store.append_capped(tenant, stream, action(person, MONDAY), week_cap(-1)) is None
    assert count_events(store.engine, tenant) == 7


def test_the_cap_counts_the_week_from_its_first_instant_to_before_the_next_monday(
    store: EventStore, tenant: uuid.UUID
):
    person = uuid.uuid4()
    stream = f"journal-{person}"
    # Sunday 23:59:59.999999 UTC is this week; the next Monday 00:00 is not (sealed: the
    # column keeps each action's Monday).
    last = MONDAY + timedelta(days=7) - timedelta(microseconds=1)
    assert store.append_capped(tenant, stream, action(person, last), week_cap(0))
    assert store.append_capped(tenant, stream, action(person, MONDAY), week_cap(0)) is None
    next_monday = MONDAY + timedelta(days=7)
    following = action(person, next_monday)
    assert store.append_capped(tenant, stream, following, week_cap(0, next_monday))


def test_a_retry_beyond_the_cap_writes_nothing_and_a_retry_within_it_replays(
    store: EventStore, tenant: uuid.UUID
):
    person = uuid.uuid4()
    stream = f"journal-{person}"
    context = AppendContext(actor=str(person), idempotency_key=f"k-{uuid.uuid4()}")
    event = action(person, MONDAY)
    first = store.append_capped(tenant, stream, event, week_cap(5), context)
    again = store.append_capped(tenant, stream, event, week_cap(5), context)
    assert first is not None and again is not None
    assert again.replayed and again.positions == first.positions
    assert store.append_capped(tenant, stream, event, week_cap(0), context) is None
    assert count_events(store.engine, tenant) == 1


@pytest.mark.parametrize("name", ["MicroActionLogged' OR '1'='1", "Micro_Action", ""])
def test_a_cap_names_only_an_event_type(store: EventStore, tenant: uuid.UUID, name: str):
    person = uuid.uuid4()
    cap = StreamCap(name, MONDAY, MONDAY + timedelta(days=7), 5)
    with pytest.raises(ValueError):
        store.append_capped(tenant, f"journal-{person}", action(person, MONDAY), cap)
    assert count_events(store.engine, tenant) == 0

"""Out-of-office blocks from calendars in the lever read model (real PostgreSQL): an
``OutOfOfficeObserved`` takes its time off the working hours of every week it reaches into
(docs/levers.md, "What counts as a meeting"), a meeting turned into a block counts no more, a
cancelled block gives the hours back, and catch-up in any batches equals the rebuild."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest

from shared.eventlog import EventStore, NewEvent
from shared.projections import runtime
from tests.integration.levers_world import World, at, make_world
from tests.integration.test_levers_working_hours import person_weeks, set_hours, snapshot

pytestmark = pytest.mark.integration


def away(world: World, person: uuid.UUID, start: datetime, hours: float, key: str = "") -> str:
    key = key or uuid.uuid4().hex
    data = {"person_id": str(person), "connection_id": str(uuid.uuid5(person, "cal")),
            "meeting_key": key, "start": start.isoformat(),
            "end": (start + timedelta(hours=hours)).isoformat()}  # fmt: skip
    world.write(f"calendar-{person}", NewEvent("OutOfOfficeObserved", data, start))
    return key


def cancel(world: World, person: uuid.UUID, key: str, moment: datetime) -> None:
    data = {"person_id": str(person), "connection_id": str(uuid.uuid5(person, "cal")),
            "meeting_key": key}  # fmt: skip
    world.write(f"calendar-{person}", NewEvent("MeetingCancelled", data, moment))


def test_a_day_out_of_office_takes_a_working_day_off(store: EventStore):
    """Friday of week 1 away: 32 working hours; the Friday stand-up counts nowhere. Week 0,
    without a block, keeps its 40 hours."""
    world = make_world(store, {"A": None})
    (person,) = world.hire("A", 1)
    for week in (0, 1):
        world.meeting(person, at(week, 0, 9), 1)  # Monday 09:00-10:00
        world.meeting(person, at(week, 4, 10), 1)  # Friday 10:00-11:00
    away(world, person, at(1, 4, 0), 24)
    world.project()
    weeks = person_weeks(store, person)
    # (calendar, meeting, working, focus, after hours, back-to-back)
    assert weeks[0] == (True, 2.0, 40.0, 37.0, 0.0, 0)  # focus: Friday 9-10 is too short
    assert weeks[1] == (True, 1.0, 32.0, 31.0, 0.0, 0)


def test_a_holiday_over_a_weekend_reaches_into_both_weeks(store: EventStore):
    """From Thursday of week 1 to Tuesday of week 2, whole days in the person's zone
    (Berlin): two days off each week, whichever batch brought the meetings, and cancelling
    the block gives both weeks their hours back."""
    world = make_world(store, {"A": None})
    (person,) = world.hire("A", 1)
    set_hours(world, person, 0, 9, 17, ["mon", "tue", "wed", "thu", "fri"], "Europe/Berlin")
    world.meeting(person, at(1, 0, 8), 1)  # Monday 09:00 in Berlin
    world.project()
    key = away(world, person, at(1, 2, 23), 6 * 24)  # Thursday to Wednesday 00:00, Berlin
    world.project()
    world.meeting(person, at(2, 2, 8), 1)  # Wednesday of week 2, after the block
    world.project()
    weeks = person_weeks(store, person)
    assert (weeks[1][2], weeks[2][2]) == (24.0, 24.0)
    before = snapshot(store)
    runtime(store).rebuild("levers")
    assert snapshot(store) == before
    cancel(world, person, key, at(3))
    world.project()
    weeks = person_weeks(store, person)
    assert (weeks[1][2], weeks[2][2]) == (40.0, 40.0)


def test_a_meeting_turned_into_a_block_counts_no_more(store: EventStore):
    world = make_world(store, {"A": None})
    (person,) = world.hire("A", 1)
    world.meeting(person, at(1, 0, 9), 1)
    key = world.meeting(person, at(1, 1, 13), 4)  # Tuesday 13:00-17:00
    world.project()
    assert person_weeks(store, person)[1][1:3] == (5.0, 40.0)
    away(world, person, at(1, 1, 13), 4, key)  # the same event, now out of office
    world.project()
    assert person_weeks(store, person)[1][1:3] == (1.0, 36.0)


def test_a_week_with_only_a_block_has_no_calendar(store: EventStore):
    """A block alone says nothing of meeting load: no calendar that week, and a week it
    reaches into without anything else gets no row."""
    world = make_world(store, {"A": None})
    (person,) = world.hire("A", 1)
    away(world, person, at(1, 4, 0), 4 * 24)  # Friday of week 1 to Tuesday of week 2
    world.project()
    weeks = person_weeks(store, person)
    assert 2 not in weeks
    assert weeks[1][0] is False and weeks[1][2] == 0


@pytest.mark.parametrize("batch", [1, 4, 10_000])
def test_incremental_equals_rebuild_with_blocks(store: EventStore, batch: int):
    """Blocks of a few hours to a few days, moved, cancelled and observed again, among
    meetings and a zone change: every table equals the rebuild's."""
    world = make_world(store, {"A": None})
    people = world.hire("A", 3)
    for week in range(4):
        for i, person in enumerate(people):
            world.meeting(person, at(week, 0, 8 + i), 1.5)
            world.meeting(person, at(week, 3, 15), 1)
    keys = [away(world, p, at(i, 1 + i, 6), [5, 30, 80][i]) for i, p in enumerate(people)]
    set_hours(world, people[1], 2, 8, 16, ["mon", "tue", "wed", "thu"], "America/New_York")
    away(world, people[0], at(2, 4, 0), 72, keys[0])  # moved into the next weekend
    cancel(world, people[1], keys[1], at(3))
    away(world, people[1], at(3, 0, 0), 10, keys[1])  # observed again, elsewhere
    rt = runtime(store)
    rt.batch = batch
    rt.catch_up("levers")
    before = snapshot(store)
    assert any(row[-1] for row in before["lever_meetings"])  # blocks stored as such
    rt.rebuild("levers")
    assert snapshot(store) == before

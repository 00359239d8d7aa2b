"""Per-person working hours and time zones in the lever read model (real PostgreSQL): a
``WorkingHoursSet`` counts from the ISO week of its ``occurred_at`` on, earlier weeks keep
their hours; a new zone places meetings in its local weeks; set after the meetings were
projected, it gives the same rows as a rebuild."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import text

from shared.eventlog import EventStore, NewEvent
from shared.projections import runtime
from shared.projections.capital import week_index
from shared.projections.levers import LeversProjection
from tests.integration.levers_world import MONDAY, World, at, make_world

pytestmark = pytest.mark.integration
W0 = week_index(MONDAY)
SUN_TO_THU = ["sun", "mon", "tue", "wed", "thu"]


def set_hours(
    world: World, person: uuid.UUID, week: int, start: int, end: int, days: list[str], zone: str
) -> None:
    data = {"person_id": str(person), "start_minute": start * 60, "end_minute": end * 60,
            "working_days": days, "time_zone": zone}  # fmt: skip
    world.write(f"person-{person}", NewEvent("WorkingHoursSet", data, at(week, 2, 12)))


def person_weeks(store: EventStore, person: uuid.UUID) -> dict[int, tuple[Any, ...]]:
    """week -> (calendar, meeting, working, focus and after hours, back-to-back)."""
    with store.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT week_index, calendar, meeting_hours, working_hours, focus_hours, "
                "after_hours, back_to_back FROM lever_person_weeks WHERE person_id = :p"
            ),
            {"p": person},
        ).all()
    return {
        r.week_index - W0: (r.calendar, *(v / 1000 for v in r[2:6]), r.back_to_back) for r in rows
    }


def snapshot(store: EventStore) -> dict[str, list[Any]]:
    with store.engine.connect() as conn:
        return {
            t: sorted(map(tuple, conn.execute(text(f"SELECT * FROM {t}")).all()), key=str)
            for t in LeversProjection.tables
        }


def test_hours_count_from_their_week_on(store: EventStore):
    """10:00-18:00, Sunday to Thursday, from week 1: in week 0 the default window holds; from
    week 1 Monday 09:00 and Friday are after hours, and Sunday is a working day."""
    world = make_world(store, {"A": None})
    (person,) = world.hire("A", 1)
    set_hours(world, person, 1, 10, 18, SUN_TO_THU, "UTC")
    for week in (0, 1):
        world.meeting(person, at(week, 0, 9), 1)  # Monday 09:00-10:00
        world.meeting(person, at(week, 4, 14), 1)  # Friday 14:00-15:00
        world.meeting(person, at(week, 6, 12), 1)  # Sunday 12:00-13:00
    world.project()
    weeks = person_weeks(store, person)
    # Default: Monday's and Friday's inside, Sunday's after hours; focus Monday 10-17,
    # Friday 9-14 and 15-17, three free days: 7 + 7 + 24.
    assert weeks[0] == (True, 2.0, 40.0, 38.0, 1.0, 0)
    # Custom: Sunday's inside (focus 10-12 and 13-18), Monday 9-10 and Friday after hours;
    # focus 7 + Monday 10-18 + three free days: 7 + 8 + 24.
    assert weeks[1] == (True, 1.0, 40.0, 39.0, 2.0, 0)
    with store.engine.connect() as conn:
        row = conn.execute(
            text("SELECT * FROM lever_working_hours WHERE person_id = :p"), {"p": person}
        ).one()
    assert (row.from_week - W0, row.start_minute, row.end_minute) == (1, 600, 1080)
    assert row.working_days == [0, 1, 2, 3, 6] and row.time_zone == "UTC"


def test_a_later_window_changes_what_counts_after_hours(store: EventStore):
    """08:00-12:00 on Mondays only: a Tuesday meeting is after hours, Monday's inside."""
    world = make_world(store, {"A": None})
    (person,) = world.hire("A", 1)
    world.meeting(person, at(2, 0, 9), 2)  # Monday 09:00-11:00
    world.meeting(person, at(2, 1, 9), 1)  # Tuesday 09:00-10:00
    world.project()
    assert person_weeks(store, person)[2] == (True, 3.0, 40.0, 37.0, 0.0, 0)
    set_hours(world, person, 2, 8, 12, ["mon"], "UTC")
    world.project()
    # Working 4 h, inside 2 h (no 2 h focus block left around it), after hours 1 h.
    assert person_weeks(store, person)[2] == (True, 2.0, 4.0, 0.0, 1.0, 0)


def test_a_new_zone_moves_meetings_into_its_local_weeks(store: EventStore):
    """Sunday 23:30 UTC of week 1 is Monday 08:30 in Tokyo, week 2. Tokyo from week 1 on moves
    it (and week 1 had nothing else: its row goes); week 0 stays in UTC."""
    world = make_world(store, {"A": None})
    (person,) = world.hire("A", 1)
    world.meeting(person, at(0, 6, 23, 30), 1)  # Sunday 23:30 UTC, week 0, left alone
    late = world.meeting(person, at(1, 6, 23, 30), 1)  # Sunday 23:30 UTC, week 1
    world.project()
    assert set(person_weeks(store, person)) == {0, 1}
    set_hours(world, person, 1, 9, 17, ["mon", "tue", "wed", "thu", "fri"], "Asia/Tokyo")
    world.project()
    weeks = person_weeks(store, person)
    assert set(weeks) == {0, 2}
    # In Tokyo it is Monday 08:30-09:30: half an hour before the window, half inside.
    assert weeks[2][1] == 0.5 and weeks[2][4] == 0.5
    with store.engine.connect() as conn:
        week = conn.execute(
            text("SELECT week_index FROM lever_meetings WHERE meeting_key = :k"), {"k": late}
        ).scalar_one()
    assert week - W0 == 2
    before = snapshot(store)
    runtime(store).rebuild("levers")
    assert snapshot(store) == before


@pytest.mark.parametrize("batch", [1, 3, 10_000])
def test_incremental_equals_rebuild_with_hours_changing(store: EventStore, batch: int):
    """Hours and zones changed back and forth around meetings already projected (and a zone
    from joining, set after the first meetings): every table equals the rebuild's."""
    world = make_world(store, {"A": None, "B": None})
    people = world.hire("A", 3) + world.hire("B", 2)
    zones = ["Asia/Tokyo", "America/Los_Angeles", "UTC", "Europe/Berlin", "Australia/Sydney"]
    for week in range(4):
        for i, person in enumerate(people):
            world.meeting(person, at(week, 0, 8 + i), 1.5)
            world.meeting(person, at(week, 6, 22, 30), 2)  # across midnight, UTC Sunday
            world.meeting(person, at(week, 3, 17), 1)
        person = people[week % len(people)]
        set_hours(world, person, week, 7 + week, 15 + week, SUN_TO_THU[: week + 2],
                  zones[week])  # fmt: skip
        set_hours(world, people[0], max(0, week - 2), 9, 17, ["mon", "tue"], zones[-1 - week])
    world.write(
        f"person-{people[4]}",
        NewEvent(
            "PersonJoined",
            {"person_id": str(people[4]), "display_name": "Z", "time_zone": "Pacific/Auckland"},
            at(3),
        ),
    )
    rt = runtime(store)
    rt.batch = batch
    rt.catch_up("levers")
    before = snapshot(store)
    assert before["lever_working_hours"]
    rt.rebuild("levers")
    after = snapshot(store)
    for table in LeversProjection.tables:
        assert after[table] == before[table], table

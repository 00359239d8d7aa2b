"""The lever read model on real PostgreSQL: worked values, calendars, rewards, membership
over time, and incremental == rebuild. The read model is never shown as it is: what pages and
the API show (released, protected, noised) is tested in tests/api/test_levers.py and
tests/releases."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from shared.domain import levers as model
from shared.eventlog import EventStore, NewEvent
from shared.projections import runtime
from shared.projections.capital import week_index, week_label
from shared.projections.levers import LeversProjection, week_sums
from tests.integration.levers_world import MONDAY, SAFE, at, make_world

pytestmark = pytest.mark.integration
W0 = week_index(MONDAY)


def team_week(store: EventStore, team: Any, week: int) -> model.WeekSums:
    """A team's own sums in a week (its ``lever_team_weeks`` row), as the domain's."""
    with store.engine.connect() as conn:
        row = conn.execute(
            text("SELECT * FROM lever_team_weeks WHERE team_id = :t AND week_index = :w"),
            {"t": team, "w": week},
        ).one()
    return week_sums(row)


def test_a_team_week_worked_out(store: EventStore):
    """Platform (6 people) in 2026-W10: 4 act, one tries a stretch task, one visible action
    is recognised 3 days later, everyone answers the pulse, one person has a calendar."""
    world = make_world(store, {"Platform": None})
    people = world.hire("Platform", 6)
    world.act(people[0], 0, "small_exposure")
    rewarded = people[1]
    world.act(rewarded, 0, "regular_signaling", "decision_makers")
    world.outcome(rewarded, "recognition", at(0, 4))
    world.act(people[2], 0, "learning_bit", "private")
    world.act(people[3], 0, "relationship_deposit", "team")
    for _ in range(6):
        world.pulse("Platform", 0, SAFE)
    for day in range(5):  # 9:00-12:00 back to back in two meetings, daily
        world.meeting(people[0], at(0, day, 9), 2)
        world.meeting(people[0], at(0, day, 11), 1)
    world.project()
    platform = world.teams["Platform"]
    sums = team_week(store, platform, W0)
    assert week_label(W0) == "2026-W10" and sums.members == 6
    levers = model.levers_of(sums)
    # Hired the week before, when nobody acted yet: participation went from 0 to 66.7.
    assert model.levers_of(team_week(store, platform, W0 - 1))["participation"].value == 0.0
    assert levers["participation"] == model.Lever(66.7, 6)
    assert levers["micro_advancement_rate"].value == 0.67
    # Survey: reversed items 2 -> 6, others 6: scale 6 -> 83.33; behaviour: (1 stretcher + 0
    # askers) / 12 -> 8.33; 0.7 * 83.33 + 0.3 * 8.33 = 60.8
    assert levers["psychological_safety"] == model.Lever(60.8, 6)
    # 2 of 3 visible actions... one rewarded of three visible: 33.3; item 5 -> 66.7; blend 50.0
    assert levers["clear_incentives"].value == 50.0
    # Evaluation clarity 5 -> 66.7, reversed 33.3; no feedback: 33.3
    assert levers["ambiguous_evaluation"].value == 33.3
    # Only one calendar: the lever leans on the workload item for everyone.
    assert sums.calendar_people == 1
    assert levers["time_pressure"].n == 6
    assert sums.item("workload") == (33.3, 6)


def test_calendar_components_when_enough_people_have_one(store: EventStore):
    world = make_world(store, {"Platform": None})
    people = world.hire("Platform", 5)
    for person in people:
        for day in range(5):
            world.meeting(person, at(0, day, 9), 1)  # 9-10
            world.meeting(person, at(0, day, 10), 1)  # 10-11, back to back
        world.meeting(person, at(0, 1, 19), 2)  # after hours
        world.meeting(person, at(0, 2, 13), 1, status="declined")  # not counted
    cancelled = world.meeting(people[0], at(0, 3, 14), 1)
    world.project()
    world.write(
        f"calendar-{people[0]}",
        NewEvent(
            "MeetingCancelled",
            {
                "person_id": str(people[0]),
                "connection_id": str(people[0]),
                "meeting_key": cancelled,
            },
            at(0, 3, 9),
        ),
    )
    world.project()
    sums = team_week(store, world.teams["Platform"], W0)
    # Per person: 10 h of 40 in meetings; focus: 6 h per day (11:00-17:00); 2 h after hours;
    # 5 chains.
    assert sums.calendar_people == 5
    assert (sums.meeting_hours, sums.working_hours) == (50.0, 200.0)
    assert (sums.focus_hours, sums.after_hours, sums.back_to_back) == (150.0, 10.0, 25)
    # Pressure per person: 0.4*0.25 + 0.3*(1 - 30/20 capped) + 0.15*0.4 + 0.15*0.5 = 23.5
    assert model.levers_of(sums)["time_pressure"] == model.Lever(23.5, 5)


def test_membership_moves_and_leaves_follow_event_time(store: EventStore):
    world = make_world(store, {"A": None, "B": None})
    a = world.hire("A", 6)
    b = world.hire("B", 5)
    for person in a + b:
        world.act(person, 0)
        world.act(person, 1)
        world.act(person, 2)
    world.move(a[0], "A", "B", 1)
    world.leave(b[0], 2)
    world.project()
    with store.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT team_id, week_index, members, active FROM lever_team_weeks "
                "WHERE tenant_id = :t ORDER BY week_index, members"
            ),
            {"t": world.tenant},
        ).all()
    got = {(r.team_id, r.week_index - W0): (r.members, r.active) for r in rows}
    assert got[(world.teams["A"], 0)] == (6, 6)
    assert got[(world.teams["A"], 1)] == (5, 5)
    assert got[(world.teams["B"], 1)] == (6, 6)
    assert got[(world.teams["B"], 2)] == (6, 6)  # b[0] left during week 2: still counted
    world.act(b[1], 3)
    world.project()
    with store.engine.connect() as conn:
        members = conn.execute(
            text("SELECT members FROM lever_team_weeks WHERE team_id = :t AND week_index = :w"),
            {"t": world.teams["B"], "w": W0 + 3},
        ).scalar_one()
    assert members == 5


def test_incremental_equals_rebuild(store: EventStore):
    world = make_world(store, {"Eng": None, "Platform": "Eng"})
    people = world.hire("Platform", 7)
    for week in range(3):
        for i, person in enumerate(people):
            world.act(person, week, "small_exposure" if i % 2 else "regular_signaling")
            world.meeting(person, at(week, 1, 9 + i % 3), 1.5)
        world.outcome(people[week], "invitation", at(week, 3))
        world.pulse("Platform", week, SAFE)
    world.move(people[0], "Platform", "Eng", 1)
    rt = runtime(store)
    rt.batch = 7  # many small batches
    rt.catch_up("levers")
    tables = list(LeversProjection.tables)

    def snapshot() -> dict[str, list[Any]]:
        """This world's rows only: other tests share the database (an erasure elsewhere
        leaves rows a rebuild drops, until the rebuild production sends after it runs)."""
        with store.engine.connect() as conn:
            out = {}
            for t in tables:
                columns = set(conn.execute(text(f"SELECT * FROM {t} LIMIT 0")).keys())
                if "tenant_id" in columns:
                    mine = "tenant_id = :t"
                elif "person_id" in columns:
                    mine = "person_id IN (SELECT person_id FROM lever_people WHERE tenant_id = :t)"
                else:
                    continue  # feedback requests: this world asks none
                rows = conn.execute(text(f"SELECT * FROM {t} WHERE {mine}"), {"t": world.tenant})
                out[t] = sorted(map(tuple, rows.all()), key=str)
            return out

    before = snapshot()
    for table in ("lever_people", "lever_actions", "lever_meetings", "lever_team_weeks"):
        assert before[table], table  # this world's rows are compared, not nothing
    rt.batch = 5000
    rt.rebuild("levers")
    assert snapshot() == before


def test_history_from_before_the_invitation_counts_in_the_first_team(store: EventStore):
    """Imported history (or the demo's) older than the invitation: the person counts in
    their first team from their first activity on, not before. The membership then starts in
    week 1, so week 3 (no activity, no pulse, no one joining or leaving) has no row."""
    world = make_world(store, {"A": None})
    late = world.hire("A", 5, week=3)
    for week in (1, 2):
        for person in late:
            world.act(person, week)
    world.project()
    with store.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT week_index, members, active FROM lever_team_weeks WHERE team_id = :t "
                "ORDER BY week_index"
            ),
            {"t": world.teams["A"]},
        ).all()
    assert [(r.week_index - W0, r.members, r.active) for r in rows] == [
        (1, 5, 5),
        (2, 5, 5),
    ]

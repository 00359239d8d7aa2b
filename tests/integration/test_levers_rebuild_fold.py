"""The levers rebuild folds the whole log in memory and COPYs each table once
(``LeversFold``): its rows must equal those of ``apply`` (real PostgreSQL).

Random organisations (invitations, time zones, working hours changed on the way, moves,
managers, leavers, actions, retractions, rewards, feedback, meetings moved, declined and
cancelled, pulses), written in
event-time order, are projected incrementally in small batches and then rebuilt."""

from __future__ import annotations

import random
import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text

from shared.eventlog import EventStore, NewEvent
from shared.projections import runtime
from shared.projections.levers import LeversProjection
from tests.integration.levers_world import SAFE, at, make_world

pytestmark = pytest.mark.integration
ZONES = ("UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo")
TACTICS = ("small_exposure", "prototype_first", "learning_bit", "regular_signaling")


def _history(world: Any, rng: random.Random) -> None:
    people: list[tuple[uuid.UUID, str]] = []
    actions: list[str] = []
    requests: list[tuple[uuid.UUID, str]] = []
    meetings: list[tuple[uuid.UUID, str]] = []
    for week in range(6):
        for _ in range(rng.randint(1, 3)):
            team = rng.choice(["A", "B", "C"])
            (person,) = world.hire(team, 1, week=week)
            if rng.random() < 0.5:
                zone = rng.choice(ZONES)
                world.write(
                    f"person-{person}",
                    NewEvent(
                        "PersonJoined",
                        {"person_id": str(person), "display_name": "Y", "time_zone": zone},
                        at(week, hour=12),
                    ),
                )
            people.append((person, team))
        for person, team in list(people):
            roll = rng.random()
            if roll < 0.05:
                target = rng.choice([t for t in ("A", "B", "C") if t != team])
                world.move(person, team, target, week)
                people[people.index((person, team))] = (person, target)
            elif roll < 0.08:
                world.write(
                    f"team-{world.teams[team]}",
                    NewEvent(
                        "TeamManagerAssigned",
                        {"team_id": str(world.teams[team]), "person_id": str(person)},
                        at(week, 2),
                    ),
                )
            elif roll < 0.1:
                world.leave(person, week)
        for person, _ in people:
            for _ in range(rng.randint(0, 3)):
                actions.append(
                    world.act(
                        person,
                        week,
                        rng.choice(TACTICS),
                        rng.choice(["private", "team", "decision_makers"]),
                        day=rng.randint(0, 4),
                    )
                )
            if rng.random() < 0.3:
                world.outcome(
                    person, rng.choice(["recognition", "invitation", "assignment"]), at(week, 4, 15)
                )
            if rng.random() < 0.3:
                request = str(uuid.uuid4())
                linked = rng.choice(actions) if actions and rng.random() < 0.5 else None
                data = {"request_id": request, "person_id": str(person), "action_id": linked,
                        "question": "How was it?",
                        "expires_at": at(week + 2).isoformat()}  # fmt: skip
                if rng.random() < 0.25:  # an import with the answer before its request
                    given = {"request_id": request, "person_id": str(person), "useful": True,
                             "comment": None}  # fmt: skip
                    world.write(
                        f"feedback-{request}", NewEvent("FeedbackGiven", given, at(week, 2, 10))
                    )
                world.write(
                    f"feedback-{request}", NewEvent("FeedbackRequested", data, at(week, 2, 9))
                )
                requests.append((person, request))
            for _ in range(rng.randint(0, 3)):
                start = at(week, rng.randint(0, 6), rng.randint(0, 23), rng.choice([0, 30]))
                status = rng.choice(["accepted", "accepted", "declined"])
                meetings.append(
                    (person, world.meeting(person, start, rng.choice([0.5, 1, 2.5]), None, status))
                )
        if actions and rng.random() < 0.5:
            action = rng.choice(actions)
            person = people[0][0]
            world.write(
                f"journal-{person}",
                NewEvent(
                    "MicroActionRetracted",
                    {
                        "action_id": action,
                        "person_id": str(person),
                        "tactic": "learning_bit",
                        "minutes": 10,
                        "audience": "team",
                    },
                    at(week, 5),
                ),
            )
        for person, request in rng.sample(requests, min(len(requests), 2)):
            given = {"request_id": request, "person_id": str(person), "useful": True,
                     "comment": None}  # fmt: skip
            world.write(f"feedback-{request}", NewEvent("FeedbackGiven", given, at(week, 5, 10)))
        for person, key in rng.sample(meetings, min(len(meetings), 2)):
            if rng.random() < 0.5:
                data = {"person_id": str(person), "meeting_key": key,
                        "connection_id": str(uuid.uuid5(person, "cal"))}  # fmt: skip
                world.write(f"calendar-{person}", NewEvent("MeetingCancelled", data, at(week, 6)))
            else:  # moved to another time (maybe another week)
                world.meeting(person, at(week, 6, 8) + timedelta(days=rng.randint(-3, 3)), 1, key)
        for person, _ in rng.sample(people, min(len(people), rng.randint(0, 2))):
            data = {"person_id": str(person), "start_minute": rng.choice([420, 510, 600]),
                    "end_minute": rng.choice([900, 1005, 1080]),
                    "working_days": rng.sample(["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                                               rng.randint(1, 6)),
                    "time_zone": rng.choice(ZONES)}  # fmt: skip
            when = at(week, rng.randint(0, 6), rng.randint(0, 23))
            world.write(f"person-{person}", NewEvent("WorkingHoursSet", data, when))
        for team in ("A", "B"):
            if rng.random() < 0.7:
                world.pulse(team, week, {**SAFE, "workload": rng.randint(1, 7)})


def _snapshot(store: EventStore, tenant: uuid.UUID) -> dict[str, list[Any]]:
    out = {}
    with store.engine.connect() as conn:
        for table in LeversProjection.tables:
            rows = conn.execute(text(f"SELECT * FROM {table}")).all()
            out[table] = sorted((tuple(r) for r in rows), key=str)
    return out


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
@pytest.mark.parametrize("batch", [10_000, 37, 5, 1])
def test_rebuild_fold_equals_incremental(store: EventStore, seed: int, batch: int):
    """Whatever the batches of ``apply``, every table holds exactly the fold's rows (a
    team-week touched on the way, such as a person's week counted in their old team before a
    move, leaves no row behind)."""
    rng = random.Random(seed)
    world = make_world(store, {"A": None, "B": "A", "C": None})
    _history(world, rng)
    rt = runtime(store)
    rt.batch = batch
    rt.catch_up("levers")
    before = _snapshot(store, world.tenant)
    assert before["lever_team_weeks"] and before["lever_meetings"]
    rt.rebuild("levers")
    after = _snapshot(store, world.tenant)
    for table in LeversProjection.tables:
        assert after[table] == before[table], table

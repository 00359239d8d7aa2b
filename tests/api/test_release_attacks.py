"""Issue 17's attacks through the HTTP API. Each first shows the leak on the raw computation
(the unreleased read model, what the API served before releases), then that the released
figures do not give it: blend halves, the same week read twice, lowering k, sybils,
participation extremes, and a manager answering their own team's pulse."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text

from shared.commands import Actor, OrganizationCommands
from shared.domain import levers as model
from shared.eventlog import EventStore
from shared.projections import runtime
from shared.projections.capital import week_index
from shared.projections.levers import week_sums
from shared.releases.publish import publish_tenant
from shared.settings import Settings
from tests.integration.levers_world import MONDAY, SAFE, World, at, label, make_world

pytestmark = pytest.mark.integration
K = 5
W0 = week_index(MONDAY)
BUDGET = Settings(privacy_epsilon=20.0)
"""A budget under which the lever parts of the attacks' teams of 5 and 6 are published (their
detail items stay hidden): at the default one they are hidden outright (``too_noisy``,
tests/unit/test_releases.py), which would prove nothing about the other defences. Each test
holds with the smaller noise of this budget."""


def _admin(store: EventStore, world: World) -> dict[str, str]:
    commands = OrganizationCommands(store)
    admin = Actor(tenant_id=world.tenant, person_id=None, role="admin", source="test")
    invitation = commands.invite(admin, f"{uuid.uuid4().hex[:10]}@attack.test", "admin", None)
    commands.accept_invitation(world.tenant, invitation.person_id, "A", "correct-horse-battery")
    actor = Actor(tenant_id=world.tenant, person_id=invitation.person_id, source="test")
    _, token = commands.create_token(actor, "test")
    return {"Authorization": f"Bearer {token}"}


def _publish(store: EventStore, world: World, week: int) -> None:
    """What the scheduler does once week ``week`` is due."""
    world.project()
    publish_tenant(store, BUDGET, world.tenant, at(week + 1, 1, 1))
    runtime(store).catch_up("releases")


def _week(client: FlaskClient, headers: dict[str, str], world: World, team: str, week: int):
    response = client.get(
        f"/api/v1/teams/{world.teams[team]}/levers",
        headers=headers,
        query_string={"from": label(week), "to": label(week)},
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()["weeks"][0]


def _raw(store: EventStore, world: World, team: str, week: int) -> model.WeekSums:
    """The team's own unreleased sums: what the API computed live before releases."""
    with store.engine.connect() as conn:
        row = conn.execute(
            text("SELECT * FROM lever_team_weeks WHERE team_id = :t AND week_index = :w"),
            {"t": world.teams[team], "w": W0 + week},
        ).one()
    return week_sums(row)


def test_blend_halves(client: FlaskClient, store: EventStore):
    world = make_world(store, {"T": None})
    people = world.hire("T", 5)
    for _ in range(5):
        world.pulse("T", 0, SAFE)
    for day in range(5):  # one person's calendar: the only one
        world.meeting(people[0], at(0, day, 9), 6)
    _publish(store, world, 0)
    raw = _raw(store, world, "T", 0)
    lever = model.levers_of(raw)["time_pressure"]
    workload = raw.item("workload")[0] or 0
    assert lever.n == 5 and lever.value is not None  # raw: shown, n of the larger half
    their_pressure = raw.pressure / raw.calendar_people
    assert (lever.value - 0.4 * (100 - workload)) / 0.6 == pytest.approx(their_pressure, abs=0.2)

    week = _week(client, _admin(store, world), world, "T", 0)
    pressure = week["levers"]["time_pressure"]
    assert pressure["parts"] == ["item:workload"]  # the calendar half is not in it
    assert week["time_pressure_components"]["suppressed"] is True
    assert week["time_pressure_components"]["reason"] == "fewer_than_k"


def test_the_same_week_read_twice(client: FlaskClient, store: EventStore):
    world = make_world(store, {"T": None})
    world.hire("T", 6)
    for _ in range(5):
        world.pulse("T", 0, SAFE)
    _publish(store, world, 0)
    headers = _admin(store, world)
    first = _week(client, headers, world, "T", 0)
    before = _raw(store, world, "T", 0)
    secret = {**SAFE, "workload": 1, "incentives": 7}
    world.pulse("T", 0, secret)  # a sixth answer for the released week
    _publish(store, world, 0)
    after = _raw(store, world, "T", 0)
    mean = {i: (before.item(i)[0] or 0, after.item(i)[0] or 0) for i in ("workload", "incentives")}
    leaked = {i: 6 * b - 5 * a for i, (a, b) in mean.items()}
    assert leaked["workload"] == pytest.approx(model.item_score("workload", 1), abs=1)
    assert leaked["incentives"] == pytest.approx(model.item_score("incentives", 7), abs=1)

    assert _week(client, headers, world, "T", 0) == first  # the release, as it was


def test_lowering_k(client: FlaskClient, store: EventStore):
    world = make_world(store, {"Parent": None, "Sub": "Parent"})
    world.hire("Parent", 1)
    world.hire("Sub", 4)
    for week in (0, 1):
        world.pulse("Parent", week, {**SAFE, "ps4_safe_to_take_risk": 1})
        for _ in range(4):
            world.pulse("Sub", week, SAFE)
    _publish(store, world, 0)  # at k = 5
    raw_parent, raw_sub = _raw(store, world, "Parent", 0), _raw(store, world, "Sub", 0)
    both = raw_parent + raw_sub
    leaked = 5 * (both.item("ps4_safe_to_take_risk")[0] or 0) - 4 * (
        raw_sub.item("ps4_safe_to_take_risk")[0] or 0
    )
    assert leaked == pytest.approx(model.item_score("ps4_safe_to_take_risk", 1), abs=1)

    headers = _admin(store, world)
    response = client.put("/api/v1/org/settings", headers=headers,
                          json={"k": 3, "pulse_cadence_weeks": 1})  # fmt: skip
    assert response.status_code == 200
    _publish(store, world, 1)  # week 1 at k = 3
    for week in (0, 1):
        parent = _week(client, headers, world, "Parent", week)["pulse_items"]
        sub = _week(client, headers, world, "Sub", week)["pulse_items"]
        item = "ps4_safe_to_take_risk"
        assert parent[item]["suppressed"] or sub[item]["suppressed"], week
    assert _week(client, headers, world, "Sub", 0)["k"] == 5  # forward only
    assert _week(client, headers, world, "Sub", 0)["pulse_items"]["workload"]["suppressed"]
    assert (
        _week(client, headers, world, "Parent", 1)["levers"]["psychological_safety"]["reason"]
        == "protects_smaller_group"
    )


def test_sybils_cannot_recover_a_persons_answers(client: FlaskClient, store: EventStore):
    """An admin's four accounts and one real person: the item means minus the sybils'
    answers are the person's, exactly, on the raw numbers; in a release the noise of one
    item, times five, spans more than the whole 0-100 scale at 90%."""
    world = make_world(store, {"T": None})
    world.hire("T", 5)
    sybil = {item: 1 for item in model.ITEMS}
    target = {item: 7 for item in model.ITEMS}
    for _ in range(4):
        world.pulse("T", 0, sybil)
    world.pulse("T", 0, target)
    _publish(store, world, 0)
    raw = _raw(store, world, "T", 0)
    for item in model.ITEMS:
        recovered = 5 * (raw.item(item)[0] or 0) - 4 * model.item_score(item, 1)
        assert recovered == pytest.approx(model.item_score(item, 7), abs=1)

    week = _week(client, _admin(store, world), world, "T", 0)
    for item in model.ITEMS:
        cell = week["pulse_items"][item]
        hidden = cell["reason"] == "too_noisy"  # a detail item over 5 people: not published
        assert hidden or (cell["n"] == 5 and 5 * cell["margin"] >= 100), (item, cell)


def test_participation_extremes(client: FlaskClient, store: EventStore):
    world = make_world(store, {"Idle": None, "Busy": None})
    world.hire("Idle", 5)
    for _ in range(5):  # they answer the pulse, but nobody logs an action
        world.pulse("Idle", 0, SAFE)
    for person in world.hire("Busy", 5):
        world.act(person, 0)
    _publish(store, world, 0)
    assert model.levers_of(_raw(store, world, "Idle", 0))["participation"].value == 0.0
    assert model.levers_of(_raw(store, world, "Busy", 0))["participation"].value == 100.0

    headers = _admin(store, world)
    for team in ("Idle", "Busy"):
        cell = _week(client, headers, world, team, 0)["levers"]["participation"]
        assert cell["n"] == 5 and cell["margin"] >= 100 / 5  # wider than one person's share


def test_a_manager_answering_their_own_teams_pulse(client: FlaskClient, store: EventStore):
    world = make_world(store, {"T": None})
    world.hire("T", 6)
    for _ in range(7):  # six members and their manager
        world.pulse("T", 0, SAFE)
    _publish(store, world, 0)
    raw = _raw(store, world, "T", 0)
    assert raw.responses == 7 > raw.members == 6

    week = _week(client, _admin(store, world), world, "T", 0)
    safety = week["levers"]["psychological_safety"]
    assert safety["suppressed"] is False and safety["n"] == 6 == week["members"]
    assert all(c["n"] <= 6 for c in week["pulse_items"].values() if not c["suppressed"])


def test_releases_are_noised_once_and_differ_from_the_exact_figures(
    client: FlaskClient, store: EventStore
):
    world = make_world(store, {"T": None})
    for person in world.hire("T", 8)[:5]:
        world.act(person, 0)
    _publish(store, world, 0)
    headers = _admin(store, world)
    cell: dict[str, Any] = _week(client, headers, world, "T", 0)["levers"]["participation"]
    assert cell["n"] == 8 and cell["margin"] > 0
    assert _week(client, headers, world, "T", 0)["levers"]["participation"] == cell

"""The levers API: who sees what, the response contract (releases only), and the
subtraction attacks a manager could play with it (team vs parent team, a week vs the next
when a member leaves or joins, another range of weeks): the raw read model gives a person
away, the released figures are over whole-week members only, noised, and read the same
every time. tests/api/test_release_attacks.py plays the other attacks of issue 17."""

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
from tests.api.conftest import assert_problem
from tests.integration.levers_world import MONDAY, SAFE, World, at, label, make_world

pytestmark = pytest.mark.integration
K = 5
LEVERS = model.LEVER_NAMES
OTHER = {**SAFE, "ps4_safe_to_take_risk": 3, "workload": 6}
SECRET_ANSWERS = {**SAFE, "ps2_raise_problems": 1, "ps4_safe_to_take_risk": 1, "workload": 1}


def _person(store: EventStore, world: World, manages: str | None, role: str) -> dict[str, str]:
    commands = OrganizationCommands(store)
    admin = Actor(tenant_id=world.tenant, person_id=None, role="admin", source="test")
    invitation = commands.invite(admin, f"{uuid.uuid4().hex[:10]}@levers.test", role, None)
    commands.accept_invitation(world.tenant, invitation.person_id, "M", "correct-horse-battery")
    if manages:
        commands.assign_manager(admin, world.teams[manages], invitation.person_id)
    actor = Actor(tenant_id=world.tenant, person_id=invitation.person_id, source="test")
    _, token = commands.create_token(actor, "test")
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def attacked(store: EventStore) -> dict[str, Any]:
    """Eng above Platform (6), Mobile (5) and Design (2). In week 0 everyone acts and answers;
    at the end of week 0 Platform's ``leaver`` leaves (their answers differ from everyone
    else's); in week 2 a newcomer joins. The others behave the same every week, which is the
    attacker's best case: any difference between two weeks is the leaver's or joiner's."""
    world = make_world(store, {"Eng": None, "Platform": "Eng", "Mobile": "Eng", "Design": "Eng"})
    platform = world.hire("Platform", 6)
    mobile = world.hire("Mobile", 5)
    design = world.hire("Design", 2)
    leaver = platform[-1]
    world.leave(leaver, 0)
    newcomer = world.hire("Platform", 1, week=2)[0]
    for week in range(3):
        for person in platform[:-1] + mobile + design:
            world.act(person, week, "regular_signaling")
            world.pulse(next(t for t in ("Platform", "Mobile", "Design") if person in
                             world.people[t]), week, OTHER)  # fmt: skip
    world.act(leaver, 0, "small_exposure")  # stretch task: the only one in week 0
    world.pulse("Platform", 0, SECRET_ANSWERS)
    world.act(newcomer, 2, "small_exposure")
    world.pulse("Platform", 2, SECRET_ANSWERS)
    world.project()
    # a budget under which its teams of 5 pass the noise bound (docs/privacy.md, "Accuracy")
    publish_tenant(store, Settings(privacy_epsilon=20.0), world.tenant, at(3, 1))
    runtime(store).catch_up("releases")
    return {
        "world": world,
        "eng_manager": _person(store, world, "Eng", "manager"),
        "platform_manager": _person(store, world, "Platform", "manager"),
        "employee": _person(store, world, None, "employee"),
        "admin": _person(store, world, None, "admin"),
    }


def _get(client: FlaskClient, headers: dict[str, str], path: str, **query: str) -> dict[str, Any]:
    response = client.get(path, headers=headers, query_string=query)
    assert response.status_code == 200, response.get_json()
    return dict(response.get_json())


def _levers(client: FlaskClient, a: dict[str, Any], team: str, **query: str) -> dict[str, Any]:
    world: World = a["world"]
    return _get(
        client,
        a["eng_manager"],
        f"/api/v1/teams/{world.teams[team]}/levers",
        **({"from": label(0), "to": label(2)} | query),
    )


def test_the_response_has_the_design_shape(client: FlaskClient, attacked: dict[str, Any]):
    view = _levers(client, attacked, "Platform")
    assert (
        view["k"] == K and view["model_version"] == 1 and view["as_of_position"].startswith("p1.")
    )
    assert [w["week"] for w in view["weeks"]] == [label(0), label(1), label(2)]
    week = view["weeks"][0]
    assert week["released"] and week["k"] == K
    assert set(week["levers"]) == set(LEVERS)
    for cell in week["levers"].values():
        assert set(cell) == {"value", "n", "suppressed", "trend", "margin", "reason", "parts"}
        if cell["suppressed"]:
            assert cell["value"] is None and cell["n"] is None and cell["reason"]
        else:
            assert cell["n"] >= K and cell["margin"] > 0 and cell["parts"]
    participation = week["levers"]["participation"]
    assert participation["n"] == 5  # whole-week members: the leaver left during week 0
    assert week["members"] == 5
    assert set(week["pulse_items"]) == set(model.ITEMS)
    future = _levers(client, attacked, "Platform", **{"from": label(3), "to": label(3)})
    assert future["weeks"][0]["released"] is False  # not due yet: nothing shown, and why
    assert future["weeks"][0]["levers"]["participation"]["reason"] == "not_released"


def test_who_may_read_a_team(client: FlaskClient, attacked: dict[str, Any]):
    world: World = attacked["world"]
    path = f"/api/v1/teams/{world.teams['Mobile']}/levers"
    assert client.get(path, headers=attacked["eng_manager"]).status_code == 200  # parent team
    assert client.get(path, headers=attacked["admin"]).status_code == 200
    assert_problem(client.get(path, headers=attacked["platform_manager"]), 403)  # a sibling
    assert_problem(client.get(path, headers=attacked["employee"]), 403)
    assert_problem(client.get(f"/api/v1/teams/{uuid.uuid4()}/levers",
                              headers=attacked["admin"]), 404)  # fmt: skip
    assert_problem(client.get("/api/v1/org/levers", headers=attacked["eng_manager"]), 403)
    assert_problem(client.get(path), 401)


def test_bad_ranges_are_problems_per_field(client: FlaskClient, attacked: dict[str, Any]):
    world: World = attacked["world"]
    path = f"/api/v1/teams/{world.teams['Platform']}/levers"
    headers = attacked["eng_manager"]
    query = {"from": label(2), "to": label(0)}
    assert_problem(client.get(path, headers=headers, query_string=query), 422, "from")
    query = {"from": "2026-W60"}
    assert_problem(client.get(path, headers=headers, query_string=query), 422, "from")
    query = {"from": "2020-W01", "to": "2026-W10"}
    assert_problem(client.get(path, headers=headers, query_string=query), 422, "from")
    assert_problem(client.get(path, headers=headers, query_string={"team": "x"}), 422, "team")


def _raw(store: EventStore, world: World) -> dict[tuple[str, int], dict[str, model.Lever]]:
    """The unsuppressed levers, straight from the read model: what an attacker would love."""
    names = {v: k for k, v in world.teams.items()}
    with store.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT * FROM lever_team_weeks WHERE tenant_id = :t"), {"t": world.tenant}
        ).all()
    raw = {}
    for row in rows:
        if row.team_id in names:
            raw[(names[row.team_id], row.week_index)] = model.levers_of(week_sums(row))
    return raw


def _derived(a: tuple[float, int], b: tuple[float, int]) -> float:
    """What the people in the larger cell but not in the smaller one average to, if the
    rest are the same people with the same numbers."""
    (va, na), (vb, nb) = sorted([a, b], key=lambda c: -c[1])
    return (va * na - vb * nb) / (na - nb)


def test_subtraction_attacks_recover_nothing(
    client: FlaskClient, store: EventStore, attacked: dict[str, Any]
):
    world: World = attacked["world"]
    eng = _levers(client, attacked, "Eng")
    platform = _levers(client, attacked, "Platform")
    series: dict[str, list[dict[str, Any]]] = {"Eng": eng["weeks"], "Platform": platform["weeks"]}
    for sub in eng["sub_teams"]:
        series[sub["name"]] = sub["weeks"]
    # The same cells whether read from the parent or the team itself, whatever the range,
    # and however often: the release was computed and noised once.
    assert series["Platform"] == platform["weeks"]
    alone = _levers(client, attacked, "Platform", **{"from": label(1), "to": label(1)})
    assert alone["weeks"][0] == platform["weeks"][1]
    assert _levers(client, attacked, "Eng")["weeks"] == eng["weeks"]

    # The attacks work on raw numbers: the leaver's values come out exactly.
    raw = _raw(store, world)
    w0 = week_index(MONDAY)
    safety = [raw[("Platform", w0 + i)]["psychological_safety"] for i in (0, 1)]
    leaked = _derived((safety[0].value, safety[0].n), (safety[1].value, safety[1].n))
    secret_scale = model.likert_to_100(model.safety_scale(SECRET_ANSWERS) or 0)
    leaver_only = model.levers_of(
        model.WeekSums(members=1, stretchers=1, safety_n=1, safety_points=secret_scale)
    )
    assert leaked == pytest.approx(leaver_only["psychological_safety"].value, abs=0.2)

    # Through the API: whole-week members only, every shown figure over >= k people and
    # noised with a margin wider than one person's effect on it.
    for weeks in series.values():
        for week in weeks:
            for lever in LEVERS:
                cell = week["levers"][lever]
                if cell["suppressed"]:
                    continue
                assert cell["n"] >= K
                unit = 10.0 if lever == "micro_advancement_rate" else 100.0
                assert cell["margin"] >= unit / cell["n"], (lever, cell)
    assert [w["members"] for w in series["Platform"]] == [5, 5, 5]  # leaver, joiner: not whole
    assert series["Design"][0]["levers"]["participation"]["reason"] == "fewer_than_k"
    # Eng = Platform + Mobile + Design: Design's two people would come out by subtraction.
    assert series["Eng"][0]["levers"]["participation"]["reason"] == "protects_smaller_group"


def test_the_org_view_and_settings(client: FlaskClient, attacked: dict[str, Any]):
    admin = attacked["admin"]
    before = _levers(client, attacked, "Platform")
    org = _get(client, admin, "/api/v1/org/levers", **{"from": label(0), "to": label(2)})
    assert [t["name"] for t in org["teams"]] == ["Eng"]
    for week in org["weeks"]:
        for cell in week["levers"].values():
            assert cell["suppressed"] or cell["n"] >= K
    assert _get(client, admin, "/api/v1/org/settings") == {
        "k": K, "pulse_cadence_weeks": 1, "changed": False, "require_totp": False,
        "default_locale": "en"}  # fmt: skip
    response = client.put("/api/v1/org/settings", headers=admin,
                          json={"k": 2, "pulse_cadence_weeks": 3})  # fmt: skip
    assert_problem(response, 422, "k", "pulse_cadence_weeks")
    assert _get(client, admin, "/api/v1/org/settings")["changed"] is False  # nothing written
    response = client.put("/api/v1/org/settings", headers=admin,
                          json={"k": 7, "pulse_cadence_weeks": 2})  # fmt: skip
    assert response.status_code == 200, response.get_json()
    view = _levers(client, attacked, "Platform")
    assert view["k"] == 7
    # k changes forward only: the released weeks keep the k (and figures) they had.
    assert view["weeks"] == before["weeks"] and view["weeks"][0]["k"] == K
    assert view["weeks"][0]["levers"]["participation"]["suppressed"] is False
    response = client.put("/api/v1/org/settings", headers=admin,
                          json={"k": K, "pulse_cadence_weeks": 1})  # fmt: skip
    assert response.status_code == 200
    # PATCH: one setting alone, the others keep their values; a bad one writes nothing.
    response = client.patch("/api/v1/org/settings", headers=admin, json={"k": K + 1})
    assert response.get_json() == {
        "k": K + 1, "pulse_cadence_weeks": 1, "changed": True, "require_totp": False,
        "default_locale": "en"}  # fmt: skip
    response = client.patch("/api/v1/org/settings", headers=admin, json={"pulse_cadence_weeks": 2})
    assert (response.get_json()["k"], response.get_json()["pulse_cadence_weeks"]) == (K + 1, 2)
    assert_problem(client.patch("/api/v1/org/settings", headers=admin,
                                json={"k": 2, "pulse_cadence_weeks": 4}), 422, "k")  # fmt: skip
    assert_problem(client.patch("/api/v1/org/settings", headers=admin, json={"kk": 4}), 422)
    assert _get(client, admin, "/api/v1/org/settings")["pulse_cadence_weeks"] == 2
    response = client.patch("/api/v1/org/settings", headers=admin,
                            json={"k": K, "pulse_cadence_weeks": 1})  # fmt: skip
    assert response.status_code == 200
    assert_problem(client.put("/api/v1/org/settings", headers=attacked["eng_manager"],
                              json={"k": 9, "pulse_cadence_weeks": 1}), 403)  # fmt: skip


def test_the_org_view_shows_a_team_as_the_team_view_does(
    client: FlaskClient, attacked: dict[str, Any]
):
    """The organisation's view is dumped by a compiled schema (services/gateway/api/
    fast_dump.py), a team's by marshmallow: the same released weeks read the same."""
    world: World = attacked["world"]
    query = {"from": label(0), "to": label(3)}  # week 3: not released yet
    org = _get(client, attacked["admin"], "/api/v1/org/levers", **query)
    team = _get(client, attacked["admin"], f"/api/v1/teams/{world.teams['Eng']}/levers", **query)
    assert org["teams"][0]["team_id"] == str(world.teams["Eng"])
    assert org["teams"][0]["weeks"] == team["weeks"]
    assert any(week["released"] for week in team["weeks"])
    assert any(not week["released"] for week in team["weeks"])

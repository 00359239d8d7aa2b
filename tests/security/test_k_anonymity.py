"""k-anonymity against subtraction: the attacks of tests/api/test_levers.py (a team against its
parent, a week against another when someone leaves or joins, another range of weeks, the
organisation against its teams), played through the API on the same world, counted for
docs/reliability.md.

The world (``attacked``): Eng above Platform (6), Mobile (5) and Design (2); Platform's
leaver goes after week 0 and a newcomer joins in week 2, both answering the pulse unlike
everyone else. On the raw read model the attack recovers the leaver's answers exactly; through
the API no two related visible cells differ by fewer than k people.
"""

from __future__ import annotations

from itertools import combinations
from typing import Any

import pytest
from flask.testing import FlaskClient

from shared.domain import levers as model
from shared.eventlog import EventStore
from shared.projections.capital import week_index
from tests.api.test_levers import (
    LEVERS,
    SECRET_ANSWERS,
    K,
    _derived,
    _get,
    _levers,
    _raw,
    attacked,
)
from tests.integration.levers_world import MONDAY, World, label
from tests.reliability.report import Figures

pytestmark = pytest.mark.integration
__all__ = ["attacked"]  # the fixture, shared with tests/api/test_levers.py
SUBTEAMS = ("Platform", "Mobile", "Design")
Cell = dict[str, Any]


def isolates(a: Cell, b: Cell) -> bool:
    """Two visible cells whose difference is over 1 to k-1 people."""
    if a["suppressed"] or b["suppressed"]:
        return False
    return 0 < abs(a["n"] - b["n"]) < K


def test_subtraction_attacks_recover_nobody(
    client: FlaskClient, store: EventStore, attacked: dict[str, Any], figures: Figures
) -> None:
    world: World = attacked["world"]
    # The attack is real: on the raw read model, week 0 minus week 1 is the leaver alone.
    raw = _raw(store, world)
    w0 = week_index(MONDAY)
    safety = [raw[("Platform", w0 + i)]["psychological_safety"] for i in (0, 1)]
    values = [cell.value for cell in safety]
    assert values[0] is not None and values[1] is not None
    leaked = _derived((values[0], safety[0].n), (values[1], safety[1].n))
    secret = model.likert_to_100(model.safety_scale(SECRET_ANSWERS) or 0)
    alone = model.levers_of(
        model.WeekSums(members=1, stretchers=1, safety_n=1, safety_points=secret)
    )
    assert leaked == pytest.approx(alone["psychological_safety"].value, abs=0.2)

    # Through the API: the parent's view with its sub-teams, each team's own view, other
    # ranges of weeks, and the organisation (admin).
    eng = _levers(client, attacked, "Eng")
    series: dict[str, list[dict[str, Any]]] = {"Eng": eng["weeks"]}
    for sub in eng["sub_teams"]:
        series[sub["name"]] = sub["weeks"]
    views = 1
    for team in SUBTEAMS:
        own = _levers(client, attacked, team)["weeks"]
        views += 1
        assert own == series[team], team  # the same cells from the team and from its parent
        for i in range(3):
            single = _levers(client, attacked, team, **{"from": label(i), "to": label(i)})
            views += 1
            assert single["weeks"][0] == series[team][i], (team, i)
    org = _get(
        client, attacked["admin"], "/api/v1/org/levers", **{"from": label(0), "to": label(2)}
    )
    views += 1
    series["organisation"] = org["weeks"]

    cells = [w["levers"][lever] for weeks in series.values() for w in weeks for lever in LEVERS]
    pairs: list[tuple[Cell, Cell]] = []
    for lever in LEVERS:
        for weeks in series.values():  # a week against any other of the same scope
            pairs += combinations([w["levers"][lever] for w in weeks], 2)
        for i in range(3):
            parent = series["Eng"][i]["levers"][lever]
            children = [series[t][i]["levers"][lever] for t in SUBTEAMS]
            pairs += [(parent, child) for child in children]  # a team against its parent
            pairs.append((series["organisation"][i]["levers"][lever], parent))
            if not parent["suppressed"]:  # the parent minus every visible part
                hidden = parent["n"] - sum(c["n"] for c in children if not c["suppressed"])
                assert hidden == 0 or hidden >= K, (lever, i, hidden)
    isolating = [(a, b) for a, b in pairs if isolates(a, b)]
    assert not isolating, isolating[:5]
    assert all(c["suppressed"] or c["n"] >= K for c in cells)
    assert all(c["value"] is None for c in cells if c["suppressed"])
    # What stays visible is still useful (not everything suppressed).
    visible = sum(not c["suppressed"] for c in cells)
    assert visible >= 10
    figures.record(
        "k-anonymity",
        "Security",
        "k-anonymity against subtraction (k = 5): a team against its parent, a week against "
        "another as people leave and join, other ranges of weeks, the organisation against its "
        "teams (the attacks of tests/api/test_levers.py, which recover a leaver's answers "
        "exactly from the raw read model): no visible cell under k people, no two related "
        "visible cells differing by 1 to k-1 people",
        "tests/security/test_k_anonymity.py",
        api_views_read=views,
        cells_read=len(cells),
        cells_visible=visible,
        cells_suppressed=len(cells) - visible,
        pairs_of_related_cells_compared=len(pairs),
        pairs_isolating_someone=len(isolating),
    )

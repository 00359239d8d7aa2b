"""Stored organisation lever views: computed once, served to every process while they
reflect what the caller asked for, recomputed by the scheduler when the projection moves."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from shared.eventlog import EventStore
from shared.projections import levers
from shared.projections.levers import _read_org_levers, read_org_levers, refresh_org_views
from tests.integration.levers_world import make_world

pytestmark = pytest.mark.integration
W0 = levers.week_index(levers.week_start("2026-W10"))


def position(store: EventStore) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(text("SELECT position FROM projections WHERE name = 'levers'"))
                   .scalar_one())  # fmt: skip


def test_a_stored_view_is_served_until_the_scheduler_refreshes_it(
    store: EventStore, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(levers, "CHEAP_ORG_VIEW_MS", -1)  # as if each took seconds to compute
    world = make_world(store, {"Eng": None, "Platform": "Eng", "Data": None})
    for person in world.hire("Platform", 6) + world.hire("Data", 6):
        world.act(person, 0)
    world.project()
    first = position(store)
    with store.engine.connect() as conn:
        computed = read_org_levers(conn, world.tenant, W0, W0 + 1, 5, first)
        fresh = _read_org_levers(conn, world.tenant, W0, W0 + 1, 5)
    assert computed == {**fresh, "as_of_position": first}
    assert computed["weeks"][0]["levers"]["participation"]["value"] == 100.0

    levers._ORG_CACHE.clear()  # another process: the stored view, exactly as computed
    with store.engine.connect() as conn:
        assert read_org_levers(conn, world.tenant, W0, W0 + 1, 5, first) == computed

    world.hire("Data", 6)  # six newcomers who do nothing: participation falls
    world.project()
    second = position(store)
    assert second > first
    levers._ORG_CACHE.clear()
    with store.engine.connect() as conn:
        stale = read_org_levers(conn, world.tenant, W0, W0 + 1, 5, second)
        asked = read_org_levers(conn, world.tenant, W0, W0 + 1, 5, second, min_position=second)
    assert stale == computed  # what is stored, saying which position it reflects
    assert asked["as_of_position"] == second  # a caller who asks for more gets it computed
    assert asked["weeks"][0]["levers"]["participation"]["value"] < 100.0

    world.hire("Data", 1)
    world.project()
    assert refresh_org_views(store.engine) >= 1
    levers._ORG_CACHE.clear()
    with store.engine.connect() as conn:
        served = read_org_levers(conn, world.tenant, W0, W0 + 1, 5, position(store))
        assert served["as_of_position"] == position(store)
        assert served == {**_read_org_levers(conn, world.tenant, W0, W0 + 1, 5),
                          "as_of_position": position(store)}  # fmt: skip
    assert refresh_org_views(store.engine) == 0  # nothing moved since


def test_a_view_cheap_to_compute_is_always_fresh(store: EventStore):
    world = make_world(store, {"Data": None})
    for person in world.hire("Data", 6):
        world.act(person, 0)
    world.project()
    with store.engine.connect() as conn:
        before = read_org_levers(conn, world.tenant, W0, W0, 5, position(store))
    world.hire("Data", 6)
    world.project()
    levers._ORG_CACHE.clear()
    with store.engine.connect() as conn:
        after = read_org_levers(conn, world.tenant, W0, W0, 5, position(store))
    assert after["as_of_position"] == position(store) > before["as_of_position"]
    assert after["weeks"][0]["levers"]["participation"]["value"] == 50.0

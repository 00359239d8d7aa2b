"""Stored organisation lever views: computed once (per week, any range served from them),
served to every process while they reflect what the caller asked for, recomputed by the
scheduler when the projection moves and computed by it before anyone asks."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import text

from shared.domain.weeks import week_start
from shared.eventlog import EventStore
from shared.projections.capital import week_index
from shared.projections.levers import org_views as levers
from shared.projections.levers import read_org_levers, refresh_org_views
from shared.projections.levers.reads import compute_org_levers as _read_org_levers
from shared.settings import Settings
from tests.integration.levers_world import make_world
from workers import scheduler

pytestmark = pytest.mark.integration
W0 = week_index(week_start("2026-W10"))


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


def test_any_range_and_any_part_is_served_from_the_stored_weeks_exactly_as_computed(
    store: EventStore, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(levers, "CHEAP_ORG_VIEW_MS", -1)
    world = make_world(store, {"Eng": None, "Platform": "Eng", "Data": None, "Ops": None})
    platform, data = world.hire("Platform", 6), world.hire("Data", 7)
    world.hire("Ops", 3)  # under k: hidden, and a complement hidden with it
    for week in range(4):
        for person in platform[: 3 + week] + data[week:]:
            world.act(person, week)
    world.leave(data[0], 2)  # a leaver: week-over-week protection
    world.project()
    now = position(store)
    assert refresh_org_views(store.engine, [(world.tenant, 5)]) >= 1  # before anyone asks
    assert refresh_org_views(store.engine, [(world.tenant, 5)]) == 0  # nothing moved since
    for first, last in ((W0, W0 + 3), (W0 + 1, W0 + 2), (W0 + 3, W0 + 3), (W0 - 5, W0 + 1)):
        levers._ORG_CACHE.clear()
        with store.engine.connect() as conn:
            fresh = {**_read_org_levers(conn, world.tenant, first, last, 5), "as_of_position": now}
            assert read_org_levers(conn, world.tenant, first, last, 5, now) == fresh
            overview = read_org_levers(conn, world.tenant, first, last, 5, now, teams="last")
            detail = read_org_levers(conn, world.tenant, first, last, 5, now, teams="none")
        assert overview["weeks"] == detail["weeks"] == fresh["weeks"]
        assert overview["teams"] == [
            {**team, "weeks": team["weeks"][-1:]} for team in fresh["teams"]
        ]
        assert detail["teams"] == []
    hidden = [t for t in fresh["teams"] if t["weeks"][-1]["levers"]["participation"]["suppressed"]]
    assert {t["name"] for t in hidden} >= {"Ops"}
    with store.engine.connect() as conn:
        count = conn.execute(
            text("SELECT count(*) FROM lever_org_view_weeks WHERE tenant_id = :t"),
            {"t": world.tenant},
        ).scalar_one()
    assert count >= levers.STORED_WEEKS  # a year of weeks up to this one, whatever was asked


def test_a_refresh_rewrites_only_the_weeks_that_changed(store: EventStore):
    world = make_world(store, {"Data": None, "Ops": None})
    people = world.hire("Data", 6) + world.hire("Ops", 6)
    for person in people:
        world.act(person, 0)
    world.project()
    assert refresh_org_views(store.engine, [(world.tenant, 5)]) >= 1

    def versions() -> dict[int, str]:
        with store.engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT week_index, xmin::text FROM lever_org_view_weeks WHERE tenant_id = :t"
                ),
                {"t": world.tenant},
            )
            return dict(rows.all())

    before = versions()
    for person in people[:3]:
        world.act(person, 2)  # a later week only: earlier weeks read the same
    world.project()
    assert refresh_org_views(store.engine, [(world.tenant, 5)]) >= 1
    after = versions()
    assert after.keys() == before.keys()
    assert {w for w in after if after[w] != before[w]} == {W0 + 2}  # no data after it
    levers._ORG_CACHE.clear()
    with store.engine.connect() as conn:
        served = read_org_levers(conn, world.tenant, W0, W0 + 2, 5, position(store))
        assert served == {**_read_org_levers(conn, world.tenant, W0, W0 + 2, 5),
                          "as_of_position": position(store)}  # fmt: skip


def test_views_nobody_reads_are_dropped_unless_the_scheduler_wants_them(store: EventStore):
    world = make_world(store, {"Data": None})
    for person in world.hire("Data", 6):
        world.act(person, 0)
    world.project()
    with store.engine.connect() as conn:
        read_org_levers(conn, world.tenant, W0, W0, 5, position(store))
        read_org_levers(conn, world.tenant, W0, W0, 7, position(store))  # k changed since
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE lever_org_views SET read_at = now() - interval '15 days'"))
    refresh_org_views(store.engine, [(world.tenant, 5)])
    mine = {"t": world.tenant}
    with store.engine.connect() as conn:
        kept = conn.execute(
            text("SELECT k FROM lever_org_views WHERE tenant_id = :t"), mine
        ).scalars()
        weeks = conn.execute(
            text("SELECT DISTINCT k FROM lever_org_view_weeks WHERE tenant_id = :t"), mine
        ).scalars()
        kept_k, weeks_k = list(kept), list(weeks)
    assert kept_k == [5] and weeks_k == [5]


def test_the_scheduler_stores_each_organisations_view_at_its_k_before_anyone_asks(
    store: EventStore, settings: Settings, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(levers, "CHEAP_ORG_VIEW_MS", -1)
    world = make_world(store, {"Data": None})
    for person in world.hire("Data", 6):
        world.act(person, 0)
    world.project()
    scheduler.refresh_org_views(store.engine, replace(settings, k_anonymity=4))
    with store.engine.connect() as conn:
        stored = conn.execute(
            text("SELECT k, position FROM lever_org_views WHERE tenant_id = :t"),
            {"t": world.tenant},
        ).all()
    assert [tuple(row) for row in stored] == [(4, position(store))]
    world.hire("Data", 6)
    world.project()  # not refreshed yet: a costly view is served as stored
    levers._ORG_CACHE.clear()
    with store.engine.connect() as conn:
        served = read_org_levers(conn, world.tenant, W0, W0, 4, position(store))
    assert served["as_of_position"] == stored[0].position < position(store)
    assert served["weeks"][0]["levers"]["participation"]["value"] == 100.0


def test_a_move_that_leaves_the_organisations_rows_alone_only_moves_its_position(
    store: EventStore, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(levers, "CHEAP_ORG_VIEW_MS", -1)
    ours = make_world(store, {"Data": None})
    for person in ours.hire("Data", 6):
        ours.act(person, 0)
    ours.project()
    assert refresh_org_views(store.engine, [(ours.tenant, 5)]) >= 1
    mine = {"t": ours.tenant}

    def state() -> tuple[object, ...]:
        with store.engine.connect() as conn:
            row = conn.execute(
                text("SELECT position, refreshed_at FROM lever_org_views WHERE tenant_id = :t"),
                mine,
            ).one()
            return tuple(row)

    def weeks() -> dict[int, str]:
        with store.engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT week_index, xmin::text FROM lever_org_view_weeks WHERE tenant_id = :t"
                ),
                mine,
            )
            return dict(rows.all())

    before, computed = weeks(), state()
    other = make_world(store, {"Ops": None})  # another organisation's events
    for person in other.hire("Ops", 6):
        other.act(person, 0)
    other.project()
    moved = position(store)
    refresh_org_views(store.engine, [(ours.tenant, 5)])
    assert weeks() == before and state() == (moved, computed[1])  # not recomputed
    levers._ORG_CACHE.clear()
    with store.engine.connect() as conn:
        served = read_org_levers(conn, ours.tenant, W0, W0, 5, moved, min_position=moved)
        assert served == {**_read_org_levers(conn, ours.tenant, W0, W0, 5), "as_of_position": moved}

    ours.hire("Data", 6)  # our rows change: a reader who asks for them gets them computed
    ours.project()
    levers._ORG_CACHE.clear()
    with store.engine.connect() as conn:
        now = position(store)
        asked = read_org_levers(conn, ours.tenant, W0, W0, 5, now, min_position=now)
    assert asked["as_of_position"] == now
    assert asked["weeks"][0]["levers"]["participation"]["value"] == 50.0
    assert weeks() != before and state()[1] != computed[1]

"""Releases on real PostgreSQL: computed once when a week closes (plus the grace period),
kept as events, idempotent under retries and concurrent publishers, unchanged by late
events and by a later k, reproduced by a rebuild, over eligible people only."""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from shared.commands.base import system_actor
from shared.commands.settings import change_settings
from shared.eventlog import EventStore
from shared.projections import runtime
from shared.projections.capital import week_index
from shared.releases.inputs import tenant_week
from shared.releases.publish import last_due_week, publish_tenant
from shared.releases.reads import read_team_releases
from shared.settings import Settings
from tests.integration.levers_world import MONDAY, SAFE, World, at, make_world

pytestmark = pytest.mark.integration
W0 = week_index(MONDAY)
SETTINGS = Settings(release_grace_hours=24, privacy_epsilon=50.0)  # small teams pass the bound


class ExactNoise:
    """No noise, to check the populations and the arithmetic."""

    def laplace(self, value: float, scale: float) -> float:
        return value

    def margin(self, scale: float, alpha: float) -> float:
        return 0.0


def _due(week: int) -> Any:
    """A moment at which week ``week`` (after W10) is due, and the next is not."""
    return at(week + 1, 1, 1)


def _team(world: World, team: str, week: int, first: int = 0) -> dict[str, Any]:
    runtime(world.store).catch_up("releases")
    with world.store.engine.connect() as conn:
        return read_team_releases(conn, world.tenant, world.teams[team], W0 + first, W0 + week, 5)


def _platform(store: EventStore, size: int = 6) -> tuple[World, list[Any]]:
    world = make_world(store, {"Platform": None})
    people = world.hire("Platform", size)
    for person in people[:4]:
        world.act(person, 0)
    for _ in range(size):
        world.pulse("Platform", 0, SAFE)
    world.project()
    return world, people


def test_a_week_is_due_a_grace_period_after_it_closes():
    closes = at(1, 0, 0)  # Monday 00:00 after week 0
    assert last_due_week(closes + timedelta(hours=23), 24) == W0 - 1
    assert last_due_week(closes + timedelta(hours=24), 24) == W0


def test_a_release_is_published_once_and_reads_the_same(store: EventStore):
    world, _ = _platform(store)
    done = publish_tenant(store, SETTINGS, world.tenant, _due(0))
    assert done.weeks == 2 and done.releases == 4  # weeks -1 and 0: the org and Platform
    assert publish_tenant(store, SETTINGS, world.tenant, _due(0)).releases == 0
    first = _team(world, "Platform", 1)
    week = first["weeks"][0]
    assert week["released"] and week["k"] == 5 and week["members"] == 6
    assert week["levers"]["participation"]["margin"] > 0
    assert not first["weeks"][1]["released"]  # the open week is never shown
    assert first["weeks"][1]["levers"]["participation"]["reason"] == "not_released"
    assert _team(world, "Platform", 1) == first  # re-reads are identical (noise drawn once)


def test_late_events_and_a_lower_k_change_no_release(store: EventStore):
    world, people = _platform(store, size=5)
    publish_tenant(store, SETTINGS, world.tenant, _due(0))
    before = _team(world, "Platform", 0)["weeks"][0]
    world.pulse("Platform", 0, {**SAFE, "workload": 1})  # late answer for week 0
    world.act(people[4], 0)
    world.project()
    change_settings(store, system_actor(world.tenant), 3, 1)
    publish_tenant(store, SETTINGS, world.tenant, _due(1))
    weeks = _team(world, "Platform", 1)["weeks"]
    assert weeks[0] == before and weeks[0]["k"] == 5
    assert weeks[1]["k"] == 3  # the new k applies forward only


def test_only_whole_week_members_are_eligible(store: EventStore):
    world = make_world(store, {"Platform": None, "Mobile": None})
    stayers = world.hire("Platform", 5)
    joiner = world.hire("Platform", 1, week=0)[0]  # joins during week 0
    mover = world.hire("Mobile", 1)[0]
    world.move(mover, "Mobile", "Platform", 0)  # moves in during week 0
    leaver = world.hire("Platform", 1)[0]
    world.leave(leaver, 0)  # leaves during week 0
    for person in (*stayers, joiner, mover, leaver):
        world.act(person, 0)
    world.project()
    publish_tenant(store, SETTINGS, world.tenant, _due(1), ExactNoise())
    weeks = _team(world, "Platform", 1)["weeks"]
    assert weeks[0]["members"] == 5  # the stayers only
    assert weeks[1]["members"] == 7  # the joiner and the mover count from the next week


def test_concurrent_publishers_write_each_release_once(store: EventStore):
    world, _ = _platform(store)
    errors: list[BaseException] = []

    def publish() -> None:
        try:
            publish_tenant(store, SETTINGS, world.tenant, _due(2))
        except BaseException as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=publish) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    with store.engine.connect() as conn:
        counts = conn.execute(
            text(
                "SELECT stream_id, count(*) AS n FROM events WHERE tenant_id = :t"
                " AND type = 'LeverReleasePublished' GROUP BY stream_id"
            ),
            {"t": world.tenant},
        ).all()
    assert len(counts) == 2 * 4 and {row.n for row in counts} == {1}


def test_a_rebuild_reproduces_every_release(store: EventStore):
    world, _ = _platform(store)
    publish_tenant(store, SETTINGS, world.tenant, _due(1))
    before = _team(world, "Platform", 1)
    runtime(store).rebuild("releases")
    assert _team(world, "Platform", 1) == before


def test_exact_figures_match_the_levers_model(store: EventStore):
    """Without noise, a release of a stable team gives what the live levers computed."""
    world, _ = _platform(store)
    publish_tenant(store, replace(SETTINGS), world.tenant, _due(0), ExactNoise())
    week = _team(world, "Platform", 0)["weeks"][0]
    assert week["levers"]["participation"]["value"] == round(100 * 4 / 6, 1)
    assert week["levers"]["micro_advancement_rate"]["value"] == round(4 / 6, 2)
    assert week["pulse_items"]["workload"]["value"] == round((3 - 1) / 6 * 100, 1)
    assert week["levers"]["psychological_safety"]["parts"] == [
        "safety_survey",
        "safety_behaviour",
    ]
    with store.engine.connect() as conn:
        stored = conn.execute(
            text("SELECT data FROM events WHERE stream_id = :s"),
            {"s": f"release-{world.teams['Platform']}-{week['week']}"},
        ).scalar_one()
    assert json.loads(stored["release"])["members"] == 6 and stored["k"] == 5


def test_the_schedulers_job_catches_the_levers_up_and_publishes(
    store: EventStore, settings: Settings, monkeypatch: pytest.MonkeyPatch
):
    from shared.releases import publish
    from workers.scheduler import publish_releases

    world = make_world(store, {"Platform": None})
    for person in world.hire("Platform", 7):  # 7: a lever's part needs 7 at the default budget
        world.act(person, 0)  # not projected yet: the job catches the levers up first
    monkeypatch.setattr(publish, "tenants", lambda _store: [world.tenant])
    assert publish_releases(settings, store.engine) > 0
    assert publish_releases(settings, store.engine) == 0  # every due week is released
    assert _team(world, "Platform", 0)["weeks"][0]["members"] == 7


def test_a_backlog_is_worked_off_in_bounded_runs(store: EventStore):
    world, _ = _platform(store)  # weeks -1 to 2 due
    assert publish_tenant(store, SETTINGS, world.tenant, _due(2), limit=1).weeks == 1
    assert publish_tenant(store, SETTINGS, world.tenant, _due(2), limit=2).weeks == 2
    assert publish_tenant(store, SETTINGS, world.tenant, _due(2)).weeks == 1
    assert publish_tenant(store, SETTINGS, world.tenant, _due(2)).weeks == 0


@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["A", "B"]),  # team of the invitation
            st.integers(-2, 1),  # invited and joined in this week
            st.none() | st.integers(0, 3),  # moved to the other team in this week
            st.none() | st.integers(0, 3),  # left in this week
        ),
        min_size=1,
        max_size=8,
    )
)
def test_eligibility_over_random_memberships(store: EventStore, people: list[Any]):
    """Whoever was invited, moved or left during a week is in no team's population of it;
    everyone else is in the team they were in all week."""
    world = make_world(store, {"A": None, "B": None})
    expected: dict[tuple[str, int], int] = {}
    for team, hired, moved, left in people:
        person = world.hire(team, 1, week=hired)[0]
        other = "B" if team == "A" else "A"
        if moved is not None and moved <= hired:
            moved = None
        if moved is not None:
            world.move(person, team, other, moved)
        if left is not None and left > hired and (moved is None or left > moved):
            world.leave(person, left)
        else:
            left = None
        for week in range(0, 4):
            inside = hired < week and (left is None or week < left) and week != moved
            if inside:
                now = other if moved is not None and week > moved else team
                expected[(now, week)] = expected.get((now, week), 0) + 1
    world.project()
    with store.engine.connect() as conn:
        for week in range(0, 4):
            inputs = tenant_week(conn, world.tenant, W0 + week)
            for team in ("A", "B"):
                own = inputs.own.get(str(world.teams[team]))
                assert (own.members if own else 0) == expected.get((team, week), 0), (team, week)


def test_the_cli_publishes_and_prints_the_accuracy_table(
    store: EventStore, settings: Settings, monkeypatch: pytest.MonkeyPatch
):
    from click.testing import CliRunner

    from services.cli.releases import releases
    from shared.releases import publish
    from shared.releases.accuracy import accuracy_table

    world, _ = _platform(store)
    monkeypatch.setattr(publish, "tenants", lambda _store: [world.tenant])
    monkeypatch.setenv("DATABASE_URL", settings.database_url or "")
    monkeypatch.setenv("COMPOUND_MASTER_KEYS", ",".join(settings.master_keys))
    monkeypatch.setenv("COMPOUND_PRIVACY_EPSILON", "4")
    done = CliRunner().invoke(releases, ["publish"])
    assert done.exit_code == 0, done.output
    assert "releases of" in done.output and not done.output.startswith("0 ")
    again = CliRunner().invoke(releases, ["publish"])
    assert again.output.startswith("0 releases"), again.output
    table = CliRunner().invoke(releases, ["accuracy"])
    assert table.exit_code == 0 and table.output.strip() == accuracy_table(4.0).strip()

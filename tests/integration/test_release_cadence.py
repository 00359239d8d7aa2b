"""With a pulse every 2 or 4 weeks, a week is released after its pulse period closes (#17).

Before: a week was released a grace period after it closed, while a small team's answers for
it still waited, sealed, for k of them or the period's close (shared/pulses/vault.py): they
entered the log after the release and were in none. Now every week of a period is due the
grace period after the period closes (``last_due_week`` with the organisation's cadence).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.commands.base import system_actor
from shared.commands.settings import change_settings
from shared.domain.weeks import label_index, pulse_period, week_index, week_label
from shared.eventlog import EventStore
from shared.projections import runtime
from shared.pulses.vault import PulseVault
from shared.releases.publish import last_due_week, publish_tenant
from shared.releases.reads import read_team_releases
from shared.settings import Settings
from tests.integration.levers_world import MONDAY, SAFE, at, label, make_world

pytestmark = pytest.mark.integration
K = 5
W0 = week_index(MONDAY)


@given(
    st.datetimes(
        min_value=datetime(1, 3, 1), max_value=datetime(9999, 12, 1), timezones=st.just(UTC)
    ),
    st.sampled_from([1, 2, 4]),
    st.integers(min_value=0, max_value=72),
)
def test_the_last_due_week_ends_a_closed_period(now: datetime, cadence: int, grace: int):
    last = last_due_week(now, grace, cadence)
    closed = last + 1  # the first week of the period after it
    assert label_index(pulse_period(week_label(closed), cadence)) == closed
    current = week_index((now - timedelta(hours=grace)).date())
    assert closed <= current < closed + cadence  # the period after it has not closed
    if cadence == 1:
        assert last == current - 1


def _answer(vault: PulseVault, tenant: uuid.UUID, team: uuid.UUID, week: int, period: int) -> int:
    """One member's answer for ``week``; the batch it completed, if any (k = 5)."""
    closes = datetime.combine(MONDAY + timedelta(weeks=period + 2), datetime.min.time(), UTC)
    with vault.store.engine.begin() as conn:
        key = vault.period_key(conn, tenant, label(period), closes)
        assert key is not None
        assert vault.record(conn, key, uuid.uuid4(), team, label(week), SAFE) == "new"
        return vault.release(conn, key, team, K)


def _week(store: EventStore, tenant: uuid.UUID, team: uuid.UUID, week: int) -> dict[str, Any]:
    runtime(store).catch_up("releases")
    with store.engine.connect() as conn:
        view = read_team_releases(conn, tenant, team, W0 + week, W0 + week, K)
    return view["weeks"][0]


def test_answers_waiting_in_a_fortnight_reach_their_weeks_release(store: EventStore):
    world = make_world(store, {"T": None})
    world.hire("T", 8)
    change_settings(store, system_actor(world.tenant), K, 2)
    first = next(w for w in (0, 1) if pulse_period(label(w), 2) == label(w))
    # a budget under which a lever's parts over 5 people pass the noise bound
    team, vault, settings = world.teams["T"], PulseVault(store), Settings(privacy_epsilon=20.0)
    for _ in range(3):  # three answers for the period's first week wait: fewer than k
        assert _answer(vault, world.tenant, team, first, first) == 0
    world.project()
    after_first = at(first + 1, 1, 1)  # the first week closed a grace period ago
    assert last_due_week(after_first, 24) == W0 + first  # the old rule: released now ...
    assert store.read_stream(f"pulse-{team}-{label(first)}") == []  # ... without the three
    publish_tenant(store, settings, world.tenant, after_first)
    assert not _week(store, world.tenant, team, first)["released"]  # it waits for the period

    assert _answer(vault, world.tenant, team, first, first) == 0  # late in the fortnight
    assert _answer(vault, world.tenant, team, first, first) == K  # k wait: a batch
    assert _answer(vault, world.tenant, team, first + 1, first) == 0
    closed, released = vault.close_due(at(first + 2, 0, 0) + timedelta(minutes=1))
    assert (closed, released) == (1, 1)
    world.project()
    publish_tenant(store, settings, world.tenant, at(first + 2, 1, 1))
    week = _week(store, world.tenant, team, first)
    assert week["released"]
    safety = week["levers"]["psychological_safety"]
    assert safety["suppressed"] is False and safety["n"] == K  # all five answers of the week
    assert _week(store, world.tenant, team, first + 1)["released"]

"""Incremental projection, in random batch sizes with crashes between and inside batches,
equals a one-pass rebuild: identical read-model rows (property test, real PostgreSQL)."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from shared.domain.tactics import AUDIENCES, OUTCOME_KINDS, TACTICS
from shared.eventlog import EventStore, NewEvent
from shared.projections.capital import CapitalProjection
from shared.projections.runtime import Projection, Runtime
from tests.integration.isolated_projections import isolated as isolated_projection

pytestmark = pytest.mark.integration

START = datetime(2026, 6, 1, 8, tzinfo=UTC)


class SimulatedCrash(BaseException):
    """A worker dying mid-batch: not an error of the projection, so not a poison event."""


def isolated(suffix: str, crash_rate: float = 0.0, seed: int = 0) -> Projection:
    """The capital projection under its own name and tables, optionally crashing after a
    batch; its rebuild folds with the projection's own fold (``CapitalFold``)."""
    rng = random.Random(seed)

    def maybe_crash() -> None:
        if rng.random() < crash_rate:
            raise SimulatedCrash()

    return isolated_projection(CapitalProjection(), suffix, maybe_crash)


@st.composite
def histories(draw: st.DrawFn) -> list[tuple[int, dict[str, Any], int]]:
    """(person index, event, minutes after START) triples, in append order."""
    people = draw(st.integers(1, 3))
    steps: list[tuple[int, dict[str, Any], int]] = []
    actions: list[tuple[int, str]] = []
    for _ in range(draw(st.integers(1, 40))):
        person = draw(st.integers(0, people - 1))
        at = draw(st.integers(0, 60 * 24 * 7 * 20))
        if actions and draw(st.integers(0, 3)) == 0:
            linked = draw(st.booleans())
            owner, action_id = draw(st.sampled_from(actions))
            steps.append(
                (
                    owner if linked else person,
                    {
                        "type": "OutcomeRecorded",
                        "kind": draw(st.sampled_from(OUTCOME_KINDS)),
                        "action_id": action_id if linked else None,
                    },
                    at,
                )
            )
        else:
            action_id = str(uuid.uuid4())
            actions.append((person, action_id))
            steps.append(
                (
                    person,
                    {
                        "type": "MicroActionLogged",
                        "action_id": action_id,
                        "tactic": draw(st.sampled_from(sorted(TACTICS))),
                        "minutes": draw(st.integers(1, 480)),
                        "audience": draw(st.sampled_from(AUDIENCES)),
                    },
                    at,
                )
            )
    return steps


def rows(store: EventStore, projection: Projection, tenant: uuid.UUID) -> dict[str, Any]:
    out = {}
    with store.engine.connect() as conn:
        for base in projection.tables:
            out[base.rsplit("_", 1)[0]] = sorted(
                tuple(r)
                for r in conn.execute(
                    text(f"SELECT * FROM {base} WHERE tenant_id = :t"), {"t": tenant}
                )
            )
    return out


def append_history(
    store: EventStore,
    history: list[tuple[int, dict[str, Any], int]],
    retract_share: float = 0.0,
) -> uuid.UUID:
    """Append ``history`` for three people of a new tenant (returned); with ``retract_share``,
    that share of the actions is undone, right after it is logged or a few events later (so
    outcomes appended while it stood credit it), seeded by the history."""
    tenant = uuid.uuid4()
    people = [uuid.uuid4() for _ in range(3)]
    rng = random.Random(len(history))
    undo_later: list[tuple[int, uuid.UUID, NewEvent]] = []  # (due step, person, event)
    for step, (person_index, spec, minutes) in enumerate(history):
        person = people[person_index]
        kind = spec.pop("type")
        if kind == "MicroActionLogged":
            data = {**spec, "person_id": str(person), "note": None}
        else:
            data = {"outcome_id": str(uuid.uuid4()), "person_id": str(person), "note": None, **spec}
        at = START + timedelta(minutes=minutes)
        events = [NewEvent(kind, data, at)]
        if kind == "MicroActionLogged" and rng.random() < retract_share:
            undo = {k: data[k] for k in ("action_id", "person_id", "tactic", "minutes", "audience")}
            retraction = NewEvent("MicroActionRetracted", undo, at)
            if rng.random() < 0.5:
                events.append(retraction)
            else:
                undo_later.append((step + rng.randint(1, 4), person, retraction))
        store.append(tenant, f"journal-{person}", None, events)
        for _, owner, retraction in [u for u in undo_later if u[0] <= step]:
            store.append(tenant, f"journal-{owner}", None, [retraction])
        undo_later = [u for u in undo_later if u[0] > step]
    for _, owner, retraction in undo_later:
        store.append(tenant, f"journal-{owner}", None, [retraction])
    return tenant


def examples(count: int) -> Any:
    """Hypothesis settings of these tests: no shrinking phase (with a database per example it
    can take minutes; the failing example is printed as generated), no deadline."""
    return settings(
        max_examples=count,
        deadline=None,
        phases=[Phase.explicit, Phase.reuse, Phase.generate],
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


@examples(15)
@given(
    history=histories(),
    batches=st.lists(st.integers(1, 7), min_size=1, max_size=5),
    crash_seed=st.integers(0, 2**16),
)
def test_incremental_with_crashes_equals_rebuild(
    store: EventStore,
    history: list[tuple[int, dict[str, Any], int]],
    batches: list[int],
    crash_seed: int,
):
    suffix = uuid.uuid4().hex[:8]
    incremental = isolated(f"i{suffix}", crash_rate=0.3, seed=crash_seed)
    one_pass = isolated(f"r{suffix}")
    # Both start at today's head: the shared test log's earlier events are not this test's.
    head = store.head()
    for projection in (incremental, one_pass):
        Runtime(store, [projection]).ensure()
    with store.engine.begin() as conn:
        conn.execute(
            text("UPDATE projections SET position = :h WHERE name IN (:a, :b)"),
            {"h": head, "a": incremental.name, "b": one_pass.name},
        )
    tenant = append_history(store, history)

    sizes = iter(batches * 1000)
    crashes = 0
    while True:
        runtime = Runtime(store, [incremental], batch=next(sizes))
        try:
            runtime.catch_up(incremental.name, max_batches=1)
        except SimulatedCrash:
            crashes += 1
            continue  # the worker died mid-batch; a new one picks up from the checkpoint
        status = runtime.status()
        if next(s for s in status if s.name == incremental.name).lag_events == 0:
            break
    Runtime(store, [one_pass], batch=100_000).catch_up(one_pass.name)

    assert rows(store, incremental, tenant) == rows(store, one_pass, tenant)
    assert len(rows(store, one_pass, tenant)["capital_contributions"]) == len(history)
    # A rebuild folds the whole log in memory (CapitalFold) and COPYs the rows: the same.
    Runtime(store, [one_pass]).rebuild(one_pass.name)
    assert rows(store, one_pass, tenant) == rows(store, incremental, tenant)


@examples(8)
@given(
    history=histories(),
    batches=st.lists(st.integers(1, 7), min_size=1, max_size=5),
    retract_share=st.floats(0, 0.5),
)
def test_a_rebuild_equals_small_batches_with_retractions(
    store: EventStore,
    history: list[tuple[int, dict[str, Any], int]],
    batches: list[int],
    retract_share: float,
):
    """Undone actions (``MicroActionRetracted``) and the outcomes that credit them, linked or
    not: small batches and a rebuild (the whole log folded in memory) give the same rows."""
    suffix = uuid.uuid4().hex[:8]
    incremental = isolated(f"i{suffix}")
    rebuilt = isolated(f"f{suffix}")
    Runtime(store, [incremental, rebuilt]).ensure()
    with store.engine.begin() as conn:
        conn.execute(
            text("UPDATE projections SET position = :h WHERE name = :a"),
            {"h": store.head(), "a": incremental.name},
        )
    tenant = append_history(store, history, retract_share)

    sizes = iter(batches * 1000)
    while Runtime(store, [incremental], batch=next(sizes)).catch_up(
        incremental.name, max_batches=1
    ):
        pass
    Runtime(store, [rebuilt]).rebuild(rebuilt.name)

    assert rows(store, rebuilt, tenant) == rows(store, incremental, tenant)

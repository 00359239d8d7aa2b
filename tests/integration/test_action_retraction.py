"""Undo of a micro-action: a compensating ``MicroActionRetracted`` event, never a delete.

On real PostgreSQL: the command's rules (own action, within a minute, once), what the capital
and plan read models make of it, and incremental projection == one pass with retractions.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from shared.commands import Actor, JournalCommands
from shared.domain.errors import Conflict, Gone, NotFound
from shared.eventlog import EventStore, NewEvent
from shared.projections import CapitalProjection, runtime
from shared.projections.journal import PlanProgressProjection, read_plan
from shared.projections.runtime import Runtime
from tests.integration.test_journal_projections import isolated

pytestmark = pytest.mark.integration


def commands(store: EventStore) -> JournalCommands:
    return JournalCommands(store, "secret")


def me(tenant: uuid.UUID) -> Actor:
    return Actor(tenant_id=tenant, person_id=uuid.uuid4(), source="test")


def capital_of(store: EventStore, person: uuid.UUID, suffix: str = "") -> dict[str, Any]:
    with store.engine.connect() as conn:
        weeks = conn.execute(
            text(
                f"SELECT week_index, inv_c, inv_v, inv_r, actions, visible_actions "
                f"FROM capital_weeks{suffix} WHERE person_id = :p ORDER BY week_index"
            ),
            {"p": person},
        ).all()
        contributions = conn.execute(
            text(
                f"SELECT kind, ref_id, tactic, c, v, r FROM capital_contributions{suffix} "
                "WHERE person_id = :p ORDER BY position"
            ),
            {"p": person},
        ).all()
    return {"weeks": [tuple(w) for w in weeks], "contributions": [tuple(c) for c in contributions]}


def test_undo_subtracts_the_action_from_capital_and_plan(store: EventStore, tenant: uuid.UUID):
    journal, actor = commands(store), me(tenant)
    assert actor.person_id is not None
    kept = journal.log_action(actor, "learning_bit", 10, "private")
    undone = journal.log_action(actor, "regular_signaling", 20, "team", note="a personal note")
    journal.undo_action(actor, undone.id)
    rt = runtime(store)
    rt.ensure()
    rt.catch_up("capital")
    rt.catch_up("plan_progress")

    capital = capital_of(store, actor.person_id)
    assert [c[1] for c in capital["contributions"]] == [kept.id]  # the undone one is gone
    (week,) = capital["weeks"]
    assert week[4:] == (1, 0)  # one action left, and it is private
    assert week[2] == 0  # learning_bit adds no visibility: regular_signaling's was taken back
    week_label = datetime.now(UTC).strftime("%G-W%V")
    with store.engine.connect() as conn:
        plan = read_plan(conn, tenant, actor.person_id, week_label)
    assert plan["actions"] == {"learning_bit": 1, "regular_signaling": 0}
    # The log keeps both events: nothing was deleted.
    types = [e.type for e in store.read_stream(f"journal-{actor.person_id}")]
    assert types == ["MicroActionLogged", "MicroActionLogged", "MicroActionRetracted"]


def test_undo_rules(store: EventStore, tenant: uuid.UUID):
    journal, actor, other = commands(store), me(tenant), me(tenant)
    written = journal.log_action(actor, "learning_bit", 10, "private")
    with pytest.raises(NotFound):
        journal.undo_action(other, written.id)  # only one's own actions
    with pytest.raises(Gone):
        journal.undo_action(actor, written.id, now=datetime.now(UTC) + timedelta(minutes=2))
    journal.undo_action(actor, written.id)
    with pytest.raises(Conflict):
        journal.undo_action(actor, written.id)
    with pytest.raises(NotFound):
        journal.undo_action(actor, uuid.uuid4())


def test_retractions_in_batches_equal_one_pass(store: EventStore, tenant: uuid.UUID):
    """An unlinked outcome credits the latest action standing when it was appended: whatever
    the batches, an outcome appended before the retraction keeps its credit, one after it
    does not."""
    person = uuid.uuid4()
    start = datetime(2026, 3, 2, 9, tzinfo=UTC)

    def action(tactic: str, day: int) -> tuple[str, NewEvent]:
        action_id = str(uuid.uuid4())
        data = {"action_id": action_id, "person_id": str(person), "tactic": tactic}
        event = {**data, "minutes": 15, "audience": "team", "note": None}
        return action_id, NewEvent("MicroActionLogged", event, start + timedelta(days=day))

    def retract(action_id: str, tactic: str, day: int) -> NewEvent:
        data = {"action_id": action_id, "person_id": str(person), "tactic": tactic}
        event = {**data, "minutes": 15, "audience": "team"}
        return NewEvent("MicroActionRetracted", event, start + timedelta(days=day))

    def outcome(day: int) -> NewEvent:
        data = {"outcome_id": str(uuid.uuid4()), "person_id": str(person), "kind": "invitation"}
        return NewEvent("OutcomeRecorded", {**data, "action_id": None, "note": None},
                        start + timedelta(days=day, hours=1))  # fmt: skip

    early, early_event = action("learning_bit", 0)
    late, late_event = action("network_nudge", 1)
    history = [
        early_event,
        late_event,
        outcome(1),  # credits network_nudge (standing)
        retract(late, "network_nudge", 1),
        outcome(1),  # credits learning_bit: network_nudge is undone
        retract(early, "learning_bit", 0),
        outcome(1),  # credits nothing
    ]
    suffix = uuid.uuid4().hex[:8]
    pairs = [
        (isolated(base, f"i{suffix}"), isolated(base, f"r{suffix}"))
        for base in (CapitalProjection(), PlanProgressProjection())
    ]
    everything = [p for pair in pairs for p in pair]
    Runtime(store, everything).ensure()
    with store.engine.begin() as conn:  # start at the head: this history alone is projected
        conn.execute(
            text("UPDATE projections SET position = :h WHERE name = ANY(:n)"),
            {"h": store.head(), "n": [p.name for p in everything]},
        )
    for event in history:
        store.append(tenant, f"journal-{person}", None, [event])
    for incremental, one_pass in pairs:
        Runtime(store, [incremental], batch=1).catch_up(incremental.name)
        Runtime(store, [one_pass], batch=100_000).catch_up(one_pass.name)

    incremental_capital = capital_of(store, person, f"_i{suffix}")
    assert incremental_capital == capital_of(store, person, f"_r{suffix}")
    credited = [c[2] for c in incremental_capital["contributions"]]
    assert credited == ["network_nudge", "learning_bit", None]  # only the outcomes are left
    assert [w[4] for w in incremental_capital["weeks"]] == [0]
    with store.engine.connect() as conn:
        plans = [
            conn.execute(
                text(
                    f"SELECT tactic, actions FROM plan_actions_{s}{suffix} WHERE person_id = :p "
                    "ORDER BY tactic"
                ),
                {"p": person},
            ).all()
            for s in ("i", "r")
        ]
    assert plans[0] == plans[1] == [("learning_bit", 0), ("network_nudge", 0)]

"""Correcting the journal later: an action retracted or corrected at any time (compensating
events), a plan refusing a tactic twice, one experiment at a time unless chosen otherwise.

On real PostgreSQL: the commands' rules, and that a corrected action counts in the capital and
plan read models exactly as the corrected action logged directly would.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from shared.commands import Actor, JournalCommands
from shared.domain.errors import Conflict, InvalidInput, NotFound
from shared.domain.weeks import iso_week_of
from shared.eventlog import EventStore
from shared.projections import runtime
from shared.projections.journal import read_plan
from tests.integration.test_action_retraction import capital_of

pytestmark = pytest.mark.integration


def me(tenant: uuid.UUID) -> Actor:
    return Actor(tenant_id=tenant, person_id=uuid.uuid4(), source="test")


def project(store: EventStore) -> None:
    rt = runtime(store)
    rt.ensure()
    for name in ("capital", "plan_progress"):
        rt.catch_up(name)


def test_an_old_action_is_retracted_at_any_time(store: EventStore, tenant: uuid.UUID):
    journal, actor = JournalCommands(store, "s"), me(tenant)
    assert actor.person_id is not None
    then = datetime.now(UTC) - timedelta(days=20)
    written = journal.log_action(actor, "regular_signaling", 20, "team", occurred_at=then)
    with pytest.raises(NotFound):
        journal.retract_action(me(tenant), written.id)  # only one's own
    journal.retract_action(actor, written.id)  # long after the undo's minute
    with pytest.raises(Conflict):
        journal.retract_action(actor, written.id)
    project(store)
    assert capital_of(store, actor.person_id)["contributions"] == []
    logged, retracted = store.read_stream(f"journal-{actor.person_id}")
    assert retracted.type == "MicroActionRetracted"
    assert retracted.occurred_at == logged.occurred_at == then  # subtracted where it was


def test_a_correction_counts_as_the_corrected_action_logged_directly(
    store: EventStore, tenant: uuid.UUID
):
    journal, corrected, direct = JournalCommands(store, "s"), me(tenant), me(tenant)
    assert corrected.person_id and direct.person_id
    then = datetime.now(UTC) - timedelta(days=3)
    week = iso_week_of(then)
    for actor in (corrected, direct):
        journal.set_plan(actor, week, ["network_nudge", "learning_bit"], None, now=then)
    wrong = journal.log_action(corrected, "learning_bit", 10, "private", "typo", occurred_at=then)
    fixed = journal.correct_action(corrected, wrong.id, "network_nudge", 30, "team", "coffee")
    journal.log_action(direct, "network_nudge", 30, "team", "coffee", occurred_at=then)
    with pytest.raises(Conflict):
        journal.correct_action(corrected, wrong.id, "learning_bit", 5, "team")  # replaced
    project(store)

    mine, theirs = capital_of(store, corrected.person_id), capital_of(store, direct.person_id)
    assert mine["weeks"] == theirs["weeks"] and mine["weeks"]
    assert [(c[0], c[2]) for c in mine["contributions"]] == [("action", "network_nudge")]
    assert mine["contributions"][0][1] == fixed.id
    with store.engine.connect() as conn:
        plans = [read_plan(conn, tenant, a.person_id, week) for a in (corrected, direct)]
    assert plans[0]["done"] == plans[1]["done"] == 1
    assert plans[0]["items"] == plans[1]["items"]
    events = store.read_stream(f"journal-{corrected.person_id}")
    assert [e.type for e in events][1:] == [
        "MicroActionLogged",
        "MicroActionRetracted",
        "MicroActionLogged",
    ]
    assert events[-1].occurred_at == then and events[-1].data["note"] == "coffee"


def test_a_plan_refuses_a_tactic_twice(store: EventStore, tenant: uuid.UUID):
    journal, actor = JournalCommands(store, "s"), me(tenant)
    week = iso_week_of(datetime.now(UTC))
    with pytest.raises(InvalidInput) as refused:
        journal.set_plan(actor, week, ["learning_bit", "network_nudge", "learning_bit"], None)
    assert list(refused.value.errors) == ["actions.2.tactic"]
    assert store.read_stream(f"journal-{actor.person_id}") == []


def test_one_experiment_at_a_time_unless_chosen(store: EventStore, tenant: uuid.UUID):
    journal, actor = JournalCommands(store, "s"), me(tenant)
    today = datetime.now(UTC).date()
    over = journal.start_experiment(actor, "small_exposure", 4, today - timedelta(weeks=5))
    first = journal.start_experiment(actor, "learning_bit", only_one=True)  # the other is over
    with pytest.raises(Conflict) as refused:
        journal.start_experiment(actor, "prototype_first", only_one=True)
    assert "alongside" in refused.value.errors
    beside = journal.start_experiment(actor, "prototype_first", only_one=False)
    assert journal.running_experiments(actor, today) == [str(first.id), str(beside.id)]
    journal.end_experiment(actor, first.id)
    journal.end_experiment(actor, beside.id)
    assert journal.running_experiments(actor, today) == []
    journal.start_experiment(actor, "network_nudge", only_one=True)
    assert str(over.id) not in journal.running_experiments(actor, today)

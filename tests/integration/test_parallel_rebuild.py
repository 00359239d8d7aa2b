"""``compound projections rebuild --all --processes N``: groups of projections rebuilt in
processes of their own give the same read models as the live ones."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from shared.eventlog import EventStore, NewEvent
from shared.projections import PROJECTIONS, runtime
from shared.projections.parallel import plan_groups, rebuild_in_processes
from shared.settings import Settings

pytestmark = pytest.mark.integration

EMPLOYEE = ["capital", "experiments", "feedback_loop", "plan_progress"]


def test_groups_are_balanced_by_work_and_stable():
    costs = {"capital": 200, "plan_progress": 220, "experiments": 40, "feedback_loop": 25}
    # 220 | 200, then 40 to the lighter (240), then 25 to the lighter (245): 245 vs 240
    assert plan_groups(costs, 2) == [["feedback_loop", "plan_progress"], ["capital", "experiments"]]
    assert plan_groups(costs, 1) == [sorted(costs)]
    assert plan_groups(costs, 8) == [["plan_progress"], ["capital"], ["experiments"],
                                     ["feedback_loop"]]  # fmt: skip
    assert plan_groups({"a": 0, "b": 0}, 2) == [["a"], ["b"]]


def snapshot(store: EventStore, person: uuid.UUID) -> dict[str, list[tuple[Any, ...]]]:
    """The rows of ``person`` in the employee read models. Only theirs: another test's
    erasure leaves the live rows of the erased person until the rebuilds it sends have run,
    and a rebuild holds none of them (docs/privacy.md, "Erasure")."""
    tables = [t for p in PROJECTIONS if p.name in EMPLOYEE for t in p.tables]
    with store.engine.connect() as conn:
        return {
            t: sorted(
                row
                for row in (tuple(map(str, r)) for r in conn.execute(text(f"SELECT * FROM {t}")))
                if str(person) in row
            )
            for t in tables
        }


def generations(store: EventStore) -> dict[str, int]:
    with store.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT name, generation FROM projections WHERE name = ANY(:n)"),
            {"n": EMPLOYEE},
        ).all()
    return {name: generation for name, generation in rows}


def test_a_rebuild_in_two_processes_equals_the_live_read_models(
    store: EventStore, settings: Settings
):
    rt = runtime(store)
    rt.ensure()
    person, tenant = uuid.uuid4(), uuid.uuid4()
    start = datetime(2026, 9, 7, 9, tzinfo=UTC)
    for day in range(20):
        action = {"action_id": str(uuid.uuid4()), "person_id": str(person),
                  "tactic": "learning_bit", "minutes": 10 + day, "audience": "team",
                  "note": None}  # fmt: skip
        outcome = {"outcome_id": str(uuid.uuid4()), "person_id": str(person),
                   "kind": "invitation", "action_id": None, "note": None}  # fmt: skip
        at = start + timedelta(days=day)
        events = [NewEvent("MicroActionLogged", action, at)]
        if day % 3 == 0:
            events.append(NewEvent("OutcomeRecorded", outcome, at + timedelta(hours=1)))
        store.append(tenant, f"journal-{person}", None, events)
    for name in EMPLOYEE:
        rt.catch_up(name)
    before, was = snapshot(store, person), generations(store)
    assert any(before.values())

    seen: list[tuple[int, int]] = []
    assert settings.database_url and settings.master_keys
    rebuilt = rebuild_in_processes(
        store.engine,
        settings.database_url,
        list(settings.master_keys),
        EMPLOYEE,
        2,
        progress=lambda position, head: seen.append((position, head)),
    )

    assert rebuilt == {name: was[name] + 1 for name in EMPLOYEE} == generations(store)
    assert snapshot(store, person) == before
    assert seen and seen[-1][0] == seen[-1][1]  # the last report: every group at the head

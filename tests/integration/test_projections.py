"""The projector runtime on real PostgreSQL: catch-up, locking, poison events, rebuilds."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, text

from shared.eventlog import EventStore, NewEvent, RecordedEvent
from shared.projections import CapitalProjection, runtime
from shared.projections.quarantine import quarantined
from shared.projections.runtime import Projection, Runtime

pytestmark = pytest.mark.integration


def action(
    person: uuid.UUID, tactic: str = "learning_bit", minutes: int = 15, at: datetime | None = None
) -> NewEvent:
    return NewEvent(
        "MicroActionLogged",
        {
            "action_id": str(uuid.uuid4()),
            "person_id": str(person),
            "tactic": tactic,
            "minutes": minutes,
            "audience": "team",
            "note": None,
        },
        at,
    )


def capital_rows(store: EventStore, person: uuid.UUID) -> list[Any]:
    with store.engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT week_index, inv_c, inv_v, inv_r, actions FROM capital_weeks "
                "WHERE person_id = :p ORDER BY week_index"
            ),
            {"p": person},
        ).all()


def test_catch_up_projects_and_checkpoints(store: EventStore, tenant: uuid.UUID):
    rt = runtime(store)
    rt.ensure()
    person = uuid.uuid4()
    store.append(tenant, f"journal-{person}", 0, [action(person), action(person)])
    rt.catch_up("capital")
    rows = capital_rows(store, person)
    assert len(rows) == 1 and rows[0].actions == 2
    assert rt.catch_up("capital") == 0  # nothing twice
    status = {s.name: s for s in rt.status()}["capital"]
    assert status.position >= store.head() - 0 and status.lag_events == 0


def test_concurrent_workers_never_apply_a_batch_twice(store: EventStore, tenant: uuid.UUID):
    rt = runtime(store)
    rt.ensure()
    person = uuid.uuid4()
    for _ in range(50):
        store.append(tenant, f"journal-{person}", None, [action(person)])
    workers = [
        threading.Thread(
            target=Runtime(store, rt.projections.values(), batch=3).catch_up, args=("capital",)
        )
        for _ in range(4)
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    rt.catch_up("capital")
    assert sum(r.actions for r in capital_rows(store, person)) == 50


class Exploding(Projection):
    name = "exploding"
    version = 1
    handles = frozenset({"MicroActionLogged"})
    tables = {"exploding_seen": "position bigint PRIMARY KEY"}

    def __init__(self, bad_action: str):
        self.bad_action = bad_action

    def apply(
        self, conn: Connection, events: Sequence[RecordedEvent], tables: Mapping[str, str]
    ) -> None:
        for e in events:
            if e.data["action_id"] == self.bad_action:
                raise ValueError("cannot digest this one")
            conn.execute(
                text(f"INSERT INTO {tables['exploding_seen']} VALUES (:p)"), {"p": e.position}
            )


def test_a_poison_event_holds_back_only_its_tenant_in_its_projection(
    store: EventStore, tenant: uuid.UUID
):
    person, other_person, other = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    bad = action(person)
    rt = Runtime(store, [Exploding(bad.data["action_id"]), CapitalProjection()], batch=100)
    rt.ensure()
    first = store.append(tenant, f"journal-{person}", 0, [action(person)])
    poison = store.append(tenant, f"journal-{person}", 1, [bad])
    store.append(tenant, f"journal-{person}", 2, [action(person)])
    fine = store.append(other, f"journal-{other_person}", 0, [action(other_person)])
    rt.catch_up("exploding")
    rt.catch_up("capital")
    status = {s.name: s for s in rt.status()}
    exploding = status["exploding"]
    assert exploding.status == "live" and exploding.lag_events == 0
    assert (exploding.quarantined_tenants, exploding.held_events) == (1, 2)
    assert status["capital"].quarantined_tenants == 0 and status["capital"].lag_events == 0
    assert sum(r.actions for r in capital_rows(store, person)) == 3
    with store.engine.connect() as conn:
        seen = set(conn.execute(text("SELECT position FROM exploding_seen")).scalars())
        (waiting,) = [q for q in quarantined(conn) if q.projection == "exploding"]
    assert first.positions[0] in seen and fine.positions[0] in seen
    assert poison.positions[0] not in seen and poison.positions[0] + 1 not in seen
    assert (waiting.tenant_id, waiting.position) == (tenant, poison.positions[0])
    assert "cannot digest" in waiting.error and waiting.event_type == "MicroActionLogged"
    rt.catch_up("exploding")  # nothing new: it still waits, nothing counted twice
    assert {s.name: s for s in rt.status()}["exploding"].held_events == 2
    with store.engine.begin() as conn:  # no tenant left waiting for later tests
        conn.execute(text("DELETE FROM projection_quarantine WHERE tenant_id = :t"), {"t": tenant})


def test_rebuild_switches_to_an_identical_new_generation(store: EventStore, tenant: uuid.UUID):
    rt = runtime(store)
    rt.ensure()
    person = uuid.uuid4()
    start = datetime(2026, 9, 1, 9, tzinfo=UTC)
    for week in range(6):
        store.append(
            tenant, f"journal-{person}", None, [action(person, at=start + timedelta(weeks=week))]
        )
    rt.catch_up("capital")
    before = capital_rows(store, person)
    old = {s.name: s for s in rt.status()}["capital"].generation
    seen: list[tuple[int, int]] = []
    new = rt.rebuild("capital", progress=lambda p, h: seen.append((p, h)))
    assert new == old + 1 and seen
    assert capital_rows(store, person) == before
    with store.engine.connect() as conn:
        tables = set(
            conn.execute(
                text("SELECT tablename FROM pg_tables WHERE tablename LIKE 'capital_weeks__g%'")
            ).scalars()
        )
    assert tables == {f"capital_weeks__g{new}"}


def test_rebuild_many_reads_the_log_once_and_switches_all(store: EventStore, tenant: uuid.UUID):
    rt = runtime(store)
    rt.ensure()
    person = uuid.uuid4()
    store.append(tenant, f"journal-{person}", None, [action(person), action(person)])
    for name in rt.projections:
        rt.catch_up(name)
    before = capital_rows(store, person)
    reads: list[int] = []
    original = store.read_all

    def counting(*args: Any, **kwargs: Any) -> Any:
        reads.append(1)
        return original(*args, **kwargs)

    store.read_all = counting  # type: ignore[method-assign]
    try:
        generations = rt.rebuild_many(list(rt.projections))
    finally:
        del store.read_all
    assert set(generations) == set(rt.projections)
    with store.engine.connect() as conn:
        handled = conn.execute(
            text("SELECT count(*) FROM events WHERE type = ANY(:t)"),
            {"t": sorted(frozenset().union(*(p.handles for p in rt.projections.values())))},
        ).scalar_one()
    one_pass = handled // rt.batch + 1
    assert len(reads) <= one_pass + 2  # one pass for all projections (plus the switch)
    assert capital_rows(store, person) == before
    status = {s.name: s for s in rt.status()}
    assert all(
        status[n].generation == g and status[n].status == "live" for n, g in generations.items()
    )

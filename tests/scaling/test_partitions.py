"""Partitioned projections in one process: the partition function, P=1, repartitioning, the
low watermark readers see, a rebuild's checkpoints, a poison event and the lease."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text

from shared.eventlog import EventStore
from shared.projections.partitions import (
    PARTITION_SQL,
    PLANNER_SQL,
    partition_of,
    partition_read_params,
    partition_read_sql,
    read_partitions,
    slots_of,
)
from shared.projections.runtime import Runtime
from tests.reliability.isolated import isolated
from tests.reliability.test_worker_faults import journal_events, rows

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def checkpoints(store: EventStore, name: str) -> dict[int, int]:
    with store.engine.connect() as conn:
        return {
            int(r.partition): int(r.position)
            for r in conn.execute(
                text(
                    "SELECT partition, position FROM projection_partitions "
                    "WHERE projection = :n ORDER BY partition"
                ),
                {"n": name},
            )
        }


def position(store: EventStore, name: str) -> int:
    with store.engine.connect() as conn:
        return int(
            conn.execute(
                text("SELECT position FROM projections WHERE name = :n"), {"n": name}
            ).scalar_one()
        )


def start_at_head(store: EventStore, *runtimes: tuple[Runtime, str]) -> None:
    """Start these projections at the head: the shared test log's earlier events are not
    this test's (moving the projection's position moves every partition's floor)."""
    for rt, _ in runtimes:
        rt.ensure()
    with store.engine.begin() as conn:
        conn.execute(
            text("UPDATE projections SET position = :h WHERE name = ANY(:n)"),
            {"h": store.head(), "n": [name for _, name in runtimes]},
        )


def tenants_with_events(
    store: EventStore, count: int, per_tenant: int, cover: int = 1
) -> list[uuid.UUID]:
    """``count`` random tenants with events, at least one in each of ``cover`` partitions."""
    tenants = [uuid.uuid4() for _ in range(count)]
    while {partition_of(t, cover) for t in tenants} != set(range(cover)):
        tenants = [uuid.uuid4() for _ in range(count)]
    for i, tenant in enumerate(tenants):
        journal_events(store, tenant, people=2, per_person=per_tenant // 2, seed=i)
    return tenants


def test_sql_and_python_agree_on_every_tenants_partition(store: EventStore) -> None:
    tenants = [uuid.uuid4() for _ in range(200)]
    with store.engine.connect() as conn:
        for count in (1, 2, 4, 7, 64):
            sql = PARTITION_SQL.format(count=count).replace("tenant_id", "t")
            found = dict(
                conn.execute(
                    text(f"SELECT t::text, {sql} FROM unnest(CAST(:ts AS uuid[])) AS t"),
                    {"ts": [str(t) for t in tenants]},
                ).all()
            )
            assert found == {str(t): partition_of(t, count) for t in tenants}
    spread = [sum(partition_of(t, 4) == k for t in tenants) for k in range(4)]
    assert all(20 <= n <= 80 for n in spread), spread  # 200 tenants: about 50 each


def test_a_partition_read_holds_its_tenants_events_alone_in_log_order(store: EventStore) -> None:
    after = store.head()
    tenants = tenants_with_events(store, 6, 20, cover=3)
    mine = [t for t in tenants if partition_of(t, 3) in (0, 2)]
    assert mine and len(mine) < len(tenants)
    events = read_partitions(
        store,
        after,
        10_000,
        types={"MicroActionLogged"},
        partitions=[0, 2],
        count=3,
        decrypt=False,
    )
    assert {e.tenant_id for e in events} == set(mine)
    assert len(events) == 20 * len(mine)
    assert [e.position for e in events] == sorted(e.position for e in events)


def test_p1_and_p4_give_the_read_model_of_one_pass(store: EventStore) -> None:
    one, four, clean = (isolated(uuid.uuid4().hex[:8]) for _ in range(3))
    rt1 = Runtime(store, [one], batch=37, partitions=1)
    rt4 = Runtime(store, [four], batch=37, partitions=4)
    rtc = Runtime(store, [clean], batch=100_000, partitions=1)
    start_at_head(store, (rt1, one.name), (rt4, four.name), (rtc, clean.name))
    assert len(checkpoints(store, one.name)) == 1
    assert len(checkpoints(store, four.name)) == 4
    tenants = tenants_with_events(store, 8, 40)
    head = store.head()
    assert rt1.catch_up(one.name) == 320
    for k in range(4):  # each partition on its own, as four workers would
        rt4.catch_up(four.name, partition=k)
    rtc.catch_up(clean.name)
    assert set(checkpoints(store, one.name).values()) == {head}
    assert set(checkpoints(store, four.name).values()) == {head}
    assert position(store, four.name) == head
    suffixes = [p.name.removeprefix("capital_") for p in (one, four, clean)]
    for tenant in tenants:
        expected = rows(store, suffixes[2], tenant)
        assert len(expected["capital_contributions"]) == 40
        assert rows(store, suffixes[0], tenant) == expected
        assert rows(store, suffixes[1], tenant) == expected


def test_the_projection_position_is_the_lowest_partition_and_waits_for_it(
    store: EventStore,
) -> None:
    projection = isolated(uuid.uuid4().hex[:8])
    rt = Runtime(store, [projection], batch=1000, partitions=2)
    start_at_head(store, (rt, projection.name))
    start = store.head()
    tenants = tenants_with_events(store, 6, 10, cover=2)
    assert {partition_of(t, 2) for t in tenants} == {0, 1}, "both partitions have events"
    head = store.head()
    rt.catch_up(projection.name, partition=1)
    assert checkpoints(store, projection.name)[1] == head
    assert checkpoints(store, projection.name)[0] <= start  # its floor: the projection's
    assert position(store, projection.name) == start  # readers wait for partition 0
    assert rt.wait_for(projection.name, head, timeout=0.2) == start
    rt.catch_up(projection.name, partition=0)
    assert position(store, projection.name) == head
    assert rt.wait_for(projection.name, head, timeout=0.2) == head
    status = next(s for s in rt.status() if s.name == projection.name)
    assert status.position == head


def test_partitions_split_when_they_line_up_and_a_rebuild_sets_all_to_its_end(
    store: EventStore,
) -> None:
    projection = isolated(uuid.uuid4().hex[:8])
    start_at_head(store, (Runtime(store, [projection], partitions=1), projection.name))
    tenants_with_events(store, 4, 10)
    Runtime(store, [projection], partitions=1).catch_up(projection.name)
    head = store.head()
    Runtime(store, [projection], partitions=3).ensure()  # all at one position: split
    assert checkpoints(store, projection.name) == {0: head, 1: head, 2: head}
    tenants_with_events(store, 4, 10)
    moved = Runtime(store, [projection], partitions=3)
    moved.catch_up(projection.name, partition=2)
    Runtime(store, [projection], partitions=5).ensure()  # not lined up: stays at 3
    assert len(checkpoints(store, projection.name)) == 3
    before = rows(store, projection.name.removeprefix("capital_"), uuid.uuid4())
    assert before == {"capital_weeks": [], "capital_contributions": []}
    Runtime(store, [projection], partitions=5).rebuild(projection.name)
    final = store.head()
    assert checkpoints(store, projection.name) == dict.fromkeys(range(5), final)
    assert position(store, projection.name) == final


def test_a_poison_event_holds_back_one_tenant_and_every_partition_goes_on(
    store: EventStore,
) -> None:
    base = isolated(uuid.uuid4().hex[:8])
    tenants = [uuid.uuid4() for _ in range(8)]
    victim = tenants[0]
    fixed = False

    class Poisoned(type(base)):  # type: ignore[misc]
        def apply(self, conn, events, tables):  # type: ignore[no-untyped-def]
            if not fixed and any(e.tenant_id == victim for e in events):
                raise ValueError("poison")
            super().apply(conn, events, tables)

    projection = Poisoned()
    rt = Runtime(store, [projection], batch=50, partitions=4)
    start_at_head(store, (rt, projection.name))
    for i, tenant in enumerate(tenants):
        journal_events(store, tenant, people=1, per_person=5, seed=i)
    bad = partition_of(victim, 4)
    rt.catch_up(projection.name, partition=bad)
    status = next(s for s in rt.status() if s.name == projection.name)
    assert status.status == "live" and status.quarantined_tenants == 1
    assert checkpoints(store, projection.name)[bad] == store.head()  # its partition went on
    others = [k for k in range(4) if k != bad]
    for k in others:  # so does every other partition
        rt.catch_up(projection.name, partition=k)
    assert set(checkpoints(store, projection.name).values()) == {store.head()}
    fixed = True
    (released,) = rt.retry(projection.name, victim)
    assert released.waiting is None and released.applied == status.held_events
    assert next(s for s in rt.status() if s.name == projection.name).quarantined_tenants == 0


def test_a_frozen_workers_partition_passes_on_after_the_lease_and_its_commit_fails(
    store: EventStore, database_url: str, master_key: str
) -> None:
    suffix = uuid.uuid4().hex[:8]
    projection, clean = isolated(suffix), isolated(uuid.uuid4().hex[:8])
    survivor = Runtime(store, [projection], batch=100_000, partitions=2, lease_seconds=2)
    rtc = Runtime(store, [clean], batch=100_000, partitions=1)
    start_at_head(store, (survivor, projection.name), (rtc, clean.name))
    tenants = tenants_with_events(store, 6, 20, cover=2)
    assert 0 in {partition_of(t, 2) for t in tenants}
    frozen = subprocess.Popen(
        [sys.executable, "-m", "tests.scaling.frozen_worker", database_url, suffix, "2"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "COMPOUND_MASTER_KEYS": master_key},
        text=True,
    )
    try:
        assert frozen.stdout is not None and frozen.stdin is not None
        assert frozen.stdout.readline().strip() == "frozen"  # partition 0 locked, batch applied
        started = time.monotonic()
        applied = survivor.catch_up(projection.name, partition=0)  # waits for the lease
        waited = time.monotonic() - started
        assert applied > 0
        assert 1.5 <= waited < 10, waited
        frozen.stdin.write("go on\n")
        frozen.stdin.flush()
        assert frozen.stdout.readline().startswith("failed: ")  # its session was ended
    finally:
        frozen.kill()
        frozen.wait()
        for pipe in (frozen.stdin, frozen.stdout):
            if pipe is not None:
                pipe.close()
    survivor.catch_up(projection.name)
    rtc.catch_up(clean.name)
    for tenant in tenants:  # nothing of the frozen batch counted twice
        assert rows(store, suffix, tenant) == rows(
            store, clean.name.removeprefix("capital_"), tenant
        )


def test_a_partition_read_walks_its_own_slots_index_ranges_only(store: EventStore) -> None:
    """The plan of a partitioned read is one ordered range of events_slot_position per slot:
    never events_pkey filtered on the slot (every tenant's events after the checkpoint, in
    each branch) nor a sorted bitmap scan of a slot's whole rest (docs/scaling.md)."""
    tenants = tenants_with_events(store, 8, 200)
    with store.engine.begin() as conn:
        conn.execute(text("ANALYZE events"))
    types = ["MicroActionLogged", "FeedbackGiven"]
    for k in {partition_of(t, 4) for t in tenants}:
        slots = slots_of([k], 4)
        for after in (0, store.head() - 300):
            with store.engine.begin() as conn:
                conn.exec_driver_sql(PLANNER_SQL)
                plan = "\n".join(
                    row[0]
                    for row in conn.exec_driver_sql(
                        "EXPLAIN " + partition_read_sql(slots, after),
                        tuple(partition_read_params(slots, types, 1000)),
                    )
                )
            assert "events_pkey" not in plan and "Bitmap" not in plan and "->  Sort" not in plan, (
                plan
            )
            assert plan.count("Index Scan using events_slot_position") == len(slots), plan

"""No reader ever skips a committed event, even when commits are delayed and concurrent.

PostgreSQL allocates identity values before commit, so with plain inserts position 11 can
become visible before position 10; a reader checkpointing at 11 would never see 10. The
first test shows that happening with plain inserts (so the method can detect a skip); the
others show the event store never lets it happen.
"""

from __future__ import annotations

import random
import threading
import time
import uuid

import pytest
from sqlalchemy import Engine, text

from shared.eventlog import AppendContext, EventStore, NewEvent

pytestmark = pytest.mark.integration


def left(tenant: uuid.UUID) -> NewEvent:
    return NewEvent("PersonLeft", {"person_id": str(uuid.uuid4())})


def _plain_insert(conn, tenant: uuid.UUID, stream: str) -> int:  # type: ignore[no-untyped-def]
    return int(
        conn.execute(
            text(
                "INSERT INTO events (event_id, tenant_id, stream_id, version, type, "
                "schema_version, data, metadata, occurred_at) VALUES (gen_random_uuid(), :t, :s, "
                "1, 'PersonLeft', 1, '{}', '{}', now()) RETURNING position"
            ),
            {"t": tenant, "s": stream},
        ).scalar_one()
    )


def test_plain_inserts_let_a_reader_skip_a_late_commit(engine: Engine, tenant: uuid.UUID):
    """The control: without the store's position lock, a checkpointing reader loses an event."""
    start = _head(engine)
    slow = engine.connect()
    slow_tx = slow.begin()
    early = _plain_insert(slow, tenant, f"control-{uuid.uuid4()}")  # allocated first...
    with engine.begin() as fast:
        late = _plain_insert(fast, tenant, f"control-{uuid.uuid4()}")  # ...committed first
    seen = _positions_after(engine, start, tenant)
    checkpoint = max(seen)
    slow_tx.commit()  # ...and only now the first one
    slow.close()

    assert early < late and seen == [late]
    assert _positions_after(engine, checkpoint, tenant) == []  # the reader never sees `early`
    assert early in _positions_after(engine, start, tenant)


def test_an_open_append_holds_back_later_appends(store: EventStore, tenant: uuid.UUID):
    """While an append is uncommitted, no later position can commit ahead of it."""
    start = store.head()
    first = store.engine.connect()
    first_tx = first.begin()
    early = store.append_in(first, tenant, f"s-{uuid.uuid4()}", 0, [left(tenant)]).positions[0]
    done = threading.Event()
    later: list[int] = []

    def second_writer() -> None:
        later.extend(store.append(tenant, f"s-{uuid.uuid4()}", 0, [left(tenant)]).positions)
        done.set()

    thread = threading.Thread(target=second_writer)
    thread.start()
    _wait_for_lock_waiter(store.engine)
    assert not done.is_set()
    assert store.read_all(start, tenant_id=tenant) == []
    first_tx.commit()
    first.close()
    thread.join(timeout=30)

    assert [e.position for e in store.read_all(start, tenant_id=tenant)] == [early, *later]


def test_reader_sees_every_event_once_under_delayed_concurrent_commits(
    store: EventStore, tenant: uuid.UUID
):
    """Thousands of events from writers that pause between insert and commit, while a
    reader polls with a checkpoint: it sees each committed event exactly once, in order."""
    writers, appends_each = 6, 150
    rng = random.Random(20261125)
    plans = [
        [(rng.randint(1, 4), rng.random() < 0.3, rng.random() < 0.05) for _ in range(appends_each)]
        for _ in range(writers)
    ]
    start = store.head()
    committed: list[int] = []
    committed_lock = threading.Lock()
    writers_done = threading.Event()
    seen: list[int] = []

    def writer(plan: list[tuple[int, bool, bool]]) -> None:
        for size, pause, roll_back in plan:
            with store.engine.connect() as conn:
                tx = conn.begin()
                result = store.append_in(
                    conn,
                    tenant,
                    f"w-{uuid.uuid4()}",
                    0,
                    [left(tenant) for _ in range(size)],
                    AppendContext(source="test"),
                )
                if pause:
                    time.sleep(0.002)  # a slow commit: the delay this test is about
                if roll_back:
                    tx.rollback()  # leaves a gap in the positions, which must not stall anyone
                    continue
                tx.commit()
            with committed_lock:
                committed.extend(result.positions)

    def reader() -> None:
        checkpoint = start
        while True:
            finished = writers_done.is_set()
            batch = store.read_all(checkpoint, limit=rng.randint(1, 50), tenant_id=tenant)
            seen.extend(e.position for e in batch)
            if batch:
                checkpoint = batch[-1].position
            elif finished:
                return

    threads = [threading.Thread(target=writer, args=(p,)) for p in plans]
    poller = threading.Thread(target=reader)
    poller.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    writers_done.set()
    poller.join()

    assert len(committed) > 1000
    assert seen == sorted(committed)  # every committed event once, in position order


def _head(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT coalesce(max(position), 0) FROM events")).scalar_one())


def _positions_after(engine: Engine, after: int, tenant: uuid.UUID) -> list[int]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                text(
                    "SELECT position FROM events WHERE position > :a AND tenant_id = :t "
                    "ORDER BY position"
                ),
                {"a": after, "t": tenant},
            ).scalars()
        )


def _wait_for_lock_waiter(engine: Engine, timeout: float = 10.0) -> None:
    """Wait until some session waits on an advisory lock (the second writer)."""
    deadline = time.monotonic() + timeout
    with engine.connect() as conn:
        while time.monotonic() < deadline:
            waiting = conn.execute(
                text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
            ).scalar_one()
            conn.rollback()
            if waiting:
                return
            time.sleep(0.01)
    raise AssertionError("the second writer never waited for the position lock")

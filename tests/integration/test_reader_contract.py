"""The reader contract: no read path ever skips an event any append path committed.

The idea of the ``eventsourcing`` library's non-interleaving notification test, run for every
append path (``append``, ``append_in``, ``append_batch``) with every read path (``read_all``,
``read_partitions``). Concurrent writers commit slowly: a deferred trigger sleeps at commit
time, after the positions are drawn, and refuses some commits there (gaps in the positions).
A reader polls with a checkpoint meanwhile and must see each committed event exactly once, in
position order, with pages read fresh and with the next full page read ahead in the background.
tests/integration/test_event_order.py shows the same method catching a skip
with plain inserts.
"""

from __future__ import annotations

import random
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from shared.eventlog import AppendContext, EventStore, NewEvent, RecordedEvent, StreamAppend
from shared.projections.partitions import partition_of, slots_of

pytestmark = pytest.mark.integration

PREFIX = "reader-contract-"
WRITERS = 4
APPENDS_EACH = 40
SLOW_SHARE = 0.3  # appends whose commit waits
REFUSED_SHARE = 0.08  # appends whose commit fails after their positions were drawn
READ_AHEAD_PAGE = 10
BACKLOG = 100  # events committed before a reader of read-ahead pages starts
CONTEXT = AppendContext(source="test")

# Runs at COMMIT, under the position lock the append took: a slow commit holds later
# appends back, a refused one leaves a gap in the positions.
_SLOW_COMMIT = f"""
CREATE OR REPLACE FUNCTION reader_contract_commit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.stream_id LIKE '{PREFIX}refused-%' THEN
        RAISE EXCEPTION 'reader contract: commit refused';
    END IF;
    IF NEW.stream_id LIKE '{PREFIX}slow-%' THEN
        PERFORM pg_sleep(0.002);
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER reader_contract_commit AFTER INSERT ON events
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN (NEW.stream_id LIKE '{PREFIX}%') EXECUTE FUNCTION reader_contract_commit();
"""
_DROP = """
DROP TRIGGER IF EXISTS reader_contract_commit ON events;
DROP FUNCTION IF EXISTS reader_contract_commit();
"""

Append = Callable[[EventStore, uuid.UUID, list[str]], list[int]]
Read = Callable[[EventStore, uuid.UUID, int, int], list[RecordedEvent]]


@pytest.fixture(scope="module")
def slow_commits(engine: Engine) -> Iterator[None]:
    with engine.begin() as conn:
        conn.execute(text(_SLOW_COMMIT))
    yield
    with engine.begin() as conn:
        conn.execute(text(_DROP))


def _events(count: int) -> list[NewEvent]:
    return [NewEvent("PersonLeft", {"person_id": str(uuid.uuid4())}) for _ in range(count)]


def _append(store: EventStore, tenant: uuid.UUID, streams: list[str]) -> list[int]:
    positions: list[int] = []
    for stream in streams:
        positions += store.append(tenant, stream, 0, _events(2), CONTEXT).positions
    return positions


def _append_in(store: EventStore, tenant: uuid.UUID, streams: list[str]) -> list[int]:
    positions: list[int] = []
    with store.engine.connect() as conn, conn.begin():  # one unit of work for every stream
        for stream in streams:
            positions += store.append_in(conn, tenant, stream, 0, _events(2), CONTEXT).positions
    return positions


def _append_batch(store: EventStore, tenant: uuid.UUID, streams: list[str]) -> list[int]:
    appends = [StreamAppend(stream, _events(2), 0) for stream in streams]
    results = store.append_batch(tenant, appends, CONTEXT)
    return [p for result in results for p in result.positions]


def _read_all(store: EventStore, tenant: uuid.UUID, after: int, limit: int) -> list[RecordedEvent]:
    return store.read_all(after, limit, tenant_id=tenant)


def _read_partitions(
    store: EventStore, tenant: uuid.UUID, after: int, limit: int
) -> list[RecordedEvent]:
    # The tenant's partition of four, as a projection worker reads it (other tenants of its
    # slots may write meanwhile: the reader keeps the checkpoint of what it read).
    slots = slots_of([partition_of(tenant, 4)], 4)
    return store.read_partitions(slots, after, limit, types=["PersonLeft"])


APPEND_PATHS: dict[str, Append] = {
    "append": _append,
    "append_in": _append_in,
    "append_batch": _append_batch,
}
READ_PATHS: dict[str, Read] = {"read_all": _read_all, "read_partitions": _read_partitions}


@pytest.mark.parametrize("read_ahead", [False, True], ids=["fresh-pages", "read-ahead"])
@pytest.mark.parametrize("read_path", sorted(READ_PATHS))
@pytest.mark.parametrize("append_path", sorted(APPEND_PATHS))
def test_a_polling_reader_sees_every_committed_event_once_in_order(
    store: EventStore,
    tenant: uuid.UUID,
    slow_commits: None,
    monkeypatch: pytest.MonkeyPatch,
    append_path: str,
    read_path: str,
    read_ahead: bool,
):
    taken = _count_read_ahead(store, monkeypatch) if read_ahead else []
    append, read = APPEND_PATHS[append_path], READ_PATHS[read_path]
    rng = random.Random(f"{append_path}/{read_path}/{read_ahead}")
    plans = [[_plan(rng) for _ in range(APPENDS_EACH)] for _ in range(WRITERS)]
    start = store.head()
    committed: list[int] = []
    refused: list[int] = []
    lock = threading.Lock()
    writers_done = threading.Event()
    backlog = threading.Event()  # set once the writers are BACKLOG events ahead
    seen: list[int] = []
    failures: list[BaseException] = []

    def writer(plan: list[list[str]]) -> None:
        try:
            for streams in plan:
                try:
                    positions = append(store, tenant, streams)
                except (DBAPIError, psycopg.Error) as err:
                    assert "commit refused" in str(err)
                    with lock:
                        refused.append(len(streams))
                    continue
                with lock:
                    committed.extend(positions)
                    if len(committed) >= BACKLOG:
                        backlog.set()
        except BaseException as err:  # reported by the main thread
            failures.append(err)

    def reader() -> None:
        checkpoint = start
        if read_ahead:  # begin behind, so that full pages come one after the other
            backlog.wait(timeout=60)
        try:
            while True:
                finished = writers_done.is_set()
                # Read ahead pages serve only a read of the same size after the same position.
                limit = READ_AHEAD_PAGE if read_ahead else rng.randint(1, 50)
                batch = read(store, tenant, checkpoint, limit)
                seen.extend(e.position for e in batch if e.tenant_id == tenant)
                if batch:
                    checkpoint = batch[-1].position
                elif finished:
                    return
        except BaseException as err:
            failures.append(err)

    threads = [threading.Thread(target=writer, args=(plan,)) for plan in plans]
    poller = threading.Thread(target=reader)
    poller.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    writers_done.set()
    backlog.set()
    poller.join()

    assert failures == []
    assert refused, "no commit was refused: the test made no gap"
    assert len(committed) > WRITERS * APPENDS_EACH
    assert seen == sorted(committed)  # every committed event once, in position order
    assert not read_ahead or taken, "no page read ahead was used"


def _count_read_ahead(store: EventStore, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Let full pages of :data:`READ_AHEAD_PAGE` read the next page ahead, as full pages of
    ``PREFETCH_MIN_PAGE`` events do; the sizes of the pages read ahead that were used."""
    monkeypatch.setattr(store.reader, "read_ahead_from", READ_AHEAD_PAGE)
    take = store.reader.read_ahead.take
    taken: list[int] = []

    def counted(after: int, filters: tuple[Any, ...]) -> list[tuple[Any, ...]] | None:
        rows = take(after, filters)
        if rows is not None:
            taken.append(len(rows))
        return rows

    monkeypatch.setattr(store.reader.read_ahead, "take", counted)
    return taken


def _plan(rng: random.Random) -> list[str]:
    """The streams of one append (two events each): slow, refused or plain commits."""
    draw = rng.random()
    kind = "refused" if draw < REFUSED_SHARE else "slow" if draw < SLOW_SHARE else "plain"
    return [f"{PREFIX}{kind}-{uuid.uuid4()}" for _ in range(rng.randint(1, 3))]

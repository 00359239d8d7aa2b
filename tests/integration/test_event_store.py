"""The event store's contract, against a real PostgreSQL (embedded or the machine's)."""

from __future__ import annotations

import gc
import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from shared.eventlog import (
    AppendContext,
    ConcurrencyError,
    EventStore,
    EventValidationError,
    IdempotencyConflict,
    NewEvent,
    PayloadTooLarge,
    StreamAppend,
    UnknownEventType,
)
from shared.eventlog.store import PREFETCH_MIN_PAGE

pytestmark = pytest.mark.integration


def action(person: uuid.UUID, note: str | None = None, minutes: int = 10) -> NewEvent:
    return NewEvent(
        "MicroActionLogged",
        {
            "action_id": str(uuid.uuid4()),
            "person_id": str(person),
            "tactic": "regular_signaling",
            "minutes": minutes,
            "audience": "team",
            "note": note,
        },
    )


def count_events(engine: Engine, tenant: uuid.UUID) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                text("SELECT count(*) FROM events WHERE tenant_id = :t"), {"t": tenant}
            ).scalar_one()
        )


def test_append_then_read_stream_returns_events_in_order(store: EventStore, tenant: uuid.UUID):
    person = uuid.uuid4()
    stream = f"journal-{person}"
    occurred = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
    first = store.append(
        tenant,
        stream,
        0,
        [action(person, "sent the 3-bullet summary")],
        AppendContext(actor=str(person), source="test"),
    )
    second = store.append(tenant, stream, 1, [action(person), action(person)])
    events = store.read_stream(stream)

    assert [e.version for e in events] == [1, 2, 3]
    assert second.stream_version == 3
    assert first.positions[0] < second.positions[0] < second.positions[1]
    assert events[0].data["note"] == "sent the 3-bullet summary"
    assert events[0].metadata == {"actor": str(person), "source": "test"}
    assert events[0].tenant_id == tenant and events[0].schema_version == 1
    store.append(tenant, stream, 3, [NewEvent(action(person).type, action(person).data, occurred)])
    assert store.read_stream(stream, after_version=3)[0].occurred_at == occurred


def test_wrong_expected_version_raises_and_writes_nothing(store: EventStore, tenant: uuid.UUID):
    person = uuid.uuid4()
    stream = f"journal-{person}"
    store.append(tenant, stream, 0, [action(person)])
    for expected in (0, 2, 7):
        with pytest.raises(ConcurrencyError) as err:
            store.append(tenant, stream, expected, [action(person)])
        assert err.value.actual == 1 and err.value.expected == expected
        assert "is at version 1" in str(err.value)
    assert store.stream_version(stream) == 1
    assert store.append(tenant, stream, None, [action(person)]).stream_version == 2


def test_concurrent_writers_on_one_stream_each_win_exactly_once(
    store: EventStore, tenant: uuid.UUID
):
    person = uuid.uuid4()
    stream = f"journal-{person}"
    wins: list[int] = []
    conflicts: list[int] = []
    barrier = threading.Barrier(8)

    def writer() -> None:
        barrier.wait()
        for _ in range(10):
            while True:
                version = store.stream_version(stream)
                try:
                    store.append(tenant, stream, version, [action(person)])
                    wins.append(version)
                    break
                except ConcurrencyError:
                    conflicts.append(version)

    threads = [threading.Thread(target=writer) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.stream_version(stream) == len(wins) == 80
    assert sorted(wins) == list(range(80))


def test_idempotent_retry_returns_original_positions(store: EventStore, tenant: uuid.UUID):
    person = uuid.uuid4()
    stream = f"journal-{person}"
    event = action(person, "private note")
    ctx = AppendContext(actor=str(person), idempotency_key="req-1")
    first = store.append(tenant, stream, 0, [event], ctx)
    again = store.append(tenant, stream, 0, [event], ctx)

    assert again.replayed and not first.replayed
    assert again.positions == first.positions and again.event_ids == first.event_ids
    assert count_events(store.engine, tenant) == 1

    other = NewEvent(event.type, {**event.data, "minutes": 11})
    with pytest.raises(IdempotencyConflict):
        store.append(tenant, stream, None, [other], ctx)
    someone_else = AppendContext(actor=str(uuid.uuid4()), idempotency_key="req-1")
    assert not store.append(tenant, stream, None, [event], someone_else).replayed
    assert count_events(store.engine, tenant) == 2


@pytest.mark.parametrize("count", [1, 3])  # compound_append_one() and compound_append()
def test_one_event_and_several_go_through_the_same_checks(
    store: EventStore, tenant: uuid.UUID, count: int
):
    person = uuid.uuid4()
    stream = f"journal-{person}"
    occurred = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
    events = [NewEvent(e.type, e.data, occurred) for e in (action(person, "a note"),) * count]
    ctx = AppendContext(actor=str(person), idempotency_key=f"req-{count}")
    first = store.append(tenant, stream, 0, events, ctx)
    assert first.stream_version == count and len(first.positions) == count
    again = store.append(tenant, stream, 0, events, ctx)
    assert again.replayed and again.positions == first.positions
    with pytest.raises(ConcurrencyError) as err:
        store.append(tenant, stream, 0, [action(person) for _ in range(count)])
    assert err.value.actual == count
    read = store.read_stream(stream)
    assert [e.version for e in read] == list(range(1, count + 1))
    assert [e.data["note"] for e in read] == ["a note"] * count
    assert [e.occurred_at for e in read] == [occurred] * count
    page = store.read_all(first.positions[0] - 1, count)
    assert [e.position for e in page] == list(first.positions)
    assert [e.occurred_at for e in page] == [occurred] * count
    assert all(e.recorded_at.utcoffset() == timedelta(0) for e in page)


def test_read_all_leaves_the_garbage_collector_as_it_found_it(store: EventStore, tenant: uuid.UUID):
    person = uuid.uuid4()
    store.append(tenant, f"journal-{person}", 0, [action(person)])
    assert gc.isenabled()
    store.read_all(0, 10)
    assert gc.isenabled()
    gc.disable()
    try:
        store.read_all(0, 10)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_concurrent_identical_retries_write_once(store: EventStore, tenant: uuid.UUID):
    person = uuid.uuid4()
    event = action(person)
    ctx = AppendContext(actor=str(person), idempotency_key="race")
    results = []
    barrier = threading.Barrier(6)

    def retry() -> None:
        barrier.wait()
        results.append(store.append(tenant, f"journal-{person}", None, [event], ctx))

    threads = [threading.Thread(target=retry) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({r.positions for r in results}) == 1
    assert sum(not r.replayed for r in results) == 1
    assert count_events(store.engine, tenant) == 1


@pytest.mark.parametrize(
    ("event", "error", "message"),
    [
        (NewEvent("NoSuchThing", {}), UnknownEventType, "unknown event type 'NoSuchThing'"),
        (NewEvent("MicroActionLogged", {"tactic": "bribery"}), EventValidationError, "tactic"),
        (
            NewEvent("MicroActionLogged", {"person_id": "x", "extra": 1}),
            EventValidationError,
            "extra",
        ),
        (
            NewEvent("MicroActionLogged", ["not", "an", "object"]),  # type: ignore[arg-type]
            EventValidationError,
            "must be an object",
        ),
    ],
)
def test_bad_events_raise_typed_errors_and_write_nothing(
    store: EventStore, tenant: uuid.UUID, event: NewEvent, error: type[Exception], message: str
):
    person = uuid.uuid4()
    with pytest.raises(error) as err:
        store.append(tenant, f"journal-{person}", None, [action(person), event])
    assert message in str(err.value)
    assert count_events(store.engine, tenant) == 0


def test_validation_error_names_each_field(store: EventStore, tenant: uuid.UUID):
    with pytest.raises(EventValidationError) as err:
        store.append(tenant, "s", None, [NewEvent("MicroActionLogged", {"minutes": 0})])
    assert set(err.value.errors) >= {"action_id", "person_id", "tactic", "minutes", "audience"}
    assert err.value.errors["minutes"] == [
        "Must be greater than or equal to 1 and less than or equal to 480."
    ]


def test_oversize_payload_is_refused(engine: Engine, store: EventStore, tenant: uuid.UUID):
    small = EventStore(engine, keyring=store.keyring, max_event_bytes=1024)
    person = uuid.uuid4()
    with pytest.raises(PayloadTooLarge) as err:
        small.append(tenant, "s", None, [action(person, "x" * 1500)])
    assert err.value.limit == 1024 and err.value.size > 1024
    assert "limit is 1024 bytes" in str(err.value)
    assert count_events(engine, tenant) == 0


def test_bulk_append_checks_a_sealed_events_plain_size(
    engine: Engine, store: EventStore, tenant: uuid.UUID
):
    # The limit is on the plain payload, though a sealed one is stored longer: a bulk append
    # checks the stored JSON and dumps the plain one only when that is over the limit.
    person = uuid.uuid4()
    event = action(person, "x" * 600)
    _, data = store.catalogue.normalise(event.type, event.data)
    size = len(orjson.dumps(data, option=orjson.OPT_SORT_KEYS))
    exact = EventStore(engine, keyring=store.keyring, max_event_bytes=size)
    moment = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
    timed = [NewEvent(event.type, event.data, moment), action(person)]
    exact.append_batch(tenant, [StreamAppend(f"journal-{person}", timed, 0)])
    assert [e.data["note"] for e in store.read_stream(f"journal-{person}")] == ["x" * 600, None]
    assert store.read_stream(f"journal-{person}")[0].occurred_at == moment
    short = EventStore(engine, keyring=store.keyring, max_event_bytes=size - 1)
    other = uuid.uuid4()
    with pytest.raises(PayloadTooLarge) as err:
        short.append_batch(tenant, [StreamAppend(f"journal-{other}", [action(other), event])])
    assert err.value.size == size and err.value.limit == size - 1
    naive = NewEvent(event.type, event.data, datetime(2026, 1, 1))  # the size is told first
    with pytest.raises(PayloadTooLarge):
        short.append_batch(tenant, [StreamAppend(f"journal-{other}", [naive])])
    with pytest.raises(EventValidationError, match="occurred_at"):
        exact.append_batch(tenant, [StreamAppend(f"journal-{other}", [naive])])
    assert count_events(engine, tenant) == 2


def test_bulk_append_sizes_a_sealed_event_with_its_seal(
    engine: Engine, store: EventStore, tenant: uuid.UUID
):
    # Without a note, the stored JSON of a sealed action (ids only: its behaviour is in the
    # seal column) is shorter than its plain JSON: the limit still holds at the plain size.
    person = uuid.uuid4()
    event = action(person)
    _, data = store.catalogue.normalise(event.type, event.data)
    size = len(orjson.dumps(data, option=orjson.OPT_SORT_KEYS))
    short = EventStore(engine, keyring=store.keyring, max_event_bytes=size - 1)
    with pytest.raises(PayloadTooLarge) as err:
        short.append_batch(tenant, [StreamAppend(f"journal-{person}", [event])])
    assert err.value.size == size and err.value.limit == size - 1
    exact = EventStore(engine, keyring=store.keyring, max_event_bytes=size)
    exact.append_batch(tenant, [StreamAppend(f"journal-{person}", [event])])
    with engine.connect() as conn:
        stored = conn.execute(
            text("SELECT data::text FROM events WHERE stream_id = :s"), {"s": f"journal-{person}"}
        ).scalar_one()
    assert len(orjson.dumps(orjson.loads(stored))) < size  # alone it would have gone in


def test_naive_occurred_at_is_refused(store: EventStore, tenant: uuid.UUID):
    person = uuid.uuid4()
    naive = NewEvent("MicroActionLogged", action(person).data, datetime(2026, 1, 1))
    with pytest.raises(EventValidationError, match="occurred_at"):
        store.append(tenant, "s", None, [naive])


@pytest.mark.parametrize(
    "statement",
    ["UPDATE events SET type = 'X'", "DELETE FROM events", "TRUNCATE events"],
)
def test_events_are_append_only(store: EventStore, tenant: uuid.UUID, statement: str):
    person = uuid.uuid4()
    store.append(tenant, f"journal-{person}", 0, [action(person)])
    with pytest.raises(DBAPIError, match="append-only"), store.engine.begin() as conn:
        conn.execute(
            text(statement + (" WHERE tenant_id = :t" if "TRUNCATE" not in statement else "")),
            {"t": tenant},
        )
    assert count_events(store.engine, tenant) == 1


def test_bulk_append_assigns_versions_and_positions(store: EventStore, tenant: uuid.UUID):
    people = [uuid.uuid4() for _ in range(5)]
    store.append(tenant, f"journal-{people[0]}", 0, [action(people[0])])
    batch = [
        StreamAppend(
            f"journal-{p}",
            [action(p, f"note {i}") for i in range(20)],
            expected_version=1 if p == people[0] else 0,
        )
        for p in people
    ]
    results = store.append_batch(tenant, batch, AppendContext(idempotency_key="import-1"))

    positions = [pos for r in results for pos in r.positions]
    assert positions == sorted(positions) and len(set(positions)) == 100
    assert [r.stream_version for r in results] == [21, 20, 20, 20, 20]
    stream = store.read_stream(f"journal-{people[1]}")
    assert [e.version for e in stream] == list(range(1, 21))
    assert [e.data["note"] for e in stream] == [f"note {i}" for i in range(20)]

    again = store.append_batch(tenant, batch, AppendContext(idempotency_key="import-1"))
    assert all(r.replayed for r in again)
    assert [r.positions for r in again] == [r.positions for r in results]
    assert count_events(store.engine, tenant) == 101


def test_bulk_append_is_all_or_nothing(store: EventStore, tenant: uuid.UUID):
    a, b = uuid.uuid4(), uuid.uuid4()
    store.append(tenant, f"journal-{b}", 0, [action(b)])
    with pytest.raises(ConcurrencyError):
        store.append_batch(
            tenant,
            [
                StreamAppend(f"journal-{a}", [action(a)], 0),
                StreamAppend(f"journal-{b}", [action(b)], 0),
            ],
        )
    bad: dict[str, Any] = {**action(a).data, "minutes": 9999}
    with pytest.raises(EventValidationError, match="minutes"):
        store.append_batch(
            tenant,
            [
                StreamAppend(f"journal-{a}", [action(a), NewEvent("MicroActionLogged", bad)]),
            ],
        )
    assert count_events(store.engine, tenant) == 1


def test_read_all_filters_by_tenant_and_type(store: EventStore, tenant: uuid.UUID):
    person = uuid.uuid4()
    start = store.head()
    store.append(tenant, f"journal-{person}", 0, [action(person)])
    store.append(
        tenant, f"person-{person}", 0, [NewEvent("PersonLeft", {"person_id": str(person)})]
    )
    store.append(uuid.uuid4(), "elsewhere", 0, [action(uuid.uuid4())])

    mine = store.read_all(start, tenant_id=tenant)
    assert [e.type for e in mine] == ["MicroActionLogged", "PersonLeft"]
    assert [e.type for e in store.read_all(start, types=["PersonLeft"], tenant_id=tenant)] == [
        "PersonLeft"
    ]
    everything = list(store.iter_all(start, batch=1))
    assert len(everything) == 3 and store.head() == everything[-1].position


def test_bulk_append_keeps_awkward_text_intact(store: EventStore, tenant: uuid.UUID):
    person = uuid.uuid4()
    awkward = 'tab\there, "quotes", back\\slash \\n not a newline,\nnewline, emoji 🚀, שלום'
    stream = "journal-\tweird\\stream"
    store.append_batch(tenant, [StreamAppend(stream, [action(person, awkward)], 0)])
    event = store.read_stream(stream)[0]
    assert event.data["note"] == awkward and event.stream_id == stream
    plain = NewEvent("PersonLeft", {"person_id": str(person)})
    store.append_batch(tenant, [StreamAppend(stream, [plain], 1)])
    assert store.read_stream(stream)[1].data == {"person_id": str(person)}


def test_read_ahead_pages_equal_fresh_reads_and_never_hide_new_events(
    store: EventStore, tenant: uuid.UUID
):
    person = uuid.uuid4()
    stream = f"journal-{person}"
    start = store.head()
    page = PREFETCH_MIN_PAGE
    store.append_batch(
        tenant, [StreamAppend(stream, [action(person) for _ in range(2 * page + 5)])]
    )

    first = store.read_all(start, page, tenant_id=tenant)  # full: the next page is read ahead
    second = store.read_all(first[-1].position, page, tenant_id=tenant)
    assert [e.position for e in second] == [
        e.position for e in store.read_all(first[-1].position, page, tenant_id=tenant)
    ]
    assert [e.version for e in first + second] == list(range(1, 2 * page + 1))

    # The third page, read ahead with 5 events, is short: events committed after it was read
    # must still be returned.
    ahead = store.reader.read_ahead.peek()
    assert ahead is not None and ahead[0] == second[-1].position
    assert len(ahead[2].result(timeout=30)) == 5
    store.append(tenant, stream, 2 * page + 5, [action(person)])
    third = store.read_all(second[-1].position, page, tenant_id=tenant)
    assert [e.version for e in third] == list(range(2 * page + 1, 2 * page + 7))

    # Another filter, another thread of reads: nothing read ahead is mixed in.
    other = store.read_all(first[-1].position, page, types=["PersonLeft"], tenant_id=tenant)
    assert other == []

"""EventStore.read_person_chunks: the whole log up to a head, once, a group of people at a time.

Over a log of two synthetic organisations (infra/synthetic.py) and a few odd streams, in a
database of this module's own: every event up to the head is read exactly once and as
read_all reads it, every person's events in one chunk, the events of no person first, each
chunk in position order and within its size unless one person alone exceeds it.
"""

from __future__ import annotations

import itertools
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import make_url

from infra.migrate import upgrade
from infra.synthetic import seed_synthetic
from shared.database import as_psycopg, make_engine
from shared.eventlog import AppendContext, EventStore, KeyRing, NewEvent, RecordedEvent
from shared.eventlog.chunked_reads import (
    END_OF_IDS,
    PERSON_STREAM_KINDS,
    EventChunk,
    PersonRangePlanner,
    no_person_sql,
    person_range_sql,
)

pytestmark = pytest.mark.integration

CONTEXT = AppendContext(source="test")
TYPES = ["MicroActionLogged", "PulseResponseSubmitted", "TeamCreated", "FeedbackGiven"]
# Stream names at the edges of the person ranges: not an id, upper case, bare prefixes.
ID_LENGTH = 36  # a person id as text
ODD_STREAMS = ["journal-zzz", "journal-ABC", "calendar-", "person-0", "persons-1", "team-x"]


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="module")
def fresh_store(postgres_server_url: str, master_key: str) -> Iterator[EventStore]:
    """An event store on an empty database of this module's own, dropped afterwards."""
    name = f"compound_chunks_{uuid.uuid4().hex[:8]}"
    admin = _libpq(postgres_server_url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(postgres_server_url).set(database=name).render_as_string(False)
    engine = make_engine(url, pool_size=3)
    upgrade(engine)
    yield EventStore(engine, keyring=KeyRing([master_key]))
    engine.dispose()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def log(fresh_store: EventStore) -> EventStore:
    """Two organisations' histories and the odd streams."""
    today = date(2026, 12, 2)
    seed_synthetic(fresh_store, people=24, weeks=3, seed=1, today=today, team_size=6)
    seed_synthetic(fresh_store, people=16, weeks=2, seed=2, today=today, meetings=1)
    for stream in ODD_STREAMS:
        _append_odd(fresh_store, stream)
    return fresh_store


def _append_odd(store: EventStore, stream: str) -> None:
    data = {"organization_id": str(uuid.uuid4()), "name": stream}
    event = NewEvent("OrganizationCreated", data, datetime(2026, 12, 1, tzinfo=UTC))
    store.append(uuid.uuid4(), stream, None, [event], CONTEXT)


def _chunks(store: EventStore, head: int, size: int, **kw: object) -> list[EventChunk]:
    return list(store.read_person_chunks(head, chunk_events=size, **kw))  # type: ignore[arg-type]


def _whole(store: EventStore, head: int, **kw: object) -> list[RecordedEvent]:
    events = store.read_all(0, head + 1, **kw)  # type: ignore[arg-type]
    return [e for e in events if e.position <= head]


def _person(stream_id: str) -> str | None:
    """The person a person-range read files an event under (None: the events of no one)."""
    for kind in PERSON_STREAM_KINDS:
        if stream_id.startswith(kind) and stream_id[len(kind) :] < "g":
            return stream_id[len(kind) :]
    return None


def _check(chunks: list[EventChunk], expected: list[RecordedEvent], size: int) -> None:
    read = [e for chunk in chunks for e in chunk.events]
    assert sorted((e.position, e.event_id, e.data) for e in read) == [
        (e.position, e.event_id, e.data) for e in expected
    ]
    kinds = [chunk.people for chunk in chunks]
    assert kinds == sorted(kinds), "the events of no person come first"
    chunk_of: dict[str, int] = {}
    for index, chunk in enumerate(chunks):
        positions = [e.position for e in chunk.events]
        assert chunk.events and positions == sorted(positions)
        people = {_person(e.stream_id) for e in chunk.events}
        if not chunk.people:
            assert people == {None}
            assert len(chunk.events) <= size
            continue
        assert None not in people
        # The ranges are sized by the events of people with ids; the odd streams ride along.
        ids = [e for e in chunk.events if len(str(_person(e.stream_id))) == ID_LENGTH]
        assert len(ids) <= size or len({_person(e.stream_id) for e in ids}) == 1, (
            "only one person may exceed the size"
        )
        for person in people:
            assert chunk_of.setdefault(str(person), index) == index, "a person in two chunks"


def test_an_empty_log_reads_no_chunk(fresh_store: EventStore) -> None:
    if fresh_store.head():
        pytest.skip("the module's log is seeded already")
    assert _chunks(fresh_store, 0, 10) == []
    assert _chunks(fresh_store, 100, 10) == []


@pytest.mark.parametrize("size", [1, 7, 50, 400, 10**6])
def test_every_event_once_each_person_in_one_chunk(log: EventStore, size: int) -> None:
    head = log.head()
    chunks = _chunks(log, head, size)
    _check(chunks, _whole(log, head), size)
    assert any(not c.people for c in chunks) and any(c.people for c in chunks)
    if size == 10**6:
        assert [c.people for c in chunks] == [False, True], "a small log is two chunks"


def test_a_person_with_more_events_than_a_chunk_has_a_chunk_alone(log: EventStore) -> None:
    head = log.head()
    size = 5
    busy = Counter(_person(e.stream_id) for e in _whole(log, head))
    assert max(n for p, n in busy.items() if p is not None) > size
    chunks = [c for c in _chunks(log, head, size) if c.people]
    oversized = [c for c in chunks if len(c.events) > size]
    assert oversized
    for chunk in oversized:
        people = {_person(e.stream_id) for e in chunk.events}
        assert len({p for p in people if len(str(p)) == ID_LENGTH}) == 1


def test_types_filter_and_decryption_as_read_all(log: EventStore) -> None:
    head = log.head()
    chunks = _chunks(log, head, 60, types=TYPES)
    expected = _whole(log, head, types=TYPES)
    assert {e.type for e in expected} == set(TYPES)
    _check(chunks, expected, 60)
    sealed = _chunks(log, head, 60, decrypt=False)
    _check(sealed, _whole(log, head, decrypt=False), 60)
    assert [e.data for c in sealed for e in c.events] != [
        e.data for c in _chunks(log, head, 60) for e in c.events
    ], "some personal field is sealed"


def test_events_after_the_head_are_not_read(log: EventStore) -> None:
    head = log.head()
    before = _whole(log, head)
    person = next(e.stream_id for e in before if e.stream_id.startswith("journal-"))
    _append_odd(log, person)
    _append_odd(log, "team-after-head")
    assert log.head() == head + 2
    _check(_chunks(log, head, 40), before, 40)
    _check(_chunks(log, head + 2, 40), _whole(log, head + 2), 40)


def test_ranges_cover_every_id_and_are_packed(log: EventStore) -> None:
    ranges = PersonRangePlanner(log.reader.fetch, 100).ranges()
    assert ranges[0][0] == "" and ranges[-1][1] == "g"
    assert all(a[1] == b[0] for a, b in itertools.pairwise(ranges))
    assert all(low < high for low, high in ranges)
    assert PersonRangePlanner(log.reader.fetch, 10**9).ranges() == [("", "g")]


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    size=st.integers(min_value=1, max_value=800),
    types=st.none() | st.sets(st.sampled_from(TYPES), min_size=1),
    cut=st.floats(min_value=0, max_value=1),
)
def test_any_size_types_and_head(
    log: EventStore, size: int, types: set[str] | None, cut: float
) -> None:
    head = int(log.head() * cut)
    chunks = _chunks(log, head, size, types=types, decrypt=False)
    _check(chunks, _whole(log, head, types=types, decrypt=False), size)


def test_the_streams_of_no_person_are_the_complement_of_every_person_range(
    fresh_store: EventStore,
) -> None:
    """The read of the events of no person names their streams as index ranges (the gaps
    between the person stream kinds), and they are exactly the streams outside the ranges."""
    names = [*ODD_STREAMS, "calendar", "calendar-g", "calendar-ff", "journal-", "journal-g0"]
    names += ["org-1", "person-", "person-f", "person-g", "pulse-t-2026-W10", "a", "zz", ""]
    everyone, everyone_params = person_range_sql("", END_OF_IDS)
    no_person, no_person_params = no_person_sql()
    with fresh_store.engine.connect() as conn, as_psycopg(conn).cursor() as cur:
        cur.execute(
            f"SELECT stream_id, NOT {everyone}, {no_person} "
            "FROM unnest(%s::text[]) AS s(stream_id)",
            [*everyone_params, *no_person_params, names],
        )
        rows = cur.fetchall()
    assert len(rows) == len(names)
    for stream, outside, read in rows:
        assert read == outside, stream
    assert {s for s, outside, _ in rows if outside} >= {"team-x", "persons-1", "org-1", "zz"}

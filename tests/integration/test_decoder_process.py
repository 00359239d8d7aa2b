"""EventStore.read_person_chunks(separate_process=True): decoded in a forked process, the
same chunks as the read in this process (shared/eventlog/decoder_process.py).

Against a real PostgreSQL: sealed behaviour with times at odd UTC offsets and the edges of
the calendar, an erased person, personal text left sealed, a type filter; an error of the
child raised here; a read closed early leaves no process behind; a rebuild decoded in
another process holds the same rows as one decoded here.
"""

from __future__ import annotations

import glob
import multiprocessing
import os
import tempfile
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from cryptography.fernet import InvalidToken
from sqlalchemy import text

from infra.synthetic import seed_synthetic
from shared.eventlog import AppendContext, EventStore, KeyRing, NewEvent, generate_master_key
from shared.eventlog.chunked_reads import EventChunk
from shared.projections import PROJECTIONS, chunked, runtime
from tests.databases import fresh_store

pytestmark = pytest.mark.integration

CONTEXT = AppendContext(source="test")
# Times whose exact value (offset included) only the seal keeps, at the edges of the store's
# window (2000 to 2100) and at extreme offsets.
ODD_TIMES = [
    datetime(2000, 1, 3, 0, 0, tzinfo=timezone(timedelta(hours=5, minutes=45))),
    datetime(2099, 12, 31, 10, 0, 0, 999_999, tzinfo=timezone(timedelta(hours=-9, minutes=-30))),
    datetime(2026, 3, 29, 1, 30, 15, 123_456, tzinfo=timezone(timedelta(hours=14))),
    datetime(2026, 11, 1, 23, 59, 59, tzinfo=UTC),
]


def _action(person: uuid.UUID, at: datetime) -> NewEvent:
    data = {
        "action_id": str(uuid.uuid4()),
        "person_id": str(person),
        "tactic": "learning_bit",
        "minutes": 10,
        "audience": "team",
        "note": "a note \t with a tab, \\ a backslash and ünïcode",
    }
    return NewEvent("MicroActionLogged", data, at)


@pytest.fixture(scope="module")
def log(postgres_server_url: str, master_key: str) -> Iterator[EventStore]:
    """Synthetic history, odd times, and one person erased after acting, in a database of
    this module's own (other tests' rows do not disturb the seeding)."""
    with fresh_store(postgres_server_url, master_key, "compound_decoder_log") as store:
        yield _seeded(store)


def _seeded(store: EventStore) -> EventStore:
    seed_synthetic(store, people=12, weeks=2, seed=7, today=date(2026, 12, 2))
    tenant = uuid.uuid4()
    for person in (uuid.uuid4(), uuid.uuid4()):
        events = [_action(person, at) for at in ODD_TIMES]
        store.append(tenant, f"journal-{person}", None, events, CONTEXT)
    with store.engine.begin() as conn:
        store.keyring.erase(conn, tenant, person)
    return store


def _read(store: EventStore, elsewhere: bool, **kw: object) -> list[EventChunk]:
    head = int(kw.pop("head", store.head()))  # type: ignore[call-overload]
    chunks = store.read_person_chunks(head, chunk_events=40, separate_process=elsewhere, **kw)  # type: ignore[arg-type]
    return list(chunks)


def _same(here: list[EventChunk], there: list[EventChunk]) -> None:
    assert [(c.people, c.low, c.high, len(c.events)) for c in there] == [
        (c.people, c.low, c.high, len(c.events)) for c in here
    ]
    for mine, theirs in zip(here, there, strict=True):
        for a, b in zip(mine.events, theirs.events, strict=True):
            assert b == a
            assert (b.erased, b.event_id_text, b.tenant_id_text) == (
                a.erased,
                a.event_id_text,
                a.tenant_id_text,
            )
            # equal instants are not enough: the offset and the text must survive too
            assert b.occurred_at.isoformat() == a.occurred_at.isoformat()
            assert b.recorded_at.isoformat() == a.recorded_at.isoformat()
            assert type(b.data) is dict and b.data == a.data


@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"decrypt": False},
        {"types": ["MicroActionLogged", "TeamCreated", "PersonJoined"]},
    ],
    ids=["all", "sealed-text", "types"],
)
def test_a_read_in_another_process_gives_the_same_chunks(log: EventStore, kw: dict) -> None:
    here = _read(log, False, **dict(kw))
    there = _read(log, True, **dict(kw))
    _same(here, there)
    events = [e for c in there for e in c.events]
    assert any(e.erased for e in events), "the erased person's actions read as erased"
    offsets = {e.occurred_at.isoformat() for e in events}
    if "types" not in kw or "MicroActionLogged" in kw["types"]:
        assert {t.isoformat() for t in ODD_TIMES} <= offsets


def test_a_read_up_to_an_earlier_head(log: EventStore) -> None:
    head = log.head() // 2
    _same(_read(log, False, head=head), _read(log, True, head=head))


def test_an_error_in_the_decoding_process_is_raised_here(log: EventStore) -> None:
    wrong_keys = EventStore(log.engine, keyring=KeyRing([generate_master_key()]))
    with pytest.raises(InvalidToken):
        _read(wrong_keys, False)
    with pytest.raises(InvalidToken):
        _read(wrong_keys, True)
    assert not multiprocessing.active_children()


def _handed_over() -> set[str]:
    return set(glob.glob("/dev/shm/compound-decoded-*")) | set(
        glob.glob(os.path.join(tempfile.gettempdir(), "compound-decoded-*"))
    )


def test_closing_the_read_early_ends_the_process(log: EventStore) -> None:
    before = _handed_over()
    chunks = log.read_person_chunks(log.head(), chunk_events=10, separate_process=True)
    first = next(chunks)
    assert first.events
    assert multiprocessing.active_children(), "the read runs in a process of its own"
    assert _handed_over() - before, "decoded chunks are handed over in files"
    chunks.close()  # type: ignore[attr-defined]
    assert not multiprocessing.active_children()
    assert _handed_over() == before, "nothing left behind"
    # the store's own connections still work after the fork
    assert log.read_all(0, 5)


@pytest.fixture
def own_store(postgres_server_url: str, master_key: str) -> Iterator[EventStore]:
    """A database of this test's own: other tests' events must not change its rows."""
    with fresh_store(postgres_server_url, master_key, "compound_decoder") as store:
        yield store


def _snapshot(store: EventStore) -> dict[str, list[tuple[object, ...]]]:
    rows = {}
    with store.engine.connect() as conn:
        for projection in PROJECTIONS:
            for table in projection.tables:
                result = conn.execute(text(f"SELECT * FROM {table}"))
                rows[table] = sorted(map(tuple, result), key=str)
    return rows


def test_a_rebuild_decoded_in_another_process_holds_the_same_rows(
    own_store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = own_store
    seed_synthetic(store, people=12, weeks=3, seed=11, today=date(2026, 12, 2), meetings=1)
    rt = runtime(store)
    rt.ensure()
    rt.chunk_events = 50
    names = [p.name for p in PROJECTIONS]
    rt.rebuild_many(names)  # a small log: decoded in this process
    here = _snapshot(store)
    assert here["capital_contributions"] and here["lever_person_weeks"]
    forked: list[bool] = []
    read = store.read_person_chunks

    def spy(*args: Any, **kw: Any) -> Any:
        forked.append(bool(kw.get("separate_process")))
        return read(*args, **kw)

    monkeypatch.setattr(chunked, "DECODER_PROCESS_MIN_EVENTS", 0)
    monkeypatch.setattr(store, "read_person_chunks", spy)
    rt.rebuild_many(names)
    assert forked and all(forked), "the rebuild read in another process"
    assert _snapshot(store) == here

"""16 writers on one stream, each retrying on 409 (optimistic concurrency): every successful
append is in the stream once, versions have no gap, and the final version is their count."""

from __future__ import annotations

import threading
import uuid

import pytest

from shared.eventlog import ConcurrencyError, EventStore, NewEvent
from tests.reliability.report import Figures

pytestmark = pytest.mark.integration

WRITERS = 16
APPENDS_PER_WRITER = 15


def test_sixteen_writers_retrying_on_conflict_lose_nothing(
    store: EventStore, figures: Figures
) -> None:
    tenant, person = uuid.uuid4(), uuid.uuid4()
    stream = f"journal-{person}"
    start = threading.Barrier(WRITERS)
    lock = threading.Lock()
    succeeded: list[str] = []
    conflicts = 0
    errors: list[BaseException] = []

    def writer(index: int) -> None:
        nonlocal conflicts
        start.wait()  # all at once: the conflicts are the point
        try:
            for i in range(APPENDS_PER_WRITER):
                action = str(uuid.uuid4())
                event = NewEvent(
                    "MicroActionLogged",
                    {
                        "action_id": action,
                        "person_id": str(person),
                        "tactic": "learning_bit",
                        "minutes": index + i + 1,
                        "audience": "private",
                        "note": None,
                    },
                )
                while True:
                    version = store.stream_version(stream)
                    try:
                        store.append(tenant, stream, version, [event])
                    except ConcurrencyError:
                        with lock:
                            conflicts += 1
                        continue
                    with lock:
                        succeeded.append(action)
                    break
        except BaseException as err:  # reported below, on the test's thread
            errors.append(err)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors[:3]
    assert not any(t.is_alive() for t in threads)

    events = store.read_stream(stream)
    assert len(succeeded) == WRITERS * APPENDS_PER_WRITER
    assert store.stream_version(stream) == len(succeeded)
    assert [e.version for e in events] == list(range(1, len(succeeded) + 1))
    stored = [e.data["action_id"] for e in events]
    assert sorted(stored) == sorted(succeeded)  # each success once, nothing else
    assert conflicts > 0, "the writers never collided: the test proved nothing"
    figures.record(
        "concurrent-writers",
        "Faults",
        f"{WRITERS} concurrent writers on one stream, each retrying on 409: the final "
        "version equals the successful appends, versions without gaps, none twice",
        "tests/reliability/test_concurrent_writers.py",
        writers=WRITERS,
        successful_appends=len(succeeded),
        conflicts_retried=conflicts,
        final_version=store.stream_version(stream),
    )

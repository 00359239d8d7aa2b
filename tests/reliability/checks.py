"""What every fault test asserts afterwards: nothing lost, nothing doubled, and read models
equal to a clean rebuild from the event log."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from typing import Any

from sqlalchemy import Engine, text

from shared.eventlog import EventStore
from shared.projections import PROJECTIONS, runtime


def read_models(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every projection's view, in a stable order."""
    out = {}
    with engine.connect() as conn:
        for projection in PROJECTIONS:
            for base in projection.tables:
                rows = [tuple(r) for r in conn.execute(text(f"SELECT * FROM {base}"))]
                out[base] = sorted(rows, key=repr)
    return out


def wait_caught_up(store: EventStore, timeout: float = 60.0) -> float:
    """Wait until every projection has reached the head of the log; returns the seconds."""
    started = time.monotonic()
    rt = runtime(store)
    while True:
        statuses = rt.status()
        if statuses and all(s.lag_events == 0 for s in statuses):
            return time.monotonic() - started
        assert time.monotonic() - started < timeout, f"projections did not catch up: {statuses}"
        time.sleep(0.1)


def assert_read_models_equal_clean_rebuild(store: EventStore) -> int:
    """Rebuild every projection from position 0 and compare; returns the rows compared."""
    before = read_models(store.engine)
    runtime(store).rebuild_many([p.name for p in PROJECTIONS])
    after = read_models(store.engine)
    for base in before:
        if before[base] != after[base]:
            gone = list((Counter(before[base]) - Counter(after[base])).elements())
            new = list((Counter(after[base]) - Counter(before[base])).elements())
            raise AssertionError(
                f"{base} differs from a clean rebuild: {len(gone)} rows only before it "
                f"(first: {gone[:3]}), {len(new)} rows only after it (first: {new[:3]})"
            )
    return sum(len(rows) for rows in before.values())


def assert_each_note_once(store: EventStore, tenant: uuid.UUID, notes: set[str]) -> int:
    """Each of ``notes`` (one per request the client meant to make) is in the log exactly once.

    Returns the number of MicroActionLogged events of the tenant.
    """
    with store.engine.connect() as conn:
        streams = [
            r[0]
            for r in conn.execute(
                text(
                    "SELECT DISTINCT stream_id FROM events "
                    "WHERE tenant_id = :t AND type = 'MicroActionLogged'"
                ),
                {"t": tenant},
            )
        ]
    seen: Counter[str] = Counter()
    for stream in streams:
        for event in store.read_stream(stream):
            if event.type == "MicroActionLogged":
                seen[str(event.data.get("note"))] += 1
    lost = notes - seen.keys()
    doubled = {n: c for n, c in seen.items() if c > 1}
    assert not lost, f"{len(lost)} requests lost"
    assert not doubled, f"{len(doubled)} requests appended twice"
    return sum(seen.values())

"""A rebuild process for kill -9 tests: ``python -m tests.reliability.rebuild_worker
DATABASE_URL BATCH MASTER_KEY [CHUNK_EVENTS]``; prints "ready", rebuilds every projection
(printing "progress N" as each chunk of about CHUNK_EVENTS events is written), prints "done".
The progress lines let a test kill it at a point of the rebuild, not of the clock."""

from __future__ import annotations

import sys

from shared.database import make_engine
from shared.eventlog import EventStore, KeyRing
from shared.projections import PROJECTIONS
from shared.projections.runtime import Runtime

if __name__ == "__main__":
    url, batch, master_key = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    chunk_events = int(sys.argv[4]) if len(sys.argv) > 4 else None
    store = EventStore(make_engine(url), keyring=KeyRing([master_key]))
    runtime = Runtime(store, PROJECTIONS, batch=batch, chunk_events=chunk_events)
    runtime.ensure()
    print("ready", flush=True)
    runtime.rebuild_many(
        [p.name for p in PROJECTIONS],
        progress=lambda done, _head: print(f"progress {done}", flush=True),
    )
    print("done", flush=True)

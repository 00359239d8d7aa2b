"""A rebuild process for kill -9 tests: ``python -m tests.reliability.rebuild_worker
DATABASE_URL BATCH MASTER_KEY``; prints "ready", rebuilds every projection, prints "done"."""

from __future__ import annotations

import sys

from shared.database import make_engine
from shared.eventlog import EventStore, KeyRing
from shared.projections import PROJECTIONS
from shared.projections.runtime import Runtime

if __name__ == "__main__":
    url, batch, master_key = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    store = EventStore(make_engine(url), keyring=KeyRing([master_key]))
    runtime = Runtime(store, PROJECTIONS, batch=batch)
    runtime.ensure()
    print("ready", flush=True)
    runtime.rebuild_many([p.name for p in PROJECTIONS])
    print("done", flush=True)

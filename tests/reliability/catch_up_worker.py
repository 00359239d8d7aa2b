"""A catch-up worker process for kill -9 tests: ``python -m tests.reliability.catch_up_worker
DATABASE_URL SUFFIX BATCH``; it prints "ready" and catches up until killed or done."""

from __future__ import annotations

import sys

from shared.database import make_engine
from shared.eventlog import EventStore
from shared.projections.runtime import Runtime
from tests.reliability.isolated import isolated

if __name__ == "__main__":
    url, suffix, batch = sys.argv[1], sys.argv[2], int(sys.argv[3])
    projection = isolated(suffix)
    runtime = Runtime(EventStore(make_engine(url)), [projection], batch=batch)
    runtime.ensure()
    print("ready", flush=True)
    runtime.catch_up(projection.name)
    print("done", flush=True)

"""A catch-up worker that freezes mid-batch, for the lease test:
``python -m tests.scaling.frozen_worker DATABASE_URL SUFFIX LEASE_SECONDS``.

It applies the first batch of partition 0 of an isolated capital projection up to its first
statement, prints "frozen" and waits for a line on stdin (a worker that stopped answering,
its transaction open and its checkpoint row locked); then it goes on and prints "committed",
or the error its commit met.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence

from sqlalchemy import Connection, text

from shared.database import make_engine
from shared.eventlog import EventStore, KeyRing, RecordedEvent
from shared.projections.runtime import Runtime
from tests.reliability.isolated import isolated

if __name__ == "__main__":
    url, suffix, lease = sys.argv[1], sys.argv[2], float(sys.argv[3])
    base = isolated(suffix)

    class Frozen(type(base)):  # type: ignore[misc]
        def apply(
            self, conn: Connection, events: Sequence[RecordedEvent], tables: Mapping[str, str]
        ) -> None:
            super().apply(conn, events, tables)
            conn.execute(text("SELECT 1"))
            print("frozen", flush=True)
            sys.stdin.readline()

    projection = Frozen()
    keys = KeyRing(os.environ["COMPOUND_MASTER_KEYS"].split(","))  # behaviour is sealed
    store = EventStore(make_engine(url), keyring=keys)
    runtime = Runtime(store, [projection], partitions=2, lease_seconds=lease)
    runtime.ensure()
    try:
        applied = runtime.catch_up(projection.name, max_batches=1, partition=0)
    except Exception as err:  # the session was ended: nothing of this batch committed
        print(f"failed: {type(err).__name__}", flush=True)
        print(repr(err)[:300], file=sys.stderr, flush=True)
    else:
        print(f"committed {applied}", flush=True)

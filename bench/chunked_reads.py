"""Reading a whole log: ``EventStore.read_all`` pages against ``read_person_chunks``.

A standalone script (not a section of ``make bench``)::

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python -m bench.chunked_reads --rounds 3 --chunk-events 10000 25000 50000

It seeds a synthetic organisation (:func:`infra.synthetic.seed_synthetic`, untimed) into a
database of its own (``--database NAME`` keeps and reuses one: the log and its master key
stay for the next run), then reads the whole log with each method, alternating, ``--rounds``
times each, every read in a child process of its own so that its peak resident set is its
own. Each read discards what it reads (only events are counted). Reported per method: events
per second of wall time, process CPU time (the machine may be loaded) and peak RSS. With
``--explain`` it prints ``EXPLAIN ANALYZE`` of a chunk's statements first.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

from infra.migrate import upgrade
from infra.synthetic import seed_synthetic
from shared.database import make_engine
from shared.eventlog import EventStore
from shared.eventlog.chunked_reads import END_OF_IDS, PersonRangePlanner, person_range_sql
from shared.eventlog.crypto import KeyRing, generate_master_key

PAGE = 5000  # events per read_all page, as Runtime.rebuild_many reads


def _server() -> str:
    return os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def _url(database: str) -> str:
    return make_url(_server()).set(database=database).render_as_string(hide_password=False)


def _key_file(database: str) -> Path:
    return Path(os.environ.get("TMPDIR", "/tmp")) / f"{database}.master-key"


def _store(database: str, key: str) -> EventStore:
    engine = make_engine(_url(database), pool_size=3)
    return EventStore(engine, keyring=KeyRing([key]))


def prepare(database: str, people: int, weeks: int) -> str:
    """Create and seed ``database`` unless it exists; returns its master key."""
    admin = make_url(_server()).set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,))
        if exists.fetchone() and _key_file(database).exists():
            return _key_file(database).read_text()
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{database}"')
    key = generate_master_key()
    _key_file(database).write_text(key)
    store = _store(database, key)
    upgrade(store.engine)
    seeded = seed_synthetic(store, people, weeks)
    print(f"seeded {seeded.events:,} events in {seeded.seconds:.0f} s", file=sys.stderr)
    libpq = make_url(_url(database)).set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(libpq, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")
    store.engine.dispose()
    return key


def read_once(database: str, key: str, method: str, chunk_events: int) -> dict[str, Any]:
    """One whole-log read in this process; returns its figures."""
    store = _store(database, key)
    head = store.head()
    wall, cpu = time.perf_counter(), time.process_time()
    events = chunks = largest = 0
    if method == "read_all":
        after = 0
        while True:
            page = store.read_all(after, PAGE, decrypt=False)
            events += len(page)
            if len(page) < PAGE:
                break
            after = page[-1].position
    else:
        for chunk in store.read_person_chunks(head, chunk_events=chunk_events, decrypt=False):
            events += len(chunk.events)
            chunks += 1
            largest = max(largest, len(chunk.events))
            del chunk  # as a rebuild driver would, once the chunk is folded and flushed
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {
        "method": method,
        "events": events,
        "head": head,
        "seconds": wall,
        "cpu": cpu,
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6,
        "chunks": chunks,
        "largest": largest,
    }


def explain(database: str, key: str, chunk_events: int) -> None:
    """Print EXPLAIN ANALYZE of a middle person range's read and a page of no person."""
    store = _store(database, key)
    ranges = PersonRangePlanner(store.reader.fetch, chunk_events).ranges()
    low, high = ranges[len(ranges) // 2]
    person, params = person_range_sql(low, high)
    everyone, everyone_params = person_range_sql("", END_OF_IDS)
    statements = [
        (f"SELECT * FROM events WHERE {person} AND position <= %s", [*params, store.head()]),
        (
            f"SELECT * FROM events WHERE position > 0 AND NOT {everyone} "
            "ORDER BY position LIMIT %s",
            [*everyone_params, chunk_events],
        ),
    ]
    for sql, values in statements:
        rows = store.reader.fetch("EXPLAIN (ANALYZE, BUFFERS) " + sql, values)
        print("\n".join(r[0] for r in rows), end="\n\n")
    store.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="compound_chunked_reads")
    parser.add_argument("--people", type=int, default=5000)
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--chunk-events", type=int, nargs="+", default=[10_000, 25_000, 50_000])
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--child", nargs=2, metavar=("METHOD", "CHUNK"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    key = prepare(args.database, args.people, args.weeks)
    if args.child:
        print(json.dumps(read_once(args.database, key, args.child[0], int(args.child[1]))))
        return
    if args.explain:
        explain(args.database, key, args.chunk_events[0])
    runs = [("read_all", 0)] + [("read_person_chunks", size) for size in args.chunk_events]
    results: dict[tuple[str, int], list[dict[str, Any]]] = {run: [] for run in runs}
    for round_ in range(args.rounds):
        for method, size in runs:
            command = [sys.executable, "-m", "bench.chunked_reads", "--database", args.database]
            command += ["--child", method, str(size)]
            out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
            result = json.loads(out.splitlines()[-1])
            results[(method, size)].append(result)
            print(f"round {round_ + 1}: {method} {size or ''}: {result}", file=sys.stderr)
    print(f"load average (1 min): {os.getloadavg()[0]:.1f}")
    print("| Read | Events | Events/s (median, range) | CPU s (median) | Peak RSS MB (median) |")
    print("|---|---|---|---|---|")
    for (method, size), rounds in results.items():
        rates = [r["events"] / r["seconds"] for r in rounds]
        name = (
            method
            if not size
            else f"{method}, chunk_events={size:,} ({rounds[0]['chunks']} chunks)"
        )
        print(
            f"| {name} | {rounds[0]['events']:,} | {statistics.median(rates):,.0f} "
            f"({min(rates):,.0f} to {max(rates):,.0f}) | "
            f"{statistics.median(r['cpu'] for r in rounds):.1f} | "
            f"{statistics.median(r['rss_mb'] for r in rounds):.0f} |"
        )


if __name__ == "__main__":
    main()

"""Soak: 10 minutes of actions at 300/s through gunicorn, with a Dramatiq worker and the
scheduler projecting them, while every process's memory and the projection lag are sampled
each second (issue 9).

Not in ``make bench``'s default run (it takes over ten minutes): ``python -m bench --soak``
adds it to the run (and to docs/benchmarks.md), ``python -m bench.soak [--minutes M]
[--rate R]`` runs it alone and only prints. Targets: the private memory (RssAnon) of each
group of processes grows less than 10 % from the first minute after warm-up to the last; the
projection lag stays bounded (at most ``MAX_LAG_SECONDS`` behind, drained after the load).

Beside the RSS of Redis it samples what Redis says it holds (``INFO used_memory``: growth in
RSS alone is the allocator, growth in both is data), the Dramatiq messages held in Redis
(every queue's ``.msgs`` hash: ready, delayed, dead-lettered) and the number of keys; it
prints them every 10 s, and the keys by shape at the end, so a growth names its cause.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import redis as redis_client

from bench.common import Context, Section, fmt_int, verdict
from bench.gateway import gateway, login_all, make_org, open_loop, raw_requests
from infra.embedded import die_with_parent, stop_process
from shared.database import make_engine
from shared.eventlog import EventStore, KeyRing, generate_master_key
from shared.projections import runtime

ROOT = Path(__file__).resolve().parent.parent
MINUTES = 10.0
RATE = 300.0
CONNECTIONS = 16
WARMUP_SECONDS = 30.0
MAX_GROWTH = 0.10
MAX_LAG_SECONDS = 10.0
DRAIN_SECONDS = 60.0


def rss_anon_kib(pid: int) -> int | None:
    """Private resident memory of a process (shared buffers and mapped files excluded)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("RssAnon:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def children(pid: int) -> list[int]:
    try:
        found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    return [int(p) for p in found]


@dataclass
class Samples:
    """One row per second: memory per process group (KiB) and projection lag."""

    memory: dict[str, list[tuple[float, int]]] = field(default_factory=lambda: defaultdict(list))
    lag_events: list[tuple[float, int]] = field(default_factory=list)
    lag_seconds: list[tuple[float, float]] = field(default_factory=list)
    # Redis's own count of what it holds (INFO used_memory, KiB): allocator growth and
    # fragmentation show in RssAnon but not here, data piling up shows in both.
    redis_used: list[tuple[float, int]] = field(default_factory=list)
    # Messages waiting in Dramatiq's queues (every queue of the namespace, delayed ones too).
    queued: list[tuple[float, int]] = field(default_factory=list)
    keys: list[tuple[float, int]] = field(default_factory=list)


def queued_messages(r: redis_client.Redis, namespace: str) -> int:
    """Messages Dramatiq holds in Redis: the ``.msgs`` hashes of every queue (ready, delayed,
    dead-lettered), which is where a message's body stays until it is acked."""
    total = 0
    for key in r.scan_iter(f"{namespace}:*.msgs"):
        total += int(r.hlen(key))  # type: ignore[arg-type]
    return total


def key_census(r: redis_client.Redis) -> list[tuple[str, int, int]]:
    """Keys by shape (ids replaced by ``*``): (shape, keys, bytes), largest first."""
    shapes: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for key in r.scan_iter(count=1000):
        name = key.decode(errors="replace")
        shape = re.sub(r"[0-9a-f]{8}-?[0-9a-f-]{27,}|[0-9a-f]{16,}|\d+(\.\d+)*", "*", name)
        shapes[shape][0] += 1
        shapes[shape][1] += int(r.memory_usage(key) or 0)  # type: ignore[arg-type]
    return sorted(((k, n, b) for k, (n, b) in shapes.items()), key=lambda x: -x[2])


class Sampler(threading.Thread):
    def __init__(
        self, groups: dict[str, list[int]], store: EventStore, libpq: str, redis_url: str
    ) -> None:
        super().__init__(daemon=True)
        self.groups, self.libpq, self.redis_url = groups, libpq, redis_url
        self.runtime = runtime(store)  # the numbers of `compound projections status`
        self.samples = Samples()
        self.started = time.monotonic()
        self._halt = threading.Event()

    def stop(self) -> None:
        self._halt.set()
        self.join()

    def run(self) -> None:
        r = redis_client.Redis.from_url(self.redis_url)
        with psycopg.connect(self.libpq, autocommit=True) as conn:
            info = r.info("server")
            assert isinstance(info, dict)
            redis_pid = int(info["process_id"])
            namespace = os.environ.get("COMPOUND_QUEUE_NAMESPACE", "compound")
            while not self._halt.wait(1.0):
                at = time.monotonic() - self.started
                pids = {name: list(roots) for name, roots in self.groups.items()}
                for name, roots in self.groups.items():
                    for root in roots:
                        pids[name] += children(root)
                pids["redis"] = [redis_pid]
                pids["postgres (this database and background)"] = [
                    row[0]
                    for row in conn.execute(
                        "SELECT pid FROM pg_stat_activity "
                        "WHERE datname = current_database() OR datname IS NULL"
                    )
                ]
                for name, group in pids.items():
                    sizes = [rss_anon_kib(pid) for pid in set(group)]
                    self.samples.memory[name].append((at, sum(s for s in sizes if s)))
                used = r.info("memory")
                assert isinstance(used, dict)
                self.samples.redis_used.append((at, int(used["used_memory"]) // 1024))
                self.samples.queued.append((at, queued_messages(r, namespace)))
                self.samples.keys.append((at, int(r.dbsize())))  # type: ignore[arg-type]
                statuses = self.runtime.status()
                self.samples.lag_events.append((at, max(x.lag_events for x in statuses)))
                self.samples.lag_seconds.append((at, max(x.lag_seconds for x in statuses)))
                if len(self.samples.keys) % 10 == 0:
                    worst = max(statuses, key=lambda x: x.lag_seconds)
                    print(
                        f"  [soak] {at:5.0f} s: lag {worst.lag_seconds:.1f} s "
                        f"({worst.name}, {worst.lag_events} events), "
                        f"messages queued {self.samples.queued[-1][1]:,}, "
                        f"redis used {self.samples.redis_used[-1][1] / 1024:.1f} MiB",
                        flush=True,
                    )


@contextlib.contextmanager
def projection_workers(env: dict[str, str]) -> Iterator[list[int]]:
    """A Dramatiq worker process and the scheduler; their pids."""
    procs = [
        subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=die_with_parent(signal.SIGTERM),
        )
        for command in (
            [sys.executable, "-m", "dramatiq", "workers.actors", "-p", "1", "-t", "2"],
            [sys.executable, "-m", "services.cli", "scheduler"],
        )
    ]
    try:
        yield [p.pid for p in procs]
    finally:
        for proc in procs:
            stop_process(proc, signal.SIGTERM, timeout=20)


def _window(series: list[tuple[float, int]], start: float, end: float) -> float:
    values = [v for at, v in series if start <= at < end]
    return statistics.median(values) if values else 0.0


def run(ctx: Context, minutes: float = MINUTES, rate: float = RATE) -> Section:
    seconds = minutes * 60
    master_key = generate_master_key()
    engine = make_engine(ctx.database_url, pool_size=2)
    from bench.common import redis_url

    with tempfile.TemporaryDirectory(prefix="compound-bench-soak-") as tmp:
        tmpdir = Path(tmp)
        store = EventStore(engine, keyring=KeyRing([master_key]))
        org = make_org(store)
        with redis_url(tmpdir) as redis, gateway(ctx.database_url, redis, master_key, tmpdir) as gw:
            env = {
                **os.environ,
                "DATABASE_URL": ctx.database_url,
                "REDIS_URL": redis,
                "COMPOUND_MASTER_KEYS": master_key,
                "COMPOUND_LOG_LEVEL": "WARNING",
            }
            with projection_workers(env) as worker_pids:
                tokens = login_all(gw.port, org.emails)
                requests = raw_requests(gw.port, tokens)
                print(f"  [soak] {minutes:g} min at {rate:g} actions/s", flush=True)
                sampler = Sampler(
                    {
                        "gateway (gunicorn)": [gw.pid],
                        "projection worker": [worker_pids[0]],
                        "scheduler": [worker_pids[1]],
                    },
                    store,
                    ctx.libpq_url,
                    redis,
                )
                sampler.start()
                load = open_loop(gw.port, requests, CONNECTIONS, rate, seconds)
                ended = time.monotonic() - sampler.started
                drained = None
                while time.monotonic() - sampler.started < ended + DRAIN_SECONDS:
                    if sampler.samples.lag_events and sampler.samples.lag_events[-1][1] == 0:
                        drained = time.monotonic() - sampler.started - ended
                        break
                    time.sleep(0.5)
                sampler.stop()
                census = key_census(redis_client.Redis.from_url(redis))
    engine.dispose()

    s = sampler.samples
    first = (WARMUP_SECONDS, WARMUP_SECONDS + 60)
    last = (ended - 60, ended)
    rows = []
    growth_ok = True
    for name in sorted(s.memory):
        before, after = _window(s.memory[name], *first), _window(s.memory[name], *last)
        growth = (after - before) / before if before else 0.0
        ok = growth < MAX_GROWTH
        growth_ok &= ok
        rows.append(
            (
                f"memory of {name} (RssAnon, MiB)",
                f"{before / 1024:.1f} -> {after / 1024:.1f}",
                f"{growth * 100:+.1f} %",
                f"< {MAX_GROWTH * 100:.0f} %",
                verdict(ok),
            )
        )
    for label, series, unit in (
        ("memory of redis (INFO used_memory, MiB)", s.redis_used, 1024),
        ("Dramatiq messages held in Redis", s.queued, 1),
        ("Redis keys", s.keys, 1),
    ):
        before, after = _window(series, *first), _window(series, *last)
        shown = (
            f"{before / unit:.1f} -> {after / unit:.1f}"
            if unit > 1
            else f"{before:,.0f} -> {after:,.0f}"
        )
        growth = (after - before) / before if before else 0.0
        rows.append((label, shown, f"{growth * 100:+.1f} %", "", ""))
    print("  [soak] Redis keys at the end, by shape (keys, bytes):", flush=True)
    for shape, count, size in census[:12]:
        print(f"    {shape:60} {count:>8,} {size:>12,}", flush=True)
    max_lag = max((v for _, v in s.lag_seconds), default=0.0)
    max_events = max((v for _, v in s.lag_events), default=0)
    lag_ok = max_lag <= MAX_LAG_SECONDS and drained is not None
    rows += [
        (
            "actions answered (open loop)",
            f"{fmt_int(load.requests)} at {load.rate:.0f}/s",
            f"{load.errors} errors",
            f"{rate:g}/s for {minutes:g} min",
            verdict(load.errors == 0),
        ),
        ("latency p50 / p99", f"{load.p50 * 1000:.1f} / {load.p99 * 1000:.1f} ms", "", "", ""),
        (
            "projection lag, worst second",
            f"{max_lag:.1f} s ({fmt_int(max_events)} events)",
            "",
            f"≤ {MAX_LAG_SECONDS:g} s",
            verdict(max_lag <= MAX_LAG_SECONDS),
        ),
        (
            "lag drained after the load",
            "never" if drained is None else f"{drained:.1f} s",
            "",
            f"≤ {DRAIN_SECONDS:g} s",
            verdict(drained is not None),
        ),
    ]
    passed = growth_ok and lag_ok and load.errors == 0
    header = ("Soak measurement", "First minute -> last minute", "Change", "Target", "Result")
    method = (
        f"Open loop of `POST /api/v1/actions` at {rate:g}/s over {CONNECTIONS} connections for "
        f"{minutes:g} minutes (gunicorn, a Dramatiq worker and the scheduler projecting), "
        "memory (RssAnon of each process, summed per group) and projection lag sampled each "
        f"second; growth compares the median of the first minute after a {WARMUP_SECONDS:g} s "
        "warm-up with the median of the last minute."
    )
    return Section.build(
        "Soak (issue 9)",
        passed,
        [(header, rows)],
        method,
        {"soak": ended, "drain": drained or DRAIN_SECONDS},
        ctx.machine.markdown(),
        {"rows": rows, "max_lag_seconds": max_lag, "drained_seconds": drained},
    )


def main(argv: list[str] | None = None) -> int:
    from bench.common import fresh_database, machine, server_url

    parser = argparse.ArgumentParser(
        prog="python -m bench.soak", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--minutes", type=float, default=MINUTES)
    parser.add_argument("--rate", type=float, default=RATE)
    args = parser.parse_args(argv)
    with server_url() as (server, kind), fresh_database(server) as database_url:
        ctx = Context(database_url, machine(database_url, kind), 1)
        section = run(ctx, args.minutes, args.rate)
    print()
    print(section.console)
    return 0 if section.passed else 1


if __name__ == "__main__":
    sys.exit(main())

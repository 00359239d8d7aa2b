"""The scale-out benchmark (issue 10): catch-up of every projection by 1 worker process vs 2.

A backlog of :data:`TENANTS` synthetic organisations (:func:`infra.synthetic.seed_synthetic`
with seeds 1..N, :data:`PEOPLE` people over :data:`WEEKS` weeks each, untimed). Each round
resets every projection to position 0 (its tables emptied, every partition checkpoint at
0), starts ``python -m dramatiq workers.actors --processes N --threads`` :data:`THREADS`
(``COMPOUND_PROJECTION_PARTITIONS`` = :data:`PARTITIONS`), waits for it to be ready, sends
one wake-up per projection (what the scheduler sends) and times until every projection's
position is the head of the log. Rounds alternate 1, 2, 1, 2, ... processes so both see the
same machine; the CPU time of the worker processes and of the whole machine is sampled per
round to tell which side saturates.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psutil
from sqlalchemy import text

from bench.common import (
    Context,
    Section,
    fmt_int,
    fresh_database,
    median,
    redis_url,
    verdict,
)
from infra.embedded import die_with_parent, stop_process
from infra.synthetic import seed_synthetic
from shared.database import make_engine
from shared.eventlog import EventStore, KeyRing, generate_master_key
from shared.projections import PROJECTIONS, Runtime
from shared.projections.partitions import partition_of
from shared.projections.runtime import physical

TITLE = "Scale-out of projections (issue 10)"
ROOT = Path(__file__).resolve().parent.parent
TENANTS = int(os.environ.get("COMPOUND_BENCH_SCALING_TENANTS", "16"))
PEOPLE = int(os.environ.get("COMPOUND_BENCH_SCALING_PEOPLE", "80"))
WEEKS = int(os.environ.get("COMPOUND_BENCH_SCALING_WEEKS", "52"))
PARTITIONS = int(os.environ.get("COMPOUND_BENCH_SCALING_PARTITIONS", "4"))
THREADS = 2
RATIO_TARGET = 1.7
ROUND_TIMEOUT = 900.0


def _progress(message: str) -> None:
    print(f"  [scaling] {message}", flush=True)


@dataclass
class Round:
    processes: int
    seconds: float
    worker_cpu: float  # CPU seconds of the worker processes
    postgres_cpu: float | None  # CPU seconds of the embedded PostgreSQL (None: not ours)
    machine_cpu: float  # CPU seconds of the whole machine (all cores, all processes)


def reset(store: EventStore) -> None:
    """Every projection back to position 0 with empty tables (what a rebuild starts from)."""
    with store.engine.begin() as conn:
        for projection in PROJECTIONS:
            generation = conn.execute(
                text("SELECT generation FROM projections WHERE name = :n"),
                {"n": projection.name},
            ).scalar_one()
            for base in projection.tables:
                conn.execute(text(f"TRUNCATE {physical(base, generation)}"))
        conn.execute(text("UPDATE projection_partitions SET position = 0"))
        conn.execute(text("UPDATE projections SET position = 0, status = 'live'"))


def _machine_cpu() -> float:
    times = psutil.cpu_times()
    return float(times.user + times.system + getattr(times, "nice", 0.0))


def _tree_cpu(proc: psutil.Process) -> float:
    total = 0.0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


def _postgres_cpu() -> float | None:
    """CPU seconds of the benchmark's embedded PostgreSQL: its postmaster, its live backends
    and the backends it has reaped (None with ``DATABASE_URL``: the server is not ours)."""
    total, found = 0.0, False
    for p in psutil.process_iter(["name", "cmdline"]):
        try:
            if p.info["name"] != "postgres" or not any(
                "compound-bench-" in arg for arg in p.info["cmdline"] or ()
            ):
                continue
            found = True
            t = p.cpu_times()
            total += t.user + t.system + t.children_user + t.children_system
            for child in p.children(recursive=True):
                c = child.cpu_times()
                total += c.user + c.system
        except psutil.Error:
            pass
    return total if found else None


def one_round(
    store: EventStore, env: dict[str, str], processes: int, log_path: Path, head: int
) -> Round:
    from shared.wakeups import send_catch_up

    reset(store)
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "dramatiq",
                "workers.actors",
                "--processes",
                str(processes),
                "--threads",
                str(THREADS),
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=die_with_parent(signal.SIGTERM),
        )
    try:
        deadline = time.monotonic() + 60
        while log_path.read_text(errors="replace").count("ready for action") < processes:
            assert proc.poll() is None, log_path.read_text()[-3000:]
            assert time.monotonic() < deadline, log_path.read_text()[-3000:]
            time.sleep(0.05)
        parent = psutil.Process(proc.pid)
        cpu_before, machine_before, pg_before = _tree_cpu(parent), _machine_cpu(), _postgres_cpu()
        started = time.perf_counter()
        for projection in PROJECTIONS:
            send_catch_up(projection.name)
        deadline = time.monotonic() + ROUND_TIMEOUT
        while True:
            with store.engine.connect() as conn:
                low = conn.execute(text("SELECT min(position) FROM projections")).scalar_one()
            if low >= head:
                break
            assert proc.poll() is None, log_path.read_text()[-3000:]
            assert time.monotonic() < deadline, f"not caught up: {low} of {head}"
            time.sleep(0.02)
        seconds = time.perf_counter() - started
        worker_cpu, machine_cpu = _tree_cpu(parent) - cpu_before, _machine_cpu() - machine_before
        pg_after = _postgres_cpu()
        pg_cpu = None if pg_before is None or pg_after is None else pg_after - pg_before
    finally:
        stop_process(proc, signal.SIGTERM, timeout=30)
    return Round(processes, seconds, worker_cpu, pg_cpu, machine_cpu)


def run(ctx: Context) -> Section:
    with fresh_database(ctx.database_url) as url:
        return _run(Context(url, ctx.machine, ctx.rounds), url)


def _run(ctx: Context, url: str) -> Section:
    from bench.projections import _broker, _sql

    load = os.getloadavg()
    master_key = generate_master_key()
    engine = make_engine(url, pool_size=4)
    store = EventStore(engine, keyring=KeyRing([master_key]))
    timings: dict[str, float] = {}
    namespace = f"bench-scaling-{os.getpid()}"
    rounds: list[Round] = []
    try:
        phase = time.perf_counter()
        for seed in range(1, TENANTS + 1):
            seed_synthetic(store, PEOPLE, WEEKS, seed=seed)
            _progress(f"seeded organisation {seed}/{TENANTS}: log at {fmt_int(store.head())}")
        head = store.head()
        _sql(ctx.libpq_url, "VACUUM (ANALYZE) events")
        spread = [0] * PARTITIONS
        with engine.connect() as conn:
            for tenant, count in conn.execute(
                text("SELECT tenant_id, count(*) FROM events GROUP BY tenant_id")
            ):
                spread[partition_of(tenant, PARTITIONS)] += int(count)
        timings["seeding"] = time.perf_counter() - phase
        Runtime(store, PROJECTIONS, partitions=PARTITIONS).ensure()

        phase = time.perf_counter()
        with (
            tempfile.TemporaryDirectory(prefix="compound-bench-scaling-") as tmpdir,
            redis_url(Path(tmpdir)) as redis,
        ):
            _broker(redis, namespace)
            env = {
                **os.environ,
                "DATABASE_URL": url,
                "REDIS_URL": redis,
                "COMPOUND_MASTER_KEYS": master_key,
                "COMPOUND_QUEUE_NAMESPACE": namespace,
                "COMPOUND_LOG_LEVEL": "WARNING",
                "COMPOUND_PROJECTION_PARTITIONS": str(PARTITIONS),
            }
            for _ in range(ctx.rounds):
                for processes in (1, 2):
                    r = one_round(store, env, processes, Path(tmpdir) / "worker.log", head)
                    rounds.append(r)
                    _progress(
                        f"{processes} process(es): {r.seconds:.1f} s, "
                        f"{fmt_int(head / r.seconds)} events/s, worker CPU "
                        f"{r.worker_cpu:.0f} s, PostgreSQL CPU {r.postgres_cpu or 0:.0f} s, "
                        f"machine CPU {r.machine_cpu:.0f} s"
                    )
            # The cost of partitioning itself: one process on a single partition (as before
            # partitions existed), one round.
            reset(store)
            Runtime(store, PROJECTIONS, partitions=1).ensure()
            single = one_round(
                store,
                {**env, "COMPOUND_PROJECTION_PARTITIONS": "1"},
                1,
                Path(tmpdir) / "worker.log",
                head,
            )
            _progress(
                f"1 process, 1 partition: {single.seconds:.1f} s, "
                f"{fmt_int(head / single.seconds)} events/s, worker CPU "
                f"{single.worker_cpu:.0f} s, PostgreSQL CPU {single.postgres_cpu or 0:.0f} s"
            )
        timings["rounds"] = time.perf_counter() - phase
    finally:
        engine.dispose()
    return _section(ctx, head, spread, rounds, single, timings, load)


def _section(
    ctx: Context,
    head: int,
    spread: list[int],
    rounds: list[Round],
    single: Round,
    timings: dict[str, float],
    load: tuple[float, float, float],
) -> Section:
    by = {n: [r for r in rounds if r.processes == n] for n in (1, 2)}
    seconds = {n: median([r.seconds for r in rs]) for n, rs in by.items()}
    rate = {n: head / s for n, s in seconds.items()}
    ratio = rate[2] / rate[1]
    ok = ratio >= RATIO_TARGET
    cores = os.cpu_count() or 1
    header = ("Measurement", "Median", "Range over rounds", "Target", "Result")
    rows = []
    for n in (1, 2):
        times = [r.seconds for r in by[n]]
        worker = median([r.worker_cpu / r.seconds for r in by[n]])
        machine = median([r.machine_cpu / r.seconds for r in by[n]])
        pgs = [r.postgres_cpu / r.seconds for r in by[n] if r.postgres_cpu is not None]
        pg = f"PostgreSQL {median(pgs):.2f} cores, " if pgs else ""
        rows.append(
            (
                f"Catch-up of all {len(PROJECTIONS)} projections from 0, {n} worker "
                f"process{'es' if n > 1 else ''} x {THREADS} threads",
                f"{fmt_int(rate[n])} events/s ({seconds[n]:.1f} s)",
                f"{fmt_int(head / max(times))} to {fmt_int(head / min(times))} events/s",
                "",
                "",
            )
        )
        rows.append(
            (
                f"CPU during it ({n} process{'es' if n > 1 else ''})",
                f"workers {worker:.2f} cores, {pg}whole machine {machine:.2f} of {cores}",
                "",
                "",
                "",
            )
        )
    one = by[1]
    busy = median([(r.worker_cpu + (r.postgres_cpu or 0.0)) / r.seconds for r in one])
    rows.append(
        (
            "Ceiling of the ratio on this machine: cores / cores busy (workers + PostgreSQL) "
            "with 1 process",
            f"{cores / busy:.2f}x" if busy else "n/a",
            "",
            "",
            "",
        )
    )
    rows.append(
        (
            f"1 process on 1 partition (`COMPOUND_PROJECTION_PARTITIONS=1`, one round): "
            f"the cost of {PARTITIONS} partitions",
            f"{fmt_int(head / single.seconds)} events/s ({single.seconds:.1f} s); workers "
            f"{single.worker_cpu:.0f} s CPU, PostgreSQL {single.postgres_cpu or 0:.0f} s",
            "",
            "",
            "",
        )
    )
    cpu = {
        n: (
            median([r.worker_cpu for r in by[n]]),
            median([r.postgres_cpu or 0.0 for r in by[n]]),
        )
        for n in (1, 2)
    }
    rows.append(
        (
            f"CPU seconds per round, {PARTITIONS} partitions: workers / PostgreSQL",
            f"1 process: {cpu[1][0]:.0f} s / {cpu[1][1]:.0f} s; "
            f"2 processes: {cpu[2][0]:.0f} s / {cpu[2][1]:.0f} s",
            "",
            "",
            "",
        )
    )
    rows.append(
        (
            "Ratio: 2 processes / 1 process",
            f"{ratio:.2f}x",
            "",
            f"≥ {RATIO_TARGET}x",
            verdict(ok),
        )
    )
    share = ", ".join(f"{100 * c / max(1, sum(spread)):.0f}%" for c in spread)
    method = f"""\
How it was measured (`bench/scaling.py`):

* The backlog: {TENANTS} synthetic organisations (`infra.synthetic.seed_synthetic`, seeds 1 to
  {TENANTS}, {PEOPLE} people over {WEEKS} weeks each): a log of {fmt_int(head)} events. With
  {PARTITIONS} partitions (`COMPOUND_PROJECTION_PARTITIONS`), the partitions hold {share} of
  them.
* Each round empties every projection's tables and sets every checkpoint to 0, starts
  `python -m dramatiq workers.actors --processes N --threads {THREADS}`, waits for it to be
  ready, sends one wake-up per projection (what the scheduler sends; the worker that takes it
  sends one message per partition) and times until every projection's position is the
  head. Events/s is events of the log per second. Rounds alternate 1 and 2 processes,
  {ctx.rounds} of each; medians.
* Then one round of 1 process with every projection on a single partition (what the runtime
  did before partitions): the difference is the cost of reading {PARTITIONS} partitions
  apart (each walks the projection's events of all and keeps its own).
* CPU: the CPU seconds (psutil) of the worker processes, of the embedded PostgreSQL server
  (its processes, and the backends it reaped) and of the whole machine (other processes of
  the machine included), divided by the round's wall time.
* Load average when the benchmark started: {load[0]:.2f}, {load[1]:.2f}, {load[2]:.2f}."""
    return Section.build(
        TITLE,
        ok,
        [(header, rows)],
        method,
        timings,
        ctx.machine.markdown(),
        {
            "log_events": head,
            "partitions": PARTITIONS,
            "spread": spread,
            "rounds": [r.__dict__ for r in rounds],
            "single_partition": single.__dict__,
            "ratio": ratio,
            "load": load,
        },
    )

"""The rebuild memory benchmark (issue 16): peak RSS and speed of a full rebuild.

* **The logs**: one synthetic organisation of :data:`PEOPLE` people over :data:`WEEKS` weeks
  (:func:`infra.synthetic.seed_synthetic`, untimed): about 1,000,000 events. Then
  :data:`MORE_ORGANISATIONS` more organisations of the same shape (other seeds) are appended
  to the same log: about 3,000,000 events of three organisations.
* **Peak RSS**: ``compound projections rebuild --all`` (``python -m services.cli``, one
  process, every registered projection) run by a small wrapper process that waits for it and
  reads ``getrusage(RUSAGE_CHILDREN).ru_maxrss``: the kernel's high-water mark of the
  largest process of the rebuild (the CLI and any process it spawns). PostgreSQL's memory is
  not counted. A ``psutil`` sampler of the process tree (every :data:`SAMPLE_SECONDS`) is
  kept beside it as a cross-check.
* **Speed**: the log's events divided by the wall time of the same command (interpreter
  start and imports included), on the 1,000,000-event log.

Targets (issue 16): at most :data:`RSS_TARGET_MB` MB at both sizes, the larger log's figure
at most :data:`GROWTH_TARGET` times the smaller's, at least :data:`SPEED_TARGET` events/s.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psutil
import psycopg

from bench.common import (
    Context,
    Section,
    fmt_int,
    fresh_database,
    median,
    verdict,
)
from infra.synthetic import SEED, seed_synthetic
from shared.database import make_engine
from shared.eventlog import EventStore, KeyRing, generate_master_key

TITLE = "Rebuild memory (issue 16)"
ROOT = Path(__file__).resolve().parent.parent

PEOPLE = 5_000  # x 52 weeks: about 1,000,000 events per organisation
WEEKS = 52
MORE_ORGANISATIONS = 2  # appended after the first log is measured: about 3,000,000 events
ROUNDS_SMALL = 3  # rebuilds of the 1 M log (at most ctx.rounds)
ROUNDS_LARGE = 2  # rebuilds of the 3 M log (at most ctx.rounds)
SAMPLE_SECONDS = 0.05

RSS_TARGET_MB = 400.0
GROWTH_TARGET = 1.2
SPEED_TARGET = 60_000  # events/s, one process, 1 M log

COMMAND = ["-m", "services.cli", "projections", "rebuild", "--all"]

# The baseline: the old main (7e731ca, before issue 16), measured on 2026-12-06 with
# `DATABASE_URL=... python -m bench --only rebuild_memory --rounds 3` while other work shared
# the machine's 2 cores (load average 5 to 10): its speed is a pessimistic figure.
BASELINE_LABEL = "Old main (7e731ca)"
BASELINE = (
    "1,301 MB",
    "3,650 MB",
    "2.81x",
    "8,522 events/s; 120.0 s",
    "",
    "521.6 s",
)

# Runs the command given as its arguments, waits for it, and prints its wall time, the CPU
# time (user + system) and the largest resident set (KiB) of every process it waited for (the
# command and, through it, its children).
_WRAPPER = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode
wall = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = usage.ru_utime + usage.ru_stime
print(json.dumps({"code": code, "wall": wall, "cpu": cpu, "maxrss_kib": usage.ru_maxrss}))
"""


def _progress(message: str) -> None:
    print(f"  [rebuild_memory] {message}", flush=True)


@dataclass(frozen=True)
class Measured:
    """One run of the rebuild command."""

    wall: float  # seconds
    cpu: float  # user + system seconds of the command and its children (not PostgreSQL's)
    peak_mb: float  # ru_maxrss of the largest process, MB (10^6 bytes)
    sampled_mb: float  # the psutil sampler's largest single-process RSS, MB
    processes: int  # processes the sampler saw


class _Sampler(threading.Thread):
    """Samples the RSS of a process tree until it ends: the largest of any one process."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.largest = 0
        self.seen: set[int] = set()
        self.stop = threading.Event()

    def run(self) -> None:
        try:
            root = psutil.Process(self.pid)
        except psutil.NoSuchProcess:
            return
        while not self.stop.is_set():
            try:
                tree = [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:
                return
            for process in tree:
                try:
                    rss = process.memory_info().rss
                except psutil.Error:
                    continue
                self.seen.add(process.pid)
                self.largest = max(self.largest, rss)
            self.stop.wait(SAMPLE_SECONDS)


def rebuild_once(database_url: str, master_key: str, data_dir: Path) -> Measured:
    """Run ``compound projections rebuild --all`` once; its wall time and peak RSS."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "COMPOUND_MASTER_KEYS": master_key,
        "COMPOUND_DATA_DIR": str(data_dir),
        "COMPOUND_LOG_LEVEL": "WARNING",
        "PYTHONPATH": os.pathsep.join(
            p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p
        ),
    }
    wrapper = subprocess.Popen(
        [sys.executable, "-c", _WRAPPER, sys.executable, *COMMAND],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    sampler = _Sampler(wrapper.pid)
    sampler.start()
    out, _ = wrapper.communicate()
    sampler.stop.set()
    sampler.join()
    result = json.loads(out.strip().splitlines()[-1])
    if wrapper.returncode != 0 or result["code"] != 0:
        raise RuntimeError(f"rebuild failed: wrapper {wrapper.returncode}, {result}")
    return Measured(
        wall=float(result["wall"]),
        cpu=float(result["cpu"]),
        peak_mb=int(result["maxrss_kib"]) * 1024 / 1e6,
        sampled_mb=sampler.largest / 1e6,
        processes=max(0, len(sampler.seen) - 1),  # the wrapper itself is not the rebuild's
    )


def _vacuum(libpq_url: str) -> None:
    with psycopg.connect(libpq_url, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")
        conn.execute("CHECKPOINT")


def _measure(
    ctx: Context, master_key: str, data_dir: Path, rounds: int, label: str
) -> list[Measured]:
    runs = []
    for i in range(rounds):
        runs.append(rebuild_once(ctx.database_url, master_key, data_dir))
        r = runs[-1]
        _progress(
            f"{label}: round {i + 1}: {r.wall:.1f} s, CPU {r.cpu:.1f} s, peak {r.peak_mb:.0f} MB "
            f"(sampled {r.sampled_mb:.0f} MB, {r.processes} processes)"
        )
    return runs


def run(ctx: Context) -> Section:
    # A database of its own: the log holds only the synthetic organisations (the other
    # sections' events were written with other master keys), dropped afterwards.
    with fresh_database(ctx.database_url) as url:
        return _run(Context(url, ctx.machine, ctx.rounds))


def _run(ctx: Context) -> Section:
    master_key = generate_master_key()
    engine = make_engine(ctx.database_url, pool_size=2)
    store = EventStore(engine, keyring=KeyRing([master_key]))
    timings: dict[str, float] = {}
    load = os.getloadavg()[0]
    sizes: dict[str, int] = {}
    runs: dict[str, list[Measured]] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="compound-bench-rss-") as tmp:
            data_dir = Path(tmp)
            phase = time.perf_counter()
            seed_synthetic(store, PEOPLE, WEEKS, SEED)
            _vacuum(ctx.libpq_url)
            sizes["small"] = store.head()
            timings["seeding 1"] = time.perf_counter() - phase
            _progress(f"seeded {fmt_int(sizes['small'])} events")

            phase = time.perf_counter()
            rounds = max(1, min(ROUNDS_SMALL, ctx.rounds))
            runs["small"] = _measure(ctx, master_key, data_dir, rounds, "1 organisation")
            timings["rebuild 1"] = time.perf_counter() - phase

            phase = time.perf_counter()
            for extra in range(MORE_ORGANISATIONS):
                seed_synthetic(store, PEOPLE, WEEKS, SEED + 1 + extra)
            _vacuum(ctx.libpq_url)
            sizes["large"] = store.head()
            timings["seeding 2"] = time.perf_counter() - phase
            _progress(f"seeded {fmt_int(sizes['large'])} events")

            phase = time.perf_counter()
            rounds = max(1, min(ROUNDS_LARGE, ctx.rounds))
            label = f"{1 + MORE_ORGANISATIONS} organisations"
            runs["large"] = _measure(ctx, master_key, data_dir, rounds, label)
            timings["rebuild 2"] = time.perf_counter() - phase
    finally:
        engine.dispose()
    return _section(ctx, sizes, runs, timings, load)


def _section(
    ctx: Context,
    sizes: dict[str, int],
    runs: dict[str, list[Measured]],
    timings: dict[str, float],
    load: float,
) -> Section:
    small = median([r.peak_mb for r in runs["small"]])
    large = median([r.peak_mb for r in runs["large"]])
    growth = large / small if small else float("inf")
    speed = sizes["small"] / median([r.wall for r in runs["small"]])
    cpu_small = median([r.cpu for r in runs["small"]])
    ok_small, ok_large = small <= RSS_TARGET_MB, large <= RSS_TARGET_MB
    ok_growth, ok_speed = growth <= GROWTH_TARGET, speed >= SPEED_TARGET

    def span(values: list[float], unit: str) -> str:
        return f"{min(values):,.0f} to {max(values):,.0f} {unit}"

    organisations = 1 + MORE_ORGANISATIONS
    rows: list[tuple[str, ...]] = [
        (
            f"Peak RSS, `compound projections rebuild --all`, {fmt_int(sizes['small'])} "
            "events (1 organisation)",
            f"{small:,.0f} MB",
            span([r.peak_mb for r in runs["small"]], "MB"),
            f"≤ {RSS_TARGET_MB:.0f} MB",
            verdict(ok_small),
        ),
        (
            f"Peak RSS, same command, {fmt_int(sizes['large'])} events "
            f"({organisations} organisations)",
            f"{large:,.0f} MB",
            span([r.peak_mb for r in runs["large"]], "MB"),
            f"≤ {RSS_TARGET_MB:.0f} MB",
            verdict(ok_large),
        ),
        (
            "Growth: larger log's peak / smaller log's peak",
            f"{growth:.2f}x",
            "",
            f"≤ {GROWTH_TARGET}x",
            verdict(ok_growth),
        ),
        (
            f"Rebuild speed, one process, {fmt_int(sizes['small'])} events "
            "(wall time of the command)",
            f"{fmt_int(speed)} events/s; {median([r.wall for r in runs['small']]):.1f} s",
            span([sizes["small"] / r.wall for r in runs["small"]], "events/s"),
            f"≥ {fmt_int(SPEED_TARGET)} events/s",
            verdict(ok_speed),
        ),
        (
            "Rebuild CPU time (user + system of the command, PostgreSQL's not counted), "
            f"{fmt_int(sizes['small'])} events",
            f"{cpu_small:.1f} s; {cpu_small / sizes['small'] * 1e6:.1f} µs/event",
            span([r.cpu for r in runs["small"]], "s"),
            "",
            "",
        ),
        (
            f"Rebuild wall time, {fmt_int(sizes['large'])} events",
            f"{median([r.wall for r in runs['large']]):.1f} s",
            span([r.wall for r in runs["large"]], "s"),
            "",
            "",
        ),
    ]
    rows = [(*row, old) for row, old in zip(rows, BASELINE, strict=True)]
    sampled = max(r.sampled_mb for rs in runs.values() for r in rs)
    method = (
        "Method: `infra.synthetic.seed_synthetic` wrote one organisation of "
        f"{fmt_int(PEOPLE)} people over {WEEKS} weeks (untimed), then `VACUUM (ANALYZE)`; "
        f"{len(runs['small'])} rebuilds were measured; then {MORE_ORGANISATIONS} more "
        f"organisations of the same shape (other seeds) were appended to the same log and "
        f"{len(runs['large'])} rebuilds measured. Each rebuild is `python -m services.cli "
        "projections rebuild --all` (every registered projection, one process) started by a "
        "wrapper that reads `getrusage(RUSAGE_CHILDREN).ru_maxrss` once it has waited for it: "
        "the largest resident set of any process of the rebuild (PostgreSQL's memory not "
        "counted). A psutil sampler of the process tree every "
        f"{SAMPLE_SECONDS * 1000:.0f} ms saw at most {sampled:,.0f} MB in one process. "
        "Speed is the log's events over the command's wall time (interpreter start and "
        "imports included); its CPU time is the user + system time the wrapper's "
        "`getrusage` reports for it, which a busy machine changes less than the wall time. "
        "MB = 10^6 bytes; figures are medians. Load average (1 min) when "
        f"the section started: {load:.1f} on {ctx.machine.cpus} CPUs. The last column is "
        "the baseline, the old main's figures (see `BASELINE` in bench/rebuild_memory.py)."
    )
    raw = {
        "sizes": sizes,
        "runs": {k: [r.__dict__ for r in v] for k, v in runs.items()},
        "peak_mb": {"small": small, "large": large},
        "growth": growth,
        "events_per_s": speed,
        "load_average": load,
    }
    return Section.build(
        TITLE,
        ok_small and ok_large and ok_growth and ok_speed,
        [(("Measure", "Median", "Range", "Target", "Result", BASELINE_LABEL), rows)],
        "\n\n".join([method, DESIGN]),
        timings,
        ctx.machine.markdown(),
        raw,
    )


DESIGN = """\
### How a rebuild keeps its memory bounded

Before issue 16 a rebuild handed every page of the log to each projection's fold, which kept
its whole state until one flush at the end: the interpreter (about 100 MB) plus about 1.2 KB
per log event (the old main's figures in the last column). Now (shared/projections/chunked.py):

1. **Chunks of people.** The log is read with `EventStore.read_person_chunks`: the events of
   no person first (organisation, team and pulse streams), then, chunk by chunk, every event
   of a range of person ids (their `journal-`, `person-` and `calendar-` streams: index range
   scans, no sort of the log), each chunk in log order. Events of other streams that name a
   person (a team's manager assignment) are held back and merged into that person's chunk.
   A chunk holds about `COMPOUND_REBUILD_CHUNK_EVENTS` events (default 25,000).
2. **Fold, flush, forget.** Each fold folds a chunk as catch-up folds a batch, then encodes
   the chunk's rows as COPY text and drops its state. A writer thread sends the text into the
   shadow tables (no keys or indexes yet) in a transaction of its own while the next chunk
   is folded: PostgreSQL takes in one chunk while Python folds the next.
3. **Finish once.** After the last chunk, the keys and indexes are built (two projections at
   a time, on two connections), then what sums over people is derived from the stored rows:
   levers' team-weeks, by the statement catch-up runs for a batch's team-weeks.
4. **Ids of another person's.** An event may name an id of another person's (imports carry
   client-chosen ids): an experiment ended, a request answered. Its effect then depends on
   the order of two people's events, which chunks of people do not see. The rebuild notices
   (two rows under one key, or an answer to another chunk's request) and rebuilds that
   projection again page by page in log order, as catch-up applied it.
5. **Checked** by the projection contract suite (tests/contract), whose rebuilds run with
   chunks of 1, 5 and 40 events as well as the whole log in one.

So peak memory is the interpreter, one chunk of events and its folded state, the next
chunk's rows being read and the previous chunk's COPY text being sent, whatever the log's
length."""

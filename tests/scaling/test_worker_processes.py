"""Dramatiq worker processes sharing the partitions of every projection: both apply some,
one is killed with SIGKILL mid-way and another joins; the read models then equal a clean
rebuild (no event applied twice, none skipped)."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from infra.embedded import die_with_parent, stop_process
from shared.eventlog import EventStore
from shared.projections import PROJECTIONS
from tests.reliability.checks import assert_read_models_equal_clean_rebuild
from tests.reliability.test_worker_faults import journal_events

pytestmark = [pytest.mark.integration, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
APPLIED = re.compile(r"projection (\S+) partition (\d+) applied (\d+) events")
"""A partition's catch-up (a whole projection's, for a small backlog, says "partition None")."""


class Worker:
    """``python -m dramatiq workers.actors -p 1 -t 2``, its log in a file of its own."""

    def __init__(self, env: dict[str, str], log: Path):
        self.log = log
        with open(log, "wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "dramatiq", "workers.actors", "-p", "1", "-t", "2"],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=die_with_parent(signal.SIGTERM),
            )
        deadline = time.monotonic() + 60
        while "ready for action" not in self.text():
            assert self.proc.poll() is None, self.text()[-3000:]
            assert time.monotonic() < deadline, self.text()[-3000:]
            time.sleep(0.05)

    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def applied(self) -> dict[tuple[str, int], int]:
        """(projection, partition) -> events this worker applied."""
        out: dict[tuple[str, int], int] = {}
        for name, partition, count in APPLIED.findall(self.text()):
            key = (name, int(partition))
            out[key] = out.get(key, 0) + int(count)
        return out

    def kill(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc.poll() is None:
            stop_process(self.proc, signal.SIGTERM, timeout=20)


@contextlib.contextmanager
def workers() -> Iterator[list[Worker]]:
    started: list[Worker] = []
    try:
        yield started
    finally:
        for worker in started:
            worker.stop()


def wake_everything(redis_url: str) -> None:
    """What the scheduler sends: one wake-up per projection."""
    from shared.messaging import setup_broker
    from shared.wakeups import send_catch_up

    broker = setup_broker(redis_url)
    for projection in PROJECTIONS:
        send_catch_up(projection.name, broker=broker)


def settle_leftovers(store: EventStore, redis_url: str) -> None:
    """Do what earlier tests of the session left in its queue, once, before the workers
    start: among those messages are the rebuilds their erasures sent, and rebuilds of one
    projection take turns (shared/projections/rebuild.py), so dozens of them would keep the
    workers' threads from the partitions this test watches. One rebuild of every projection
    started now covers every erasure before it; the queue is emptied first. The rebuild
    splits the checkpoints in the workers' 4 partitions."""
    from shared.messaging import setup_broker
    from shared.projections.runtime import Runtime
    from shared.wakeups import CATCH_UP_QUEUE

    setup_broker(redis_url).flush(CATCH_UP_QUEUE)
    Runtime(store, PROJECTIONS, partitions=4).rebuild_many([p.name for p in PROJECTIONS])


def backlog(store: EventStore, tenants: int, seed: int) -> None:
    for i in range(tenants):
        journal_events(store, uuid.uuid4(), people=4, per_person=100, seed=seed + i)


def wait_caught_up(store: EventStore, timeout: float) -> None:
    """Until every projection of the product (not other tests' isolated ones) is at the head."""
    deadline = time.monotonic() + timeout
    while True:
        head = store.head()
        if lowest(store) >= head:
            return
        assert time.monotonic() < deadline, f"not caught up: {lowest(store)} of {head}"
        time.sleep(0.05)


def lowest(store: EventStore) -> int:
    """The lowest position of the product's projections (-1 until all are registered)."""
    with store.engine.connect() as conn:
        count, low = conn.execute(
            text("SELECT count(*), min(position) FROM projections WHERE name = ANY(:n)"),
            {"n": [p.name for p in PROJECTIONS]},
        ).one()
    return int(low) if count == len(PROJECTIONS) else -1


def test_worker_processes_share_partitions_survive_a_kill_and_a_join(
    store: EventStore, database_url: str, redis_url: str, master_key: str, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "COMPOUND_MASTER_KEYS": master_key,
        "COMPOUND_PROJECTION_PARTITIONS": "4",
        "COMPOUND_LOG_LEVEL": "INFO",
    }
    settle_leftovers(store, redis_url)
    with workers() as started:
        a, b = Worker(env, tmp_path / "a.log"), Worker(env, tmp_path / "b.log")
        started += [a, b]
        wake_everything(redis_url)  # whatever earlier tests left, then a backlog
        wait_caught_up(store, timeout=120)

        # 1. Two processes on a backlog over many tenants: both apply partitions.
        deadline = time.monotonic() + 120
        round_ = 0
        while not (a.applied() and b.applied()):
            assert time.monotonic() < deadline, (a.applied(), b.applied())
            backlog(store, tenants=16, seed=100 * round_)  # more than a batch: fanned out
            round_ += 1
            wake_everything(redis_url)
            wait_caught_up(store, timeout=120)

        # 2. kill -9 of one mid-way through a larger backlog; a third process joins.
        backlog(store, tenants=48, seed=10_000)
        head = store.head()
        before = b.applied()
        wake_everything(redis_url)
        deadline = time.monotonic() + 60
        while b.applied() == before:  # b has finished a partition of this backlog...
            assert time.monotonic() < deadline, b.text()[-3000:]
            time.sleep(0.01)
        b.kill()
        assert lowest(store) < head, "...and others were still being applied"
        c = Worker(env, tmp_path / "c.log")
        started.append(c)
        wake_everything(redis_url)  # the scheduler's next tick: b's partitions are free
        wait_caught_up(store, timeout=180)

        # 3. The joining process gets partitions of new work.
        deadline = time.monotonic() + 120
        while not c.applied():
            assert time.monotonic() < deadline, c.text()[-3000:]
            backlog(store, tenants=16, seed=20_000 + 100 * round_)
            round_ += 1
            wake_everything(redis_url)
            wait_caught_up(store, timeout=120)
    # Every projection in the workers' 4 partitions, all at the head (before the clean
    # rebuild below, which splits them as this test process's setting says).
    with store.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT p.name, p.position, min(k.position) AS low, count(*) AS parts "
                "FROM projections p JOIN projection_partitions k ON k.projection = p.name "
                "WHERE p.name = ANY(:n) GROUP BY p.name, p.position"
            ),
            {"n": [p.name for p in PROJECTIONS]},
        ).all()
    assert {r.parts for r in rows} == {4}
    assert all(r.position == r.low == store.head() for r in rows), rows
    # Nothing applied twice, nothing skipped: the read models equal a clean rebuild.
    assert assert_read_models_equal_clean_rebuild(store) > 0

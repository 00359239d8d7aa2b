"""Faults the projections survive: a worker killed with SIGKILL mid catch-up, again and again;
Redis stopped while appends go on. Nothing lost, nothing applied twice."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text

from infra.embedded import EmbeddedRedis, free_port
from shared.commands import Actor, JournalCommands
from shared.eventlog import EventStore, NewEvent, StreamAppend
from shared.projections.runtime import Runtime
from tests.conftest import TEST_SECRET
from tests.reliability.isolated import isolated

pytestmark = [pytest.mark.integration, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]


def rows(store: EventStore, suffix: str, tenant: uuid.UUID) -> dict[str, list[tuple]]:  # type: ignore[type-arg]
    out = {}
    with store.engine.connect() as conn:
        for base in ("capital_weeks", "capital_contributions"):
            out[base] = sorted(
                tuple(r)
                for r in conn.execute(
                    text(f"SELECT * FROM {base}_{suffix} WHERE tenant_id = :t"), {"t": tenant}
                )
            )
    return out


def test_sigkill_during_catch_up_loses_and_doubles_nothing(store: EventStore, database_url: str):
    tenant = uuid.uuid4()
    people = [uuid.uuid4() for _ in range(20)]
    rng = random.Random(7)
    store.append_batch(
        tenant,
        [
            StreamAppend(
                f"journal-{p}",
                [
                    NewEvent(
                        "MicroActionLogged",
                        {
                            "action_id": str(uuid.uuid4()),
                            "person_id": str(p),
                            "tactic": rng.choice(
                                ["learning_bit", "network_nudge", "small_exposure"]
                            ),
                            "minutes": rng.randint(1, 120),
                            "audience": "team",
                            "note": None,
                        },
                    )
                    for _ in range(150)
                ],
            )
            for p in people
        ],
    )
    suffix = uuid.uuid4().hex[:8]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    kills = 0
    while kills < 20:
        worker = subprocess.Popen(
            [sys.executable, "-m", "tests.reliability.catch_up_worker", database_url, suffix, "40"],
            stdout=subprocess.PIPE,
            cwd=ROOT,
            env=env,
            text=True,
        )
        assert worker.stdout is not None
        assert worker.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.0, 0.15))  # a random point of the catch-up: that is the test
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        worker.stdout.close()
        kills += 1
    projection = isolated(suffix)
    survivor = Runtime(store, [projection], batch=40)
    survivor.catch_up(projection.name)
    clean_suffix = uuid.uuid4().hex[:8]
    clean = isolated(clean_suffix)
    Runtime(store, [clean], batch=100_000).catch_up(clean.name)

    after_kills, rebuilt = rows(store, suffix, tenant), rows(store, clean_suffix, tenant)
    assert len(rebuilt["capital_contributions"]) == 3000
    assert after_kills == rebuilt


def test_appends_survive_redis_downtime_and_projections_catch_up(
    store: EventStore, database_url: str, master_key: str, tmp_path: Path, org
):
    redis = EmbeddedRedis(tmp_path / "redis", port=free_port()).start()
    namespace = f"test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": database_url,
        "REDIS_URL": redis.url,
        "COMPOUND_MASTER_KEYS": master_key,
        "COMPOUND_SECRET_KEY": TEST_SECRET,
        "COMPOUND_QUEUE_NAMESPACE": namespace,
        "COMPOUND_CATCH_UP_SECONDS": "0.5",
        "COMPOUND_LOG_LEVEL": "WARNING",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "dramatiq", "workers.actors", "--processes", "1", "--threads", "2"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    scheduler = subprocess.Popen(
        [sys.executable, "-m", "services.cli", "scheduler"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        from dramatiq.brokers.redis import RedisBroker

        from shared.wakeups import Wakeups

        wakeups = Wakeups(RedisBroker(url=redis.url, namespace=namespace))
        journal = JournalCommands(store, TEST_SECRET, wakeups)
        person = org.people["platform-2"]
        actor = Actor(tenant_id=org.tenant_id, person_id=person, source="test")
        last = 0
        for i in range(1000):
            if i == 300:
                redis.stop()  # appends must keep succeeding while Redis is away
            if i == 700:
                redis.start()
            last = journal.log_action(actor, "learning_bit", 10, "team").position
        assert wakeups.failures > 0  # the outage was real
        deadline = time.monotonic() + 60
        while True:
            with store.engine.connect() as conn:
                reached = conn.execute(
                    text("SELECT position FROM projections WHERE name = 'capital'")
                ).scalar_one()
            if reached >= last or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert reached >= last, "the projection did not catch up after Redis came back"
        with store.engine.connect() as conn:
            applied = conn.execute(
                text("SELECT sum(actions) FROM capital_weeks WHERE person_id = :p"), {"p": person}
            ).scalar_one()
            contributions = conn.execute(
                text("SELECT count(*) FROM capital_contributions WHERE person_id = :p"),
                {"p": person},
            ).scalar_one()
            logged = conn.execute(
                text(
                    "SELECT count(*) FROM events WHERE stream_id = :s "
                    "AND type = 'MicroActionLogged' AND position <= :last"
                ),
                {"s": f"journal-{person}", "last": last},
            ).scalar_one()
        assert logged >= 1000
        assert applied == contributions == logged  # every event once, none twice
    finally:
        for proc in (scheduler, worker):
            proc.send_signal(signal.SIGTERM)
        for proc in (scheduler, worker):
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        redis.stop()

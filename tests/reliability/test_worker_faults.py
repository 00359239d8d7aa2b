"""Faults the projections survive: a worker killed with SIGKILL mid catch-up and mid rebuild,
again and again. Nothing lost, nothing applied twice. (Redis stopped under load:
test_gateway_faults.py.)"""

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

from shared.eventlog import EventStore, NewEvent, StreamAppend
from shared.projections.runtime import Runtime
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

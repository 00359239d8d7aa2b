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
from typing import IO

import pytest
from sqlalchemy import text

from shared.database import make_engine
from shared.eventlog import EventStore, KeyRing, NewEvent, StreamAppend
from shared.projections import PROJECTIONS, runtime
from shared.projections.runtime import Runtime
from tests.reliability.checks import assert_read_models_equal_clean_rebuild, read_models
from tests.reliability.isolated import isolated
from tests.reliability.report import Figures
from tests.reliability.servers import once, own_postgres

pytestmark = [pytest.mark.integration, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
GENERATIONS = text("SELECT name, generation FROM projections")


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


def journal_events(
    store: EventStore, tenant: uuid.UUID, people: int, per_person: int, seed: int
) -> None:
    """``people`` journals of ``per_person`` logged actions each, in one bulk append."""
    rng = random.Random(seed)
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
                    for _ in range(per_person)
                ],
            )
            for p in [uuid.uuid4() for _ in range(people)]
        ],
    )


def test_sigkill_during_catch_up_loses_and_doubles_nothing(
    store: EventStore, database_url: str, figures: Figures
) -> None:
    tenant = uuid.uuid4()
    journal_events(store, tenant, people=20, per_person=150, seed=7)
    rng = random.Random(7)
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
    figures.record(
        "catch-up-sigkill",
        "Faults",
        "kill -9 of a projection worker at random points of its catch-up, 20 times: "
        "the survivor's read model equals a clean rebuild (nothing lost, nothing applied twice)",
        "tests/reliability/test_worker_faults.py",
        workers_killed=kills,
        events=3000,
        read_model_rows_compared=sum(len(v) for v in rebuilt.values()),
    )


CHUNK_EVENTS = 100  # the killed rebuilds' chunks: 1,500 events of ten people in ten or more


def _after_chunks(lines: IO[str], chunks: int) -> bool:
    """Read the worker's lines until it has written ``chunks`` chunks; whether it ended
    first (its "done" read here)."""
    written = 0
    while written < chunks:
        line = lines.readline()
        if not line.startswith("progress"):
            return "done" in line  # or the end of its output
        written += 1
    return False


@once
def test_sigkill_during_rebuild_leaves_the_live_read_models_serving(
    tmp_path: Path, master_key: str, figures: Figures
) -> None:
    with own_postgres(tmp_path) as pg:
        store = EventStore(make_engine(pg.url), keyring=KeyRing([master_key]))
        try:
            journal_events(store, uuid.uuid4(), people=10, per_person=150, seed=11)
            rt = runtime(store)
            rt.ensure()
            for projection in PROJECTIONS:
                rt.catch_up(projection.name)
            live = read_models(store.engine)
            rng = random.Random(11)
            env = {**os.environ, "PYTHONPATH": str(ROOT)}
            kills = 0
            command = [sys.executable, "-m", "tests.reliability.rebuild_worker", pg.url, "100"]
            for _ in range(10):
                worker = subprocess.Popen(
                    [*command, master_key, str(CHUNK_EVENTS)],
                    stdout=subprocess.PIPE,
                    cwd=ROOT,
                    env=env,
                    text=True,
                )
                assert worker.stdout is not None
                assert worker.stdout.readline().strip() == "ready"
                # A random point of the rebuild, counted in its chunks (about ten of them,
                # a person each), not in seconds: a faster rebuild is killed as often.
                ended = _after_chunks(worker.stdout, rng.randint(0, 6))
                time.sleep(rng.uniform(0.0, 0.02))  # somewhere inside the next chunk
                worker.send_signal(signal.SIGKILL)
                worker.wait()
                finished = ended or "done" in worker.stdout.read()
                worker.stdout.close()
                kills += not finished
                # The half-built generation is invisible: the views still serve the old one.
                assert read_models(store.engine) == live
            with store.engine.connect() as conn:
                generations = {r.name: r.generation for r in conn.execute(GENERATIONS)}
            rows = assert_read_models_equal_clean_rebuild(store)
            with store.engine.connect() as conn:
                after = {r.name: r.generation for r in conn.execute(GENERATIONS)}
            assert read_models(store.engine) == live
        finally:
            store.engine.dispose()
    assert kills >= 5, f"only {kills} of 10 kills came before the rebuild ended"
    assert all(after[name] > generations[name] for name in generations)
    figures.record(
        "rebuild-sigkill",
        "Faults",
        "kill -9 of a process rebuilding every projection, at random points: the live "
        "read models keep serving unchanged; the next rebuild completes and equals them",
        "tests/reliability/test_worker_faults.py",
        rebuilds_killed=kills,
        events=1500,
        read_model_rows_equal_to_rebuild=rows,
    )

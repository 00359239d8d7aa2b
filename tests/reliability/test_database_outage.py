"""PostgreSQL stopped and restarted under load: the gateway answers 503 problem+json with
Retry-After while it is away (never 500), recovers without a restart, and nothing is lost or
appended twice (clients retry with their Idempotency-Key)."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from shared.database import make_engine
from shared.eventlog import EventStore, KeyRing
from tests.api.conftest import bearer
from tests.conftest import make_org
from tests.reliability.checks import (
    assert_each_note_once,
    assert_read_models_equal_clean_rebuild,
    wait_caught_up,
)
from tests.reliability.report import Figures
from tests.reliability.servers import Gateway, app_env, gunicorn, once, own_postgres, workers

pytestmark = [pytest.mark.integration, pytest.mark.slow, once]

CLIENTS = 4
ACTIONS_PER_CLIENT = 60


@dataclass
class Load:
    """Clients posting actions, each retried with its Idempotency-Key until it is stored."""

    gateway: Gateway
    headers: dict[str, str]
    statuses: Counter[int] = field(default_factory=Counter)
    refused: int = 0  # connections refused or reset (the gateway itself never went away)
    missing_retry_after: int = 0
    not_problem_json: int = 0
    notes: set[str] = field(default_factory=set)
    stored_at: dict[str, float] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def client(self, index: int) -> None:
        for i in range(ACTIONS_PER_CLIENT):
            note = f"client {index} action {i} {uuid.uuid4().hex[:6]}"
            key = uuid.uuid4().hex
            with self.lock:
                self.notes.add(note)
            body = {"tactic": "learning_bit", "minutes": 10, "audience": "team", "note": note}
            while True:
                try:
                    status, headers, raw = self.gateway.call(
                        "POST",
                        "/api/v1/actions",
                        body,
                        {**self.headers, "Idempotency-Key": key},
                        timeout=15,
                    )
                except OSError:
                    with self.lock:
                        self.refused += 1
                    time.sleep(0.05)
                    continue
                with self.lock:
                    self.statuses[status] += 1
                    if status >= 500:
                        if "Retry-After" not in headers:
                            self.missing_retry_after += 1
                        if headers.get("Content-Type") != "application/problem+json":
                            self.not_problem_json += 1
                if status == 201:
                    with self.lock:
                        self.stored_at[note] = time.monotonic()
                    break
                assert status == 503, (status, raw[:300])
                time.sleep(0.05)  # a client honouring Retry-After, shortened for the test

    def stored(self) -> int:
        with self.lock:
            return len(self.stored_at)


def test_gateway_answers_503_while_postgres_is_away_and_recovers(
    tmp_path: Path, redis_url: str, master_key: str, figures: Figures
) -> None:
    with own_postgres(tmp_path) as pg:
        store = EventStore(make_engine(pg.url), keyring=KeyRing([master_key]))
        try:
            org = make_org(store, people_per_team=1)
            headers = bearer(store, org, org.people["platform-1"])
            env = app_env(pg.url, redis_url, master_key, COMPOUND_CATCH_UP_SECONDS="0.5")
            with workers(env), gunicorn(env, tmp_path / "gunicorn.log") as gateway:
                load = Load(gateway, headers)
                clients = [threading.Thread(target=load.client, args=(i,)) for i in range(CLIENTS)]
                for thread in clients:
                    thread.start()
                deadline = time.monotonic() + 60
                while load.stored() < CLIENTS * ACTIONS_PER_CLIENT // 3:
                    assert time.monotonic() < deadline
                    time.sleep(0.02)
                stopped = time.monotonic()
                pg.stop()  # fast shutdown: open transactions roll back, connections drop
                while load.statuses[503] < 20:  # the clients have seen the outage
                    assert time.monotonic() < stopped + 30
                    time.sleep(0.02)
                down_503 = load.statuses[503]
                health = gateway.call("GET", "/readyz")
                pg.start()
                restarted = time.monotonic()
                for thread in clients:
                    thread.join(timeout=120)
                assert not any(t.is_alive() for t in clients)
                first_after = min(t for t in load.stored_at.values() if t > restarted)
                log = gateway.log_path.read_text()
                store.engine.dispose()  # this test's own pool holds pre-restart connections
                # The worker and scheduler lived through the outage: they catch up by themselves.
                catch_up_seconds = wait_caught_up(store)

            assert health[0] == 503 and "Retry-After" in health[1]
            assert json.loads(health[2])["checks"]["database"].startswith("unavailable")
            assert load.statuses[500] == 0, load.statuses
            assert set(load.statuses) <= {201, 503}, load.statuses
            assert load.missing_retry_after == 0 and load.not_problem_json == 0
            assert load.refused == 0  # the gateway stayed up: no restart was needed
            assert "Traceback" not in log, log[-3000:]
            assert len(load.stored_at) == CLIENTS * ACTIONS_PER_CLIENT
            logged = assert_each_note_once(store, org.tenant_id, load.notes)
            assert logged == CLIENTS * ACTIONS_PER_CLIENT
            rows = assert_read_models_equal_clean_rebuild(store)
        finally:
            store.engine.dispose()

    figures.record(
        "postgres-restart",
        "Faults",
        "PostgreSQL stopped and restarted under load: 503 + Retry-After, never 500; "
        "recovers without a gateway restart; nothing lost or doubled",
        "tests/reliability/test_database_outage.py",
        requests_stored=len(load.stored_at),
        answers_503=load.statuses[503],
        answers_503_before_restart=down_503,
        answers_500=load.statuses[500],
        outage_seconds=round(restarted - stopped, 1),
        first_201_after_restart_seconds=round(first_after - restarted, 1),
        projections_caught_up_seconds=round(catch_up_seconds, 1),
        events_lost=0,
        events_doubled=0,
        read_model_rows_equal_to_rebuild=rows,
    )

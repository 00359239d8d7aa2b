"""PostgreSQL stopped and restarted under load: the gateway answers 503 problem+json with
Retry-After while it is away (never 500), recovers without a restart, and nothing is lost or
appended twice (clients retry with their Idempotency-Key)."""

from __future__ import annotations

import json
import time
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
from tests.reliability.load import ActionLoad
from tests.reliability.report import Figures
from tests.reliability.servers import app_env, gunicorn, once, own_postgres, workers

pytestmark = [pytest.mark.integration, pytest.mark.slow, once]


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
                load = ActionLoad(gateway, headers, clients=4, actions=60).start()
                load.wait_stored(load.total // 3)
                stopped = time.monotonic()
                pg.stop()  # fast shutdown: open transactions roll back, connections drop
                while load.statuses[503] < 20:  # the clients have seen the outage
                    assert time.monotonic() < stopped + 30
                    time.sleep(0.02)
                down_503 = load.statuses[503]
                health = gateway.call("GET", "/readyz")
                pg.start()
                restarted = time.monotonic()
                load.join()
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
            assert not load.unexpected, load.unexpected[:5]
            # The gateway stayed up: no connection was refused, no restart was needed.
            assert load.broken_connections == 0
            assert "Traceback" not in log, log[-3000:]
            assert len(load.stored_at) == load.total
            logged = assert_each_note_once(store, org.tenant_id, load.notes)
            assert logged == load.total
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

"""Faults around a running gateway: a gunicorn worker killed with SIGKILL mid-request, and
Redis away for 30 s under load. Clients retry with their Idempotency-Key; afterwards every
action is in the log exactly once and the read models equal a clean rebuild."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from infra.embedded import EmbeddedRedis, free_port
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

KILLS = 3
REDIS_OUTAGE_SECONDS = 30.0


def test_sigkill_of_a_gunicorn_worker_mid_request_loses_and_doubles_nothing(
    tmp_path: Path, redis_url: str, master_key: str, figures: Figures
) -> None:
    with own_postgres(tmp_path) as pg:
        store = EventStore(make_engine(pg.url), keyring=KeyRing([master_key]))
        try:
            org = make_org(store, people_per_team=1)
            headers = bearer(store, org, org.people["platform-1"])
            env = app_env(pg.url, redis_url, master_key, COMPOUND_CATCH_UP_SECONDS="0.5")
            with workers(env), gunicorn(env, tmp_path / "gunicorn.log") as gateway:
                load = ActionLoad(gateway, headers, clients=6, actions=40).start()
                killed = []
                for k in range(1, KILLS + 1):
                    load.wait_stored(load.total * k // (KILLS + 2))
                    victim = gateway.worker_pids()[0]
                    os.kill(victim, signal.SIGKILL)
                    killed.append(victim)
                    # gunicorn's master replaces it; wait for the replacement before the next
                    deadline = time.monotonic() + 30
                    while victim in gateway.worker_pids() or len(gateway.worker_pids()) < 2:
                        assert time.monotonic() < deadline, "gunicorn did not replace a worker"
                        time.sleep(0.02)
                load.join()
                assert gateway.process.poll() is None  # the master never went down
                caught_up = wait_caught_up(store)

            assert not load.unexpected, load.unexpected[:5]
            assert load.statuses[500] == 0 and set(load.statuses) <= {201, 503}, load.statuses
            assert load.broken_connections >= 1, "no request was cut: the kills missed"
            assert len(load.stored_at) == load.total
            assert assert_each_note_once(store, org.tenant_id, load.notes) == load.total
            rows = assert_read_models_equal_clean_rebuild(store)
        finally:
            store.engine.dispose()

    figures.record(
        "gunicorn-sigkill",
        "Faults",
        f"kill -9 of a gunicorn worker mid-request ({KILLS} times): clients retry with "
        "their Idempotency-Key; nothing lost or doubled",
        "tests/reliability/test_gateway_faults.py",
        requests_stored=load.total,
        workers_killed=len(killed),
        requests_cut_and_retried=load.broken_connections,
        answers_500=load.statuses[500],
        projections_caught_up_seconds=round(caught_up, 1),
        events_lost=0,
        events_doubled=0,
        read_model_rows_equal_to_rebuild=rows,
    )


def test_appends_go_on_while_redis_is_away_for_30_seconds(
    tmp_path: Path, master_key: str, figures: Figures
) -> None:
    redis = EmbeddedRedis(tmp_path / "redis", port=free_port()).start()
    try:
        with own_postgres(tmp_path) as pg:
            store = EventStore(make_engine(pg.url), keyring=KeyRing([master_key]))
            try:
                org = make_org(store, people_per_team=1)
                headers = bearer(store, org, org.people["platform-1"])
                env = app_env(pg.url, redis.url, master_key, COMPOUND_CATCH_UP_SECONDS="0.5")
                with workers(env), gunicorn(env, tmp_path / "gunicorn.log") as gateway:
                    load = ActionLoad(gateway, headers, clients=2, actions=10_000, pace=0.1)
                    load.start().wait_stored(40)
                    redis.stop()
                    stopped = time.monotonic()
                    before = load.stored()
                    time.sleep(REDIS_OUTAGE_SECONDS)  # the outage the test is about
                    during = load.stored() - before
                    redis.start()
                    restarted = time.monotonic()
                    load.wait_stored(load.stored() + 40)
                    load.stop()
                    load.join()
                    caught_up = wait_caught_up(store)
                assert not load.unexpected, load.unexpected[:5]
                assert set(load.statuses) == {201}, load.statuses  # not one refused append
                assert load.broken_connections == 0
                assert during >= REDIS_OUTAGE_SECONDS * 5, during  # appends went on all along
                assert assert_each_note_once(store, org.tenant_id, load.notes) == load.total
                rows = assert_read_models_equal_clean_rebuild(store)
            finally:
                store.engine.dispose()
    finally:
        redis.stop()

    figures.record(
        "redis-30s",
        "Faults",
        "Redis stopped for 30 s under load: every append succeeds (201); projections "
        "catch up once it is back; nothing lost or doubled",
        "tests/reliability/test_gateway_faults.py",
        redis_away_seconds=round(restarted - stopped, 1),
        appends_while_away=during,
        requests_stored=load.total,
        answers_other_than_201=sum(n for s, n in load.statuses.items() if s != 201),
        projections_caught_up_seconds=round(caught_up, 1),
        events_lost=0,
        events_doubled=0,
        read_model_rows_equal_to_rebuild=rows,
    )

"""Wake-ups on a real Redis: however many gateway processes commit, one wake-up per
projection waits in the queue; the worker's start lets the next commit send a new one."""

from __future__ import annotations

import uuid

import pytest
import redis
from dramatiq.brokers.redis import RedisBroker

from shared.projections import projections_for
from shared.wakeups import CATCH_UP_QUEUE, Wakeups, clear_pending, pending_key, wake

pytestmark = pytest.mark.integration


def queued(client: redis.Redis, namespace: str) -> int:
    return int(client.llen(f"{namespace}:{CATCH_UP_QUEUE}"))


def test_many_senders_leave_one_wake_up_per_projection_in_the_queue(redis_url: str):
    namespace = f"test-{uuid.uuid4().hex[:8]}"
    broker = RedisBroker(url=redis_url, namespace=namespace)
    broker.declare_queue(CATCH_UP_QUEUE)
    client = broker.client
    try:
        gateways = [Wakeups(broker) for _ in range(3)]  # three gateway processes
        for _ in range(200):
            for gateway in gateways:
                gateway(["OutcomeRecorded"])  # capital alone handles it
        woken = projections_for(frozenset({"OutcomeRecorded"}))
        assert "capital" in woken
        assert queued(client, namespace) == len(woken)  # one each, not 600
        assert all(client.exists(pending_key(broker, name)) for name in woken)
        assert sum(g.sent for g in gateways) == len(woken)

        clear_pending("capital", broker)  # a worker starts on it
        assert wake("capital", broker=broker) is True  # a commit after the start sends again
        assert wake("capital", broker=broker) is False
        assert queued(client, namespace) == len(woken) + 1
        assert 0 < client.pttl(pending_key(broker, "capital")) <= 10_000  # a lost one expires
    finally:
        for key in client.scan_iter(f"{namespace}*"):
            client.delete(key)
        broker.close()
        client.connection_pool.disconnect()

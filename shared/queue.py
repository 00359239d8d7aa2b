"""The Dramatiq broker on Redis, set up once per process before any message or actor.

Dramatiq binds each actor to the global broker when the actor is declared, so
``workers.actors`` calls :func:`setup_broker` first (from ``REDIS_URL``); the gateway and the
scheduler call it with their settings before sending. The Redis client connects lazily,
after any fork.
"""

from __future__ import annotations

import os
from typing import Any

import dramatiq
from dramatiq.brokers.redis import RedisBroker

_broker: RedisBroker | None = None

IDLE_POLL_MS = 100
"""How often, at most, an idle worker process asks Redis for messages (Dramatiq's default,
a second, left fanned-out partitions to the busy process that sent them)."""


class FairShare(dramatiq.Middleware):
    """Each worker process takes from the queue only as many messages as it has threads,
    and an idle one polls every :data:`IDLE_POLL_MS`.

    Dramatiq's defaults suit short messages: a process fetches twice its threads at once and
    an idle one polls once a second. A partition's catch-up lasts seconds: with those
    defaults the process that fanned a backlog out held the partition messages it could not
    start yet in its own memory while other processes idled (docs/scaling.md,
    "Distribution"), and one process applied nearly all of a backlog.
    ``dramatiq_queue_prefetch`` in the environment still overrides the prefetch.
    """

    def before_worker_boot(self, broker: dramatiq.Broker, worker: Any) -> None:
        if not os.environ.get("dramatiq_queue_prefetch"):  # noqa: SIM112 (Dramatiq spells it so)
            worker.queue_prefetch = worker.worker_threads
        worker.worker_timeout = min(worker.worker_timeout, IDLE_POLL_MS)


def setup_broker(url: str | None) -> RedisBroker:
    """The process's broker; the first call decides its Redis URL."""
    global _broker
    if _broker is None:
        namespace = os.environ.get("COMPOUND_QUEUE_NAMESPACE", "compound")
        _broker = RedisBroker(url=url or "redis://127.0.0.1:6379/0", namespace=namespace)
        _broker.add_middleware(FairShare())
        dramatiq.set_broker(_broker)
    return _broker

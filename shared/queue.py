"""The Dramatiq broker on Redis, set up once per process before any message or actor.

Dramatiq binds each actor to the global broker when the actor is declared, so
``workers.actors`` calls :func:`setup_broker` first (from ``REDIS_URL``); the gateway and the
scheduler call it with their settings before sending. The Redis client connects lazily,
after any fork.
"""

from __future__ import annotations

import os

import dramatiq
from dramatiq.brokers.redis import RedisBroker

_broker: RedisBroker | None = None


def setup_broker(url: str | None) -> RedisBroker:
    """The process's broker; the first call decides its Redis URL."""
    global _broker
    if _broker is None:
        namespace = os.environ.get("COMPOUND_QUEUE_NAMESPACE", "compound")
        _broker = RedisBroker(url=url or "redis://127.0.0.1:6379/0", namespace=namespace)
        dramatiq.set_broker(_broker)
    return _broker

"""Dramatiq actors: ``catch_up_projection`` (woken after appends and by the scheduler).

Run with ``compound worker`` (the dramatiq CLI on this module).
"""

from __future__ import annotations

import logging
import os
from functools import cache

import dramatiq

from shared.projections import Runtime, runtime
from shared.queue import setup_broker
from shared.wakeups import (
    CATCH_UP_ACTOR,
    CATCH_UP_QUEUE,
    REBUILD_ACTOR,
    clear_pending,
    send_catch_up,
)
from workers.metrics import add_prometheus

add_prometheus(setup_broker(os.environ.get("REDIS_URL")))  # before the actors are declared

log = logging.getLogger("compound.worker")


@cache
def _runtime() -> Runtime:
    """One engine and runtime per worker process, made after the fork."""
    from shared.settings import Settings
    from workers.store import event_store

    rt = runtime(event_store(Settings.from_env(), pool_size=4))
    rt.ensure()
    return rt


@dramatiq.actor(
    actor_name=CATCH_UP_ACTOR,
    queue_name=CATCH_UP_QUEUE,
    max_retries=3,
    min_backoff=500,
    time_limit=600_000,
)
def catch_up_projection(name: str, partition: int | None = None) -> None:
    """Apply every pending event of one partition of a projection. Duplicates and
    redeliveries are harmless: the partition's checkpoint row is locked, and what was applied
    is never applied again. Without ``partition`` (a wake-up after appends, the scheduler's):
    with more than a batch to do, send one message for each other partition, so the worker
    processes share them, and apply the first one here; otherwise (live wake-ups) apply every
    partition here, in one read of the log, as cheap as a single checkpoint."""
    rt = _runtime()
    if partition is None:
        clear_pending(name)  # before reading: what commits from now on sends a new wake-up
        count, behind = rt.backlog(name)
        if count > 1 and behind > rt.batch:
            for k in range(1, count):
                send_catch_up(name, partition=k)
            partition = 0
        # else: a batch or less to do (a live wake-up), all partitions in one transaction
    applied = rt.catch_up(name, partition=partition)
    if applied:
        log.info("projection %s partition %s applied %d events", name, partition, applied)


@dramatiq.actor(
    actor_name=REBUILD_ACTOR, queue_name=CATCH_UP_QUEUE, max_retries=0, time_limit=3_600_000
)
def rebuild_projection(name: str) -> None:
    """Build the next generation of one projection and switch to it (admin request)."""
    generation = _runtime().rebuild(name)
    log.info("projection %s rebuilt: generation %d is live", name, generation)

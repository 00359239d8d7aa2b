"""Dramatiq actors: ``catch_up_projection`` (woken after appends and by the scheduler) and
``rebuild_projection`` (an admin's request).

Run with ``compound worker`` (the dramatiq CLI on this module).
"""

from __future__ import annotations

import logging
from functools import cache

from shared import bootstrap
from shared.messaging import actor
from shared.projections import Runtime
from shared.settings import Settings
from shared.wakeups import (
    CATCH_UP_ACTOR,
    CATCH_UP_QUEUE,
    REBUILD_ACTOR,
    clear_pending,
    send_catch_up,
)

broker = bootstrap.worker_broker()  # before the actors are declared
log = logging.getLogger("compound.worker")


@cache
def projection_runtime() -> Runtime:
    """One engine and runtime per worker process, made after the fork."""
    settings = Settings.from_env()
    # Sized for the process's threads (`compound worker --threads`): one connection each kept
    # open, as many again in overflow.
    store = bootstrap.event_store(settings, pool_size=settings.worker_threads)
    return bootstrap.projection_runtime(store)


@actor(
    CATCH_UP_ACTOR,
    CATCH_UP_QUEUE,
    broker,
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
    rt = projection_runtime()
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


@actor(REBUILD_ACTOR, CATCH_UP_QUEUE, broker, max_retries=0, time_limit=3_600_000)
def rebuild_projection(name: str, wanted: int | None = None) -> None:
    """Build the next generation of one projection and switch to it (an admin's request, or
    an erasure's): unless ``wanted`` is live by then, a rebuild that started after the
    request having switched meanwhile (shared.projections.rebuild.rebuild_many)."""
    generation = projection_runtime().rebuild(name, wanted=wanted)
    log.info("projection %s: generation %d is live", name, generation)

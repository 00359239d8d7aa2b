"""The composition root: the one place that builds the engine, the event store, the broker
and the projection runtime (as cosmicpython's ``bootstrap.py``).

The gateway (services/gateway/resources.py), the workers, the scheduler, the ``compound``
command, the supervisor of ``compound run`` and the parallel rebuild's processes ask here;
nothing else constructs them, so a store always carries its master keys and event size
limit, and a broker always its namespace and middleware. Call these inside the process that
uses the result, after any fork: an engine's pool and a Redis connection must not be shared
between processes.
"""

from __future__ import annotations

import os
from functools import cache

from sqlalchemy import Engine

from shared.database import make_engine
from shared.eventlog import EventStore, KeyRing
from shared.messaging import Broker, add_prometheus, setup_broker
from shared.projections import Runtime, runtime
from shared.settings import Settings


def engine(
    database: Settings | str,
    pool_size: int,
    *,
    max_overflow: int | None = None,
    statement_timeout_ms: int = 0,
) -> Engine:
    """A new engine (its own pool) on the database of ``database``.

    Parameters:
        database: settings (their ``database_url``) or a database URL.
        pool_size: connections kept open (as many again may overflow, unless
            ``max_overflow`` says otherwise).
        max_overflow: connections opened beyond ``pool_size`` when all are busy.
        statement_timeout_ms: the longest a statement may run (0: no limit; see
            :func:`shared.database.make_engine`).

    Returns:
        The engine; dispose of it when done.

    Raises:
        SettingsError: settings without a database URL.
    """
    return make_engine(
        database,
        pool_size=pool_size,
        max_overflow=max_overflow,
        statement_timeout_ms=statement_timeout_ms,
    )


def event_store(
    settings: Settings, *, pool_size: int = 2, shared_engine: Engine | None = None
) -> EventStore:
    """The event store of ``settings``: their master keys and event size limit.

    Parameters:
        settings: the process's settings.
        pool_size: connections of the store's own engine (unused with ``shared_engine``).
        shared_engine: an engine of the process (the gateway's) instead of a new one.

    Returns:
        The store; ``store.engine.dispose()`` when done with an engine of its own.

    Raises:
        SettingsError: settings without a database URL.
    """
    return EventStore(
        shared_engine if shared_engine is not None else engine(settings, pool_size),
        keyring=KeyRing(settings.master_keys),
        max_event_bytes=settings.max_event_bytes,
    )


def projection_runtime(store: EventStore, *, ensure: bool = True) -> Runtime:
    """The runtime of every registered projection (shared/projections/__init__.py).

    Parameters:
        store: the event store it reads and whose database holds the read models.
        ensure: register the projections and create their first tables now if missing.

    Returns:
        The runtime.
    """
    projections = runtime(store)
    if ensure:
        projections.ensure()
    return projections


def broker(settings: Settings) -> Broker:
    """The process's Dramatiq broker on ``settings.redis_url`` (made on the first call).

    Parameters:
        settings: the process's settings.

    Returns:
        The broker, also Dramatiq's global one.
    """
    return setup_broker(settings.redis_url)


@cache
def worker_broker() -> Broker:
    """The broker of a Dramatiq worker process, from ``REDIS_URL``, with the Prometheus
    middleware when ``compound worker`` asked for it; the workers' modules call it before
    they declare their actors.

    Returns:
        The process's broker.
    """
    made = setup_broker(os.environ.get("REDIS_URL"))
    add_prometheus(made)
    return made

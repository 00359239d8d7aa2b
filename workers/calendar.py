"""Dramatiq actor ``sync_calendar``: one connection's calendar into the event log.

Sent by the gateway when a calendar is connected and by the scheduler for every active
connection each ``COMPOUND_CALENDAR_SYNC_SECONDS``. Concurrent syncs of one connection are
harmless: the second finds the connection locked and returns.
"""

from __future__ import annotations

import logging
import uuid
from functools import cache

from shared import bootstrap
from shared.calendar.connections import Connections, TokenCipher
from shared.calendar.jobs import SYNC_ACTOR, SYNC_QUEUE
from shared.calendar.providers import configured_providers
from shared.calendar.sync import CalendarSync
from shared.messaging import actor
from shared.settings import Settings
from shared.wakeups import Wakeups

broker = bootstrap.worker_broker()  # before the actor below is declared
log = logging.getLogger("compound.worker")


@cache
def calendar_sync() -> CalendarSync:
    """One engine and sync service per worker process, made after the fork."""
    settings = Settings.from_env()
    # A sync holds its connection's advisory lock on one connection while it reads and writes
    # on another: two per worker thread (a pool of 2 + 2 starved 4 threads into 30 s pool
    # timeouts when make run connected the demo calendars all at once).
    store = bootstrap.event_store(settings, pool_size=2 * settings.worker_threads)
    return CalendarSync(
        Connections(store, TokenCipher(settings.master_keys)),
        configured_providers(settings.calendar),
        settings.calendar,
        on_appended=Wakeups(broker),
    )


@actor(
    SYNC_ACTOR,
    SYNC_QUEUE,
    broker,
    max_retries=5,
    min_backoff=2_000,
    time_limit=600_000,
)
def sync_calendar(connection_id: str) -> None:
    """Sync one connection; provider failures raise and Dramatiq retries with backoff."""
    report = calendar_sync().sync(uuid.UUID(connection_id))
    if report.observed or report.cancelled or report.status != "synced":
        log.info(
            "calendar %s: %s, %d observed, %d cancelled%s",
            connection_id,
            report.status,
            report.observed,
            report.cancelled,
            " (full resync)" if report.resynced else "",
        )

"""The event store a worker process opens (after the fork) from its settings."""

from __future__ import annotations

from shared.database import make_engine
from shared.eventlog import EventStore, KeyRing
from shared.settings import Settings


def event_store(settings: Settings, pool_size: int) -> EventStore:
    return EventStore(
        make_engine(settings, pool_size=pool_size),
        keyring=KeyRing(settings.master_keys),
        max_event_bytes=settings.max_event_bytes,
    )

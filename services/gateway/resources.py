"""Per-process resources (engine, Redis, event store, commands), created lazily after fork."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import psycopg
import redis
from flask import Flask, current_app
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, OperationalError

from shared.commands import JournalCommands, OrganizationCommands
from shared.database import make_engine
from shared.eventlog import EventStore, KeyRing
from shared.projections import Runtime, runtime
from shared.queue import setup_broker
from shared.settings import Settings, SettingsError
from shared.wakeups import Wakeups


@dataclass
class Resources:
    settings: Settings
    _engine: Engine | None = field(default=None, repr=False)
    _redis: redis.Redis | None = field(default=None, repr=False)

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = make_engine(self.settings, pool_size=10)
        return self._engine

    @property
    def redis(self) -> redis.Redis:
        if self._redis is None:
            if not self.settings.redis_url:
                raise SettingsError("REDIS_URL is not set")
            self._redis = redis.Redis.from_url(
                self.settings.redis_url, socket_connect_timeout=1, socket_timeout=1
            )
        return self._redis

    @cached_property
    def store(self) -> EventStore:
        return EventStore(
            self.engine,
            keyring=KeyRing(self.settings.master_keys),
            max_event_bytes=self.settings.max_event_bytes,
        )

    @cached_property
    def organization(self) -> OrganizationCommands:
        return OrganizationCommands(self.store)

    @cached_property
    def wakeups(self) -> Wakeups:
        setup_broker(self.settings.redis_url)
        return Wakeups()

    @cached_property
    def journal(self) -> JournalCommands:
        return JournalCommands(self.store, self.settings.require_secret_key(), self.wakeups)

    @cached_property
    def projections(self) -> Runtime:
        rt = runtime(self.store)
        rt.ensure()  # registers projections and creates their first tables, once
        return rt

    def close(self) -> None:
        """Release connections (tests and orderly shutdown)."""
        if self._engine is not None:
            self._engine.dispose()
        if self._redis is not None:
            self._redis.close()


def is_database_outage(err: BaseException) -> bool:
    """A lost or refused database connection (answered 503), not a bug (500)."""
    if isinstance(err, OperationalError | psycopg.OperationalError):
        return True
    return isinstance(err, DBAPIError) and bool(err.connection_invalidated)


def init_app(app: Flask) -> None:
    app.extensions["compound"] = Resources(app.config["COMPOUND_SETTINGS"])


def resources() -> Resources:
    res = current_app.extensions["compound"]
    assert isinstance(res, Resources)
    return res

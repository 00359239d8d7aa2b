"""Per-process resources (engine, Redis, event store, broker, commands), created lazily after
the fork, from shared/bootstrap.py."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import cached_property, partial

import psycopg
import redis
from flask import Flask, current_app
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, OperationalError

from shared import bootstrap
from shared.commands import JournalCommands, OrganizationCommands
from shared.domain.bounds import meeting_horizon
from shared.eventlog import EventStore
from shared.messaging import Broker
from shared.notify import Mailer, mailer_for
from shared.projections import Runtime
from shared.projections.rebuild import wanted_generation
from shared.read_tokens import PositionTokens
from shared.settings import Settings, SettingsError
from shared.wakeups import Wakeups, send_rebuilds_after_erasure

log = logging.getLogger("compound.gateway")

GATEWAY_POOL = 10
"""The fewest connections a gateway process keeps open (more with more threads)."""
BULK_TIMEOUT_FACTOR = 12
"""How many times the statement timeout a bulk import's statements may run (60 s of 5 s)."""


@dataclass
class Resources:
    settings: Settings
    _engine: Engine | None = field(default=None, repr=False)
    _redis: redis.Redis | None = field(default=None, repr=False)
    _bulk_engine: Engine | None = field(default=None, repr=False)

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            # Every statement of a web request runs under the statement timeout: a slow one
            # answers 503 (services/gateway/timeouts.py), never a worker held for minutes.
            self._engine = bootstrap.engine(
                self.settings,
                # At least one per thread (a request may hold two: as many again in overflow).
                pool_size=max(GATEWAY_POOL, self.settings.web_threads),
                statement_timeout_ms=self.settings.statement_timeout_ms,
            )
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
        return bootstrap.event_store(self.settings, shared_engine=self.engine)

    @cached_property
    def broker(self) -> Broker:
        """The process's broker: wake-ups, sync jobs and rebuilds are sent to it."""
        return bootstrap.broker(self.settings)

    @cached_property
    def organization(self) -> OrganizationCommands:
        commands = OrganizationCommands(self.store)
        commands.on_erased = self._forget_erased
        return commands

    def _forget_erased(self, person_id: object) -> None:
        """After an erasure: rebuild the read models that held the person's behaviour."""
        try:
            with self.engine.connect() as conn:
                send_rebuilds_after_erasure(partial(wanted_generation, conn), self.broker)
        except Exception as err:  # Redis away: the operator runs the rebuild (docs/privacy.md)
            log.warning("rebuilds after an erasure not sent: %s", type(err).__name__)

    @cached_property
    def wakeups(self) -> Wakeups:
        return Wakeups(self.broker)

    @cached_property
    def journal(self) -> JournalCommands:
        return self._journal_on(self.store)

    @cached_property
    def bulk_journal(self) -> JournalCommands:
        """The journal commands of bulk imports, on an engine of their own whose statements
        may run :data:`BULK_TIMEOUT_FACTOR` times the statement timeout: appending 50,000
        imported events is one statement of several seconds."""
        timeout = self.settings.statement_timeout_ms * BULK_TIMEOUT_FACTOR
        engine = bootstrap.engine(self.settings, pool_size=2, statement_timeout_ms=timeout)
        self._bulk_engine = engine
        return self._journal_on(bootstrap.event_store(self.settings, shared_engine=engine))

    def _journal_on(self, store: EventStore) -> JournalCommands:
        commands = JournalCommands(
            store,
            self.settings.require_secret_key(),
            self.wakeups,
            meeting_horizon(self.settings.calendar.weeks_ahead),
        )
        commands.pulse_batch_k = self.settings.k_anonymity
        return commands

    @cached_property
    def position_tokens(self) -> PositionTokens:
        """Seals the log positions the API hands out (shared/read_tokens.py)."""
        return PositionTokens(self.settings.require_secret_key())

    @cached_property
    def mailer(self) -> Mailer:
        """Outgoing mail (:mod:`shared.notify`): logged, not sent, without SMTP settings."""
        return mailer_for(self.settings)

    @cached_property
    def projections(self) -> Runtime:
        # Registers the projections and creates their first tables, once per process.
        return bootstrap.projection_runtime(self.store)

    def close(self) -> None:
        """Release connections (tests and orderly shutdown)."""
        for engine in (self._engine, self._bulk_engine):
            if engine is not None:
                engine.dispose()
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

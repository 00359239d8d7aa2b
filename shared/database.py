"""The SQLAlchemy engine and session factory.

Create them inside each process (after any fork), never at import time.
"""

from __future__ import annotations

from typing import Any

import orjson
import psycopg
from psycopg.types.json import set_json_loads
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from shared.settings import Settings, normalise_database_url


def make_engine(url_or_settings: str | Settings, *, pool_size: int = 5) -> Engine:
    """Return an engine for PostgreSQL through psycopg 3.

    Parameters:
        url_or_settings: a database URL, or settings whose ``database_url`` is used.
        pool_size: connections kept open per process.
    """
    if isinstance(url_or_settings, Settings):
        url = url_or_settings.require_database_url()
    else:
        url = normalise_database_url(url_or_settings)
    engine = create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        # No pre-ping (a round trip per checkout): a dropped connection raises a disconnect
        # error, SQLAlchemy invalidates the pool, and the next checkout reconnects.
        pool_pre_ping=False,
        connect_args={"application_name": "compound"},
    )

    @event.listens_for(engine, "connect")
    def _fast_json(dbapi_connection: Any, _record: Any) -> None:
        # jsonb columns are parsed by orjson: several times faster than json.loads.
        set_json_loads(orjson.loads, dbapi_connection)

    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions for read models; the event store uses Core connections directly."""
    return sessionmaker(engine, expire_on_commit=False)


def as_psycopg(conn: Connection | psycopg.Connection[Any]) -> psycopg.Connection[Any]:
    """The psycopg connection under a SQLAlchemy connection (in the same transaction).

    The event store's hot paths talk to psycopg directly: SQLAlchemy's statement handling
    costs more than the statements themselves there.
    """
    if isinstance(conn, psycopg.Connection):
        return conn
    driver = conn.connection.driver_connection
    assert isinstance(driver, psycopg.Connection)
    return driver

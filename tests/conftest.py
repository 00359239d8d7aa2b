"""Fixtures shared by every test folder.

Servers: ``DATABASE_URL`` / ``REDIS_URL`` when set (CI's second pass uses the machine's
PostgreSQL and Redis), otherwise embedded servers started for this test session. Either way
each test session gets a database of its own, created here and dropped at the end, so runs
never see each other's data.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from infra.embedded import EmbeddedPostgres, EmbeddedRedis
from infra.migrate import upgrade
from shared.database import make_engine
from shared.eventlog import EventStore, KeyRing, generate_master_key
from shared.settings import normalise_database_url


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A URL of a PostgreSQL server we may create databases on."""
    configured = os.environ.get("DATABASE_URL")
    if configured:
        yield normalise_database_url(configured)
        return
    server = EmbeddedPostgres(tmp_path_factory.mktemp("embedded") / "postgres", database="postgres")
    server.start()
    yield server.url
    server.stop()


@pytest.fixture(scope="session")
def database_url(postgres_server_url: str) -> Iterator[str]:
    """A fresh, migrated database for this test session, dropped afterwards."""
    name = f"compound_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = _libpq(postgres_server_url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(postgres_server_url).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url, pool_size=10)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def master_key() -> str:
    return generate_master_key()


@pytest.fixture(scope="session")
def store(engine: Engine, master_key: str) -> EventStore:
    return EventStore(engine, keyring=KeyRing([master_key]))


@pytest.fixture
def tenant() -> uuid.UUID:
    """A tenant of this test alone: the log is append-only, so tests share it by tenant."""
    return uuid.uuid4()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    configured = os.environ.get("REDIS_URL")
    if configured:
        yield configured
        return
    server = EmbeddedRedis(tmp_path_factory.mktemp("embedded-redis"))
    server.start()
    yield server.url
    server.stop()


@pytest.fixture(scope="session")
def embedded_bin_dir() -> Path:
    return EmbeddedPostgres(Path("/nonexistent")).bin_dir

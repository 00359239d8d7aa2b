"""A database of the contract suite's own: its rebuilds read the whole log from position 0,
so the log holds only the histories this suite writes (whichever tests ran before it)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy.engine import make_url

from infra.migrate import upgrade
from shared.database import make_engine
from shared.eventlog import EventStore, KeyRing


@pytest.fixture(scope="session")
def contract_store(postgres_server_url: str, master_key: str) -> Iterator[EventStore]:
    """An event store on a fresh, migrated database, dropped at the end of the session."""
    name = f"compound_contract_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = make_url(postgres_server_url).set(drivername="postgresql")
    admin_url = admin.render_as_string(hide_password=False)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(postgres_server_url).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url, pool_size=5)
    try:
        upgrade(engine)
        yield EventStore(engine, keyring=KeyRing([master_key]))
    finally:
        engine.dispose()
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

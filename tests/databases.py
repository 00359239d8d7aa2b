"""A database of a test's own, for tests that read the whole log or change the schema."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from sqlalchemy.engine import make_url

from infra.migrate import upgrade
from shared.database import make_engine
from shared.eventlog import EventStore, KeyRing


@contextmanager
def fresh_store(server_url: str, master_key: str, prefix: str) -> Iterator[EventStore]:
    """An event store on a new, migrated database of ``server_url``, dropped on the way out.

    Parameters:
        server_url: a URL of a server we may create databases on.
        master_key: the key ring's master key.
        prefix: the start of the database's name (says whose it is).

    Returns:
        A context manager yielding the store.
    """
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin_url = make_url(server_url).set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url, pool_size=5)
    try:
        upgrade(engine)
        yield EventStore(engine, keyring=KeyRing([master_key]))
    finally:
        engine.dispose()
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

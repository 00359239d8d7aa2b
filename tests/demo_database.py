"""The demo organisation (``seed_demo``) in a database of its own, every projection caught up
and every closed week released, as a running ``make run`` has it; for the tests that read
the demo's pages (the session's database may not hold a second "Demo Co")."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import psycopg
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from infra.migrate import upgrade
from infra.seed import Seeded, seed_demo
from shared.database import make_engine
from shared.eventlog import EventStore, KeyRing
from shared.projections import runtime
from shared.releases.publish import publish_tenant
from shared.settings import Settings
from tests.conftest import TEST_SECRET, _libpq

PASSWORD = "compound-demo"


@dataclass(frozen=True)
class Demo:
    engine: Engine
    store: EventStore
    seeded: Seeded
    settings: Settings


@contextmanager
def demo_database(
    postgres_server_url: str, redis_url: str, master_key: str, prefix: str
) -> Iterator[Demo]:
    """The demo in a new database named after ``prefix``, dropped afterwards."""
    name = f"compound_{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = _libpq(postgres_server_url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(postgres_server_url).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url, pool_size=4)
    try:
        upgrade(engine)
        store = EventStore(engine, keyring=KeyRing([master_key]))
        seeded = seed_demo(store, TEST_SECRET, PASSWORD)
        rt = runtime(store)
        rt.ensure()
        for projection in rt.projections:
            rt.catch_up(projection)
        # What the scheduler does once the gateway runs: every closed week released, with a
        # budget under which the demo's teams pass the noise bound.
        publish_tenant(store, Settings(privacy_epsilon=20.0), seeded.tenant_id, datetime.now(UTC))
        rt.catch_up("releases")
        settings = Settings(
            database_url=url,
            redis_url=redis_url,
            master_keys=(master_key,),
            secret_key=TEST_SECRET,
            log_level="WARNING",
        )
        yield Demo(engine, store, seeded, settings)
    finally:
        engine.dispose()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

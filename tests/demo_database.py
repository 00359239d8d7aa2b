"""The demo organisation (``seed_demo``) in a database of its own, every projection caught up
and every closed week released, as a running ``make run`` has it; for the tests that read
the demo's pages (the session's database may not hold a second "Demo Co")."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine

from infra.seed import Seeded, seed_demo
from shared.eventlog import EventStore
from shared.projections import runtime
from shared.releases.publish import publish_tenant
from shared.settings import Settings
from tests.conftest import TEST_SECRET
from tests.databases import fresh_store

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
    with fresh_store(postgres_server_url, master_key, f"compound_{prefix}") as store:
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
            database_url=store.engine.url.render_as_string(hide_password=False),
            redis_url=redis_url,
            master_keys=(master_key,),
            secret_key=TEST_SECRET,
            log_level="WARNING",
        )
        yield Demo(store.engine, store, seeded, settings)

"""Migration 0035: compound_append_one() looks for an erased subject one subject at a time
(a scalar parameter: its cached plan is generic, planned once per connection). It refuses
exactly the appends it refused before, and the downgrade puts the array check back."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import psycopg
import pytest
from alembic import command
from sqlalchemy import text

from infra.migrate import alembic_config, current_revision, upgrade
from shared.database import as_psycopg
from shared.eventlog import EventStore
from tests.databases import fresh_store

pytestmark = pytest.mark.integration

AT = datetime(2026, 12, 7, tzinfo=UTC)


@pytest.fixture
def probe_store(postgres_server_url: str, master_key: str) -> Iterator[EventStore]:
    with fresh_store(postgres_server_url, master_key, "compound_probe") as store:
        yield store


def downgrade(store: EventStore, revision: str) -> None:
    cfg = alembic_config(store.engine)
    with store.engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)
        conn.commit()


def append_one(store: EventStore, tenant: uuid.UUID, subjects: list[uuid.UUID] | None) -> str:
    """One append through the function with these subjects: "written" or the SQLSTATE."""
    with store.engine.connect() as conn:
        pg = as_psycopg(conn)
        try:
            pg.execute(
                "SELECT * FROM compound_append_one(%s, %s, NULL, %s, 'T', 1, '{}'::jsonb, "
                "'{}'::jsonb, %s, %s::uuid[], false, NULL)",
                (tenant, f"probe-{uuid.uuid4()}", uuid.uuid4(), AT, subjects),
            )
        except psycopg.Error as err:
            conn.rollback()
            return str(err.sqlstate)
        conn.commit()
        return "written"


def outcomes(store: EventStore, tenant: uuid.UUID, ada: uuid.UUID, bob: uuid.UUID) -> list[str]:
    cases: list[list[uuid.UUID] | None] = [None, [], [ada], [ada, bob], [bob, ada], [bob]]
    # Each case several times: the cached plan turns generic after the first five calls.
    return [append_one(store, tenant, case) for case in cases for _ in range(7)]


def source(store: EventStore) -> str:
    with store.engine.connect() as conn:
        return str(
            conn.execute(
                text("SELECT prosrc FROM pg_proc WHERE proname = 'compound_append_one'")
            ).scalar_one()
        )


def test_the_probe_refuses_the_same_appends_before_and_after(probe_store: EventStore) -> None:
    store, tenant = probe_store, uuid.uuid4()
    ada, bob = uuid.uuid4(), uuid.uuid4()
    with store.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO data_keys (subject_id, tenant_id, wrapped_key, erased_at) VALUES "
                "(:a, :t, '\\x01'::bytea, NULL), (:b, :t, NULL, now())"
            ),
            {"a": ada, "b": bob, "t": tenant},
        )
    expected = ["written"] * 21 + ["CP410"] * 21

    assert current_revision(store.engine) == "0035"
    assert "FOREACH v_subject IN ARRAY p_subjects" in source(store)
    assert outcomes(store, tenant, ada, bob) == expected

    downgrade(store, "0034")
    assert "subject_id = ANY(p_subjects)" in source(store)
    assert "FOREACH" not in source(store)
    assert outcomes(store, tenant, ada, bob) == expected

    upgrade(store.engine)
    assert current_revision(store.engine) == "0035"
    assert outcomes(store, tenant, ada, bob) == expected

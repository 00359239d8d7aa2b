"""shared.database: the pool's rollback of a returned connection keeps the statements it
prepared (psycopg's own rollback forgot them and sent DEALLOCATE ALL), rolls back a failed
transaction as psycopg does (forgetting them, so a statement a migration made stale heals),
and still drops a connection the server closed."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from shared.database import as_psycopg, make_engine, rollback_keeping_prepared

pytestmark = pytest.mark.integration

PREPARED = "SELECT %s::int + 1"


@pytest.fixture
def own_engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url, pool_size=1, max_overflow=0)
    yield engine
    engine.dispose()


def prepared_on_server(pg: psycopg.Connection) -> list[str]:
    return [row[0] for row in pg.execute("SELECT statement FROM pg_prepared_statements")]


def test_a_statement_stays_prepared_from_one_checkout_to_the_next(own_engine: Engine) -> None:
    with own_engine.connect() as conn:
        pg = as_psycopg(conn)
        assert pg.execute(PREPARED, (1,), prepare=True).fetchone() == (2,)
        conn.execute(sa.text("CREATE TEMP TABLE written (x int)"))  # undone by the rollback
        backend = pg.info.backend_pid
    with own_engine.connect() as conn:
        pg = as_psycopg(conn)
        assert pg.info.backend_pid == backend
        assert prepared_on_server(pg) == ["SELECT $1::int + 1"]
        assert pg.execute(PREPARED, (5,), prepare=True).fetchone() == (6,)  # psycopg's record
        assert pg.execute("SELECT to_regclass('written')").fetchone() == (None,)


def test_a_failed_transaction_is_rolled_back_on_return(own_engine: Engine) -> None:
    with own_engine.connect() as conn:
        with pytest.raises(sa.exc.DataError):
            conn.execute(sa.text("SELECT 1 / 0"))
        pg = as_psycopg(conn)
        assert pg.info.transaction_status == psycopg.pq.TransactionStatus.INERROR
    with own_engine.connect() as conn:
        assert conn.execute(sa.text("SELECT 41 + 1")).scalar() == 42


def test_a_connection_the_server_closed_is_dropped_on_return(
    own_engine: Engine, database_url: str
) -> None:
    libpq = database_url.replace("postgresql+psycopg://", "postgresql://")
    # the transaction's end finds it gone
    with pytest.raises(sa.exc.OperationalError), own_engine.connect() as conn:
        conn.execute(sa.text("SELECT 1"))
        victim = as_psycopg(conn).info.backend_pid
        with psycopg.connect(libpq, autocommit=True) as killer:
            killer.execute("SELECT pg_terminate_backend(%s)", (victim,))
    with own_engine.connect() as conn:
        assert as_psycopg(conn).info.backend_pid != victim
        assert conn.execute(sa.text("SELECT 1")).scalar() == 1


def test_an_idle_connection_is_left_alone(database_url: str) -> None:
    libpq = database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(libpq, autocommit=True) as pg:
        rollback_keeping_prepared(pg)  # nothing to roll back: no round trip, no error
        assert pg.execute("SELECT 1").fetchone() == (1,)


def test_a_statement_a_migration_made_stale_heals_after_one_failure(
    own_engine: Engine, database_url: str
) -> None:
    """A statement prepared before a table changed its columns fails once ("cached plan
    must not change result type"); the failed transaction's rollback forgets what was
    prepared, so the next checkout prepares it afresh instead of failing for the
    connection's whole life."""
    libpq = database_url.replace("postgresql+psycopg://", "postgresql://")
    stale = "SELECT * FROM migrated_later"
    with psycopg.connect(libpq, autocommit=True) as admin:
        admin.execute("CREATE TABLE migrated_later (x int)")
        admin.execute("INSERT INTO migrated_later VALUES (1)")
        with own_engine.connect() as conn:
            assert as_psycopg(conn).execute(stale, prepare=True).fetchall() == [(1,)]
        admin.execute("ALTER TABLE migrated_later ADD COLUMN y int DEFAULT 2")
    with own_engine.connect() as conn, pytest.raises(psycopg.errors.FeatureNotSupported):
        as_psycopg(conn).execute(stale, prepare=True)
    with own_engine.connect() as conn:
        assert as_psycopg(conn).execute(stale, prepare=True).fetchall() == [(1, 2)]

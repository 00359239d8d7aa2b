"""shared.database.one_autocommit_connection: a block's autocommit statements share one pooled
connection (the gateway opens one per request), each still committed on its own."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import Engine

from shared.database import autocommit_connection, make_engine, one_autocommit_connection

pytestmark = pytest.mark.integration


@pytest.fixture
def own_engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url, pool_size=2)
    yield engine
    engine.dispose()


def backend(engine: Engine) -> int:
    with autocommit_connection(engine) as pg:
        row = pg.execute("SELECT pg_backend_pid()").fetchone()
        assert row is not None and pg.autocommit
        return int(row[0])


def test_a_block_checks_out_one_connection_and_returns_it(own_engine: Engine):
    pool = own_engine.pool
    with one_autocommit_connection():
        assert pool.checkedout() == 0  # nothing until asked
        first = backend(own_engine)
        assert pool.checkedout() == 1
        with autocommit_connection(own_engine) as pg:
            pg.execute("CREATE TEMP TABLE IF NOT EXISTS held (x int)")
            assert backend(own_engine) == first  # nested: the same one
        with one_autocommit_connection():  # a nested block changes nothing
            assert backend(own_engine) == first
        assert pool.checkedout() == 1
    assert pool.checkedout() == 0
    with own_engine.connect() as conn:  # back in the pool in its usual mode
        assert conn.connection.driver_connection.autocommit is False


def test_each_statement_commits_on_its_own_and_other_threads_take_their_own(
    own_engine: Engine,
):
    seen: dict[str, int] = {}
    with one_autocommit_connection():
        mine = backend(own_engine)
        with autocommit_connection(own_engine) as pg:
            pg.execute("CREATE TEMP TABLE IF NOT EXISTS held (x int)")
        thread = threading.Thread(target=lambda: seen.setdefault("other", backend(own_engine)))
        thread.start()
        thread.join(10)
        with autocommit_connection(own_engine) as pg:
            pg.execute("INSERT INTO held VALUES (1)")
            assert pg.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    assert seen["other"] != mine


def test_a_connection_the_server_dropped_is_replaced_within_the_block(own_engine: Engine):
    with one_autocommit_connection():
        first = backend(own_engine)
        with autocommit_connection(own_engine) as pg:
            killer = psycopg.connect(pg.info.dsn, autocommit=True)
        with killer:
            killer.execute("SELECT pg_terminate_backend(%s)", (first,))
        with pytest.raises(psycopg.OperationalError):
            backend(own_engine)
        assert backend(own_engine) != first  # a new one, not the dead one again
    assert own_engine.pool.checkedout() == 0

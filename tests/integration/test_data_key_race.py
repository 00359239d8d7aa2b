"""A subject's data key created by two transactions at once: both get the one stored key
(``KeyRing.data_key_for_write`` inserts and reads it in one statement, and reads again when
another transaction committed it after that statement's snapshot). A stored key is read
without making a new one; a key made outside a transaction is cached at once."""

from __future__ import annotations

import threading
import uuid

import pytest
from sqlalchemy import Engine

from shared.database import autocommit_connection
from shared.eventlog import KeyRing, SubjectErased

pytestmark = pytest.mark.integration

PLAINTEXT = b"ada@race.test"


def test_two_transactions_creating_one_key_share_it(engine: Engine, master_key: str):
    subject, tenant = uuid.uuid4(), uuid.uuid4()
    first, second = KeyRing([master_key]), KeyRing([master_key])
    started = threading.Event()
    found: dict[str, bytes] = {}

    def racing() -> None:  # blocks on the first transaction's uncommitted key
        with engine.begin() as conn:
            started.set()
            key = second.data_key_for_write(conn, tenant, subject)
            found["second"] = key.encrypt(b"\0" * 12, PLAINTEXT, None)

    with engine.begin() as conn:
        mine = first.data_key_for_write(conn, tenant, subject)
        thread = threading.Thread(target=racing)
        thread.start()
        started.wait(10)
        # The second transaction's INSERT waits for this one's row: let it reach the wait.
        with engine.connect() as probe:
            for _ in range(500):
                waiting = probe.exec_driver_sql(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND query LIKE '%%INSERT INTO data_keys%%'"
                ).scalar_one()
                if waiting:
                    break
                probe.rollback()
                threading.Event().wait(0.01)
    thread.join(10)
    assert not thread.is_alive()
    assert mine.decrypt(b"\0" * 12, found["second"], None) == PLAINTEXT


def test_an_erased_subject_gets_no_new_key(engine: Engine, master_key: str):
    subject, tenant = uuid.uuid4(), uuid.uuid4()
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO data_keys (subject_id, tenant_id, wrapped_key, erased_at) "
            "VALUES (%s, %s, NULL, now())",
            (subject, tenant),
        )
    with engine.begin() as conn, pytest.raises(SubjectErased):
        KeyRing([master_key]).data_key_for_write(conn, tenant, subject)


def test_a_stored_key_is_read_without_making_a_new_one(engine: Engine, master_key: str):
    subject, tenant = uuid.uuid4(), uuid.uuid4()
    with engine.begin() as conn:
        first = KeyRing([master_key]).data_key_for_write(conn, tenant, subject)
    ring = KeyRing([master_key])
    made: list[bytes] = []
    encrypt = ring.master.encrypt

    def counted(msg: bytes) -> bytes:
        made.append(msg)
        return encrypt(msg)

    ring.master.encrypt = counted  # type: ignore[method-assign]
    with engine.begin() as conn:
        again = ring.data_key_for_write(conn, tenant, subject)
    assert made == []  # no new key encrypted for a subject whose key is stored
    assert again.decrypt(b"\0" * 12, first.encrypt(b"\0" * 12, PLAINTEXT, None), None) == PLAINTEXT


def test_a_key_made_outside_a_transaction_is_cached_at_once(engine: Engine, master_key: str):
    tenant = uuid.uuid4()
    committed, in_transaction = uuid.uuid4(), uuid.uuid4()
    ring = KeyRing([master_key])
    with autocommit_connection(engine) as pg:  # the statement commits the new key
        key = ring.data_key_for_write(pg, tenant, committed)
    with engine.connect() as conn:  # no database needed for a cached key
        conn.close()
        assert ring.data_key_for_write(conn, tenant, committed) is key
    with engine.begin() as conn:  # the transaction may still roll back: not cached
        ring.data_key_for_write(conn, tenant, in_transaction)
        conn.rollback()
    with engine.begin() as conn:
        stored = conn.exec_driver_sql(
            "SELECT count(*) FROM data_keys WHERE subject_id = %s", (in_transaction,)
        ).scalar_one()
        assert stored == 0
        ring.data_key_for_write(conn, tenant, in_transaction)  # made again, not from the cache
        assert (
            conn.exec_driver_sql(
                "SELECT count(*) FROM data_keys WHERE subject_id = %s", (in_transaction,)
            ).scalar_one()
            == 1
        )

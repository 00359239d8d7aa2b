"""A subject's data key created by two transactions at once: both get the one stored key
(``KeyRing.data_key_for_write`` inserts and reads it in one statement, and reads again when
another transaction committed it after that statement's snapshot)."""

from __future__ import annotations

import threading
import uuid

import pytest
from sqlalchemy import Engine

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

"""Two rebuilds of one projection at once: two erasures in a row send two rebuilds, and two
worker threads (or processes) take them together. Both used to build generation g+1 in the
same physical tables, one dropping what the other filled or its keys; a generation went live
without its primary keys, and every later invitation failed catch-up's ``ON CONFLICT`` and
quarantined its tenant (found by tests/scaling/test_worker_processes.py). Now the second
waits for the first to switch (shared/projections/rebuild.py, ``one_rebuild_at_a_time``).
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text

from shared.eventlog import EventStore
from shared.projections import runtime
from shared.projections.levers import LeversProjection
from shared.projections.quarantine import quarantined
from shared.projections.tables import physical
from tests.conftest import make_org

pytestmark = pytest.mark.integration


def generation(store: EventStore) -> int:
    with store.engine.connect() as conn:
        return int(
            conn.execute(text("SELECT generation FROM projections WHERE name = 'levers'")).one()[0]
        )


def keyed_tables(store: EventStore) -> dict[str, bool]:
    """Each levers table declaring a primary key -> whether its live table has one."""
    live = generation(store)
    with store.engine.connect() as conn:
        return {
            base: conn.execute(
                text(
                    "SELECT count(*) FROM pg_constraint "
                    "WHERE conrelid = CAST(:t AS regclass) AND contype = 'p'"
                ),
                {"t": physical(base, live)},
            ).scalar_one()
            == 1
            for base, columns in LeversProjection.tables.items()
            if "PRIMARY KEY" in columns
        }


def test_two_rebuilds_of_one_projection_at_once_take_turns(store: EventStore) -> None:
    org = make_org(store, people_per_team=2)
    rt = runtime(store)
    rt.ensure()
    rt.catch_up("levers")
    before = generation(store)
    start, errors = threading.Barrier(2), []

    def rebuild() -> None:
        start.wait()
        try:
            runtime(store).rebuild("levers")
        except Exception as err:  # reported below, with the other thread's
            errors.append(err)

    threads = [threading.Thread(target=rebuild) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors, errors
    assert generation(store) == before + 2  # both ran, one after the other
    keys = keyed_tables(store)
    assert keys and all(keys.values()), keys

    # Catch-up goes on as before: a new organisation's invitations reach the read model.
    newcomer = make_org(store, people_per_team=2)
    rt.catch_up("levers")
    with store.engine.connect() as conn:
        assert not quarantined(conn, org.tenant_id)
        assert not quarantined(conn, newcomer.tenant_id)
        people = conn.execute(
            text("SELECT count(*) FROM lever_people WHERE tenant_id = :t"),
            {"t": newcomer.tenant_id},
        ).scalar_one()
    assert people == len(newcomer.people)

"""Two rebuilds of one projection at once: two erasures in a row send two rebuilds, and two
worker threads (or processes) take them together. Both used to build generation g+1 in the
same physical tables, one dropping what the other filled or its keys; a generation went live
without its primary keys, and every later invitation failed catch-up's ``ON CONFLICT`` and
quarantined its tenant (found by tests/scaling/test_worker_processes.py). Now the second
waits for the first to switch (shared/projections/rebuild.py, ``one_rebuild_at_a_time``).
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from dramatiq import Message
from sqlalchemy import text

from shared.eventlog import EventStore
from shared.projections import runtime
from shared.projections.levers import LeversProjection
from shared.projections.quarantine import quarantined
from shared.projections.rebuild import wanted_generation
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


def test_requests_made_before_a_rebuild_starts_share_it(store: EventStore) -> None:
    """Erasures in a row each send a rebuild; those asked before one starts are all answered
    by it (shared/projections/rebuild.py, ``wanted``): one rebuild, not one each."""
    make_org(store, people_per_team=2)
    rt = runtime(store)
    rt.ensure()
    before = generation(store)
    with store.engine.connect() as conn:
        wanted = [wanted_generation(conn, "levers") for _ in range(3)]
    assert wanted == [before + 1] * 3
    start, errors = threading.Barrier(3), list[Exception]()

    def rebuild(want: int) -> None:
        start.wait()
        try:
            runtime(store).rebuild("levers", wanted=want)
        except Exception as err:  # reported below
            errors.append(err)

    threads = [threading.Thread(target=rebuild, args=(w,)) for w in wanted]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors, errors
    assert generation(store) == before + 1
    assert runtime(store).rebuild("levers", wanted=before + 1) == before + 1  # nothing to do
    assert generation(store) == before + 1


def test_a_request_made_while_a_rebuild_runs_gets_a_rebuild_of_its_own(
    store: EventStore,
) -> None:
    """The running rebuild may have read the log before the request's cause (an erasure)
    was appended: the request waits for it, then rebuilds again."""
    make_org(store, people_per_team=2)
    rt = runtime(store)
    rt.ensure()
    before = generation(store)
    reading, resume = threading.Event(), threading.Event()
    live: dict[str, int] = {}
    errors: list[Exception] = []

    def paused(done: int, head: int) -> None:
        reading.set()
        resume.wait(timeout=120)

    def rebuild(which: str, **options: Any) -> None:
        try:
            live[which] = runtime(store).rebuild("levers", **options)
        except Exception as err:  # reported below
            errors.append(err)

    running = threading.Thread(target=rebuild, args=("first",), kwargs={"progress": paused})
    running.start()
    assert reading.wait(timeout=120), "the first rebuild never began its pass"
    with store.engine.connect() as conn:
        wanted = wanted_generation(conn, "levers")
    assert wanted == before + 2
    second = threading.Thread(target=rebuild, args=("second",), kwargs={"wanted": wanted})
    second.start()
    resume.set()
    running.join(timeout=300)
    second.join(timeout=300)
    assert not errors, errors
    assert live == {"first": before + 1, "second": before + 2}
    assert generation(store) == before + 2


def test_an_erasure_asks_each_behaviour_projection_for_the_generation_after_the_live_one(
    store: EventStore,
) -> None:
    """What the gateway sends after an erasure (services/gateway/resources.py): one rebuild
    message per projection that reads behaviour, each naming the generation that answers
    it."""
    from functools import partial

    from dramatiq.brokers.stub import StubBroker

    from shared.wakeups import CATCH_UP_QUEUE, REBUILD_ACTOR, send_rebuilds_after_erasure

    runtime(store).ensure()
    broker = StubBroker()
    broker.declare_queue(CATCH_UP_QUEUE)
    with store.engine.connect() as conn:
        names = send_rebuilds_after_erasure(partial(wanted_generation, conn), broker)
        live: dict[str, int] = dict(
            conn.execute(text("SELECT name, generation FROM projections")).all()
        )
    sent = [m for m in broker.queues[CATCH_UP_QUEUE].queue if m is not None]
    messages = [Message.decode(m) for m in sent]
    assert {"capital", "levers"} <= set(names)
    assert sorted((m.actor_name, *m.args) for m in messages) == sorted(
        (REBUILD_ACTOR, name, live[name] + 1) for name in names
    )

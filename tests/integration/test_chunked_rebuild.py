"""A rebuild folds the log a chunk of people at a time (shared/projections/chunked.py) on real
PostgreSQL: what it reports on the way, and an id reused across organisations."""

from __future__ import annotations

import gc
import logging
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from shared.database import as_psycopg
from shared.eventlog import EventStore, NewEvent
from shared.projections import runtime
from shared.projections.bulk import drop_keys, restore_keys
from tests.databases import fresh_store
from tests.integration.levers_world import at, make_world

pytestmark = pytest.mark.integration


def test_progress_rises_to_the_head_chunk_by_chunk(store: EventStore) -> None:
    world = make_world(store, {"A": None})
    for person in world.hire("A", 6):
        world.act(person, 1)
    rt = runtime(store)
    rt.chunk_events = 2
    seen: list[tuple[int, int]] = []

    rt.rebuild("capital", progress=lambda done, head: seen.append((done, head)))

    head = store.head()
    assert len(seen) > 2, "several chunks, each reported"
    dones = [done for done, _ in seen]
    assert dones == sorted(dones) and dones[-1] == head
    assert all(h <= head for _, h in seen)


@pytest.fixture
def own_store(postgres_server_url: str, master_key: str) -> Iterator[EventStore]:
    """A database of this test's own: the reused id must not reach other tests' rebuilds."""
    with fresh_store(postgres_server_url, master_key, "compound_chunked") as store:
        yield store


def test_an_action_id_reused_by_another_organisation_does_not_stop_a_rebuild(
    own_store: EventStore, caplog: pytest.LogCaptureFixture
) -> None:
    """Two organisations' imports name the same action id (client-chosen ids): catch-up keeps
    the first appended; a rebuild in chunks meets both rows in different chunks, says so and
    rebuilds the projection again in log order: the same rows as catch-up, not a failure."""
    store = own_store
    first, second = make_world(store, {"A": None}), make_world(store, {"B": None})
    (anna,) = first.hire("A", 1)
    (bob,) = second.hire("B", 1)
    shared_id = str(uuid.uuid4())
    for world, person in ((first, anna), (second, bob)):
        data = {"action_id": shared_id, "person_id": str(person), "tactic": "learning_bit",
                "minutes": 10, "audience": "team", "note": None}  # fmt: skip
        world.write(f"journal-{person}", NewEvent("MicroActionLogged", data, at(1)))
    rt = runtime(store)
    rt.catch_up("levers")
    caught_up = _rows(store, "lever_actions")
    rt.chunk_events = 1  # every person a chunk of their own

    with caplog.at_level(logging.WARNING, logger="shared.projections.bulk"):
        rt.rebuild("levers")

    with store.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT count(*) FROM lever_actions WHERE action_id = :a"), {"a": shared_id}
        ).scalar_one()
        status = conn.execute(
            text("SELECT status FROM projections WHERE name = 'levers'")
        ).scalar_one()
    assert rows == 1
    assert status == "live"
    assert _rows(store, "lever_actions") == caught_up
    assert any("lever_actions" in r.getMessage() for r in caplog.records)  # said, not hidden


def _rows(store: EventStore, table: str) -> list[tuple[object, ...]]:
    with store.engine.connect() as conn:
        return sorted(map(tuple, conn.execute(text(f"SELECT * FROM {table}"))), key=str)


def test_another_persons_action_id_names_nothing_of_theirs(own_store: EventStore) -> None:
    """An action is its person's own: another organisation's outcome naming its id (imports
    carry client-chosen ids) does not take its tactic, nor does their retraction undo it.
    Catch-up and a rebuild in chunks agree, in capital and in levers."""
    store = own_store
    first, second = make_world(store, {"A": None}), make_world(store, {"B": None})
    (anna,) = first.hire("A", 1)
    (bob,) = second.hire("B", 1)
    action = first.act(anna, 1, tactic="prototype_first")
    outcome = {"outcome_id": str(uuid.uuid4()), "person_id": str(bob), "kind": "recognition",
               "action_id": action, "note": None}  # fmt: skip
    retraction = {"action_id": action, "person_id": str(bob), "tactic": "prototype_first",
                  "minutes": 10, "audience": "team"}  # fmt: skip
    second.write(
        f"journal-{bob}",
        NewEvent("OutcomeRecorded", outcome, at(1, 2)),
        NewEvent("MicroActionRetracted", retraction, at(1, 3)),
    )
    rt = runtime(store)
    rt.batch = 1
    rt.catch_up("capital")
    rt.catch_up("levers")
    tables = ("capital_contributions", "capital_pending_links", "lever_actions")
    caught_up = {table: _rows(store, table) for table in tables}

    with store.engine.connect() as conn:
        credited = conn.execute(
            text("SELECT kind, tactic FROM capital_contributions WHERE person_id = :p"),
            {"p": bob},
        ).all()
        retracted = conn.execute(
            text("SELECT retracted FROM lever_actions WHERE action_id = :a"), {"a": action}
        ).scalar_one()
    assert credited == [("outcome", None)]  # awaits an action of Bob's that never comes
    assert retracted is False
    assert any(row[2] == anna for row in caught_up["capital_contributions"])

    rt.chunk_events = 1
    rt.rebuild_many(["capital", "levers"])
    assert {table: _rows(store, table) for table in tables} == caught_up


def test_ids_of_another_persons_events_rebuild_as_catch_up_applied_them(
    own_store: EventStore, caplog: pytest.LogCaptureFixture
) -> None:
    """Bob answers Anna's request and ends Anna's experiment (events no command writes, an
    import can): what they do depends on the order of two people's events, which chunks of
    people do not see; such projections are rebuilt again in log order and hold catch-up's
    rows (levers: Bob's answer judged by Anna's request; experiments and the feedback loop:
    one row per id, both sides)."""
    store = own_store
    world = make_world(store, {"A": None})
    anna, bob = world.hire("A", 2)
    request, experiment = str(uuid.uuid4()), str(uuid.uuid4())
    asked = {"request_id": request, "person_id": str(anna), "action_id": None,
             "question": "Clear?", "expires_at": at(3).isoformat()}  # fmt: skip
    started = {"experiment_id": experiment, "person_id": str(anna), "tactic": "learning_bit",
               "starts_on": at(1).date().isoformat(), "weeks": 2}  # fmt: skip
    world.write(
        f"journal-{anna}",
        NewEvent("FeedbackRequested", asked, at(1)),
        NewEvent("ExperimentStarted", started, at(1)),
    )
    answer = {"request_id": request, "person_id": str(bob), "useful": True, "comment": None}
    ended = {"experiment_id": experiment, "person_id": str(bob), "reflection": None}
    world.write(
        f"journal-{bob}",
        NewEvent("FeedbackGiven", answer, at(1, 3)),
        NewEvent("ExperimentEnded", ended, at(2)),
    )
    names = ["experiments", "feedback_loop", "levers"]
    tables = ["experiments", "feedback_requests", "lever_person_weeks"]
    rt = runtime(store)
    rt.batch = 1
    for name in names:
        rt.catch_up(name)
    caught_up = {table: _rows(store, table) for table in tables}
    with store.engine.connect() as conn:
        output_only = conn.execute(
            text("SELECT sum(output_only) FROM lever_person_weeks WHERE person_id = :p"),
            {"p": bob},
        ).scalar_one()
    assert output_only == 1  # judged by Anna's request, stored before Bob's answer

    rt.chunk_events = 1
    with caplog.at_level(logging.WARNING, logger="shared.projections.bulk"):
        rt.rebuild_many(names)

    assert {table: _rows(store, table) for table in tables} == caught_up
    assert any("experiments" in r.getMessage() for r in caplog.records)


def test_the_collector_stays_off_between_chunks(store: EventStore) -> None:
    """The cyclic collector is paused for the whole pass, not chunk by chunk: a collection
    between two chunks would scan every object the chunks allocated (shared/gc_pause.py)."""
    world = make_world(store, {"A": None})
    for person in world.hire("A", 4):
        world.act(person, 1)
    rt = runtime(store)
    rt.chunk_events = 1
    enabled_between: list[bool] = []
    read_chunks = store.read_person_chunks

    def watched(*args: object, **kwargs: object) -> Iterator[object]:
        for chunk in read_chunks(*args, **kwargs):  # type: ignore[arg-type]
            enabled_between.append(gc.isenabled())  # the fold has the chunk, not yet folded
            yield chunk

    store.read_person_chunks = watched  # type: ignore[method-assign,assignment]
    try:
        assert gc.isenabled()
        rt.rebuild("capital")
    finally:
        del store.read_person_chunks
    assert len(enabled_between) > 2
    assert not any(enabled_between)
    assert gc.isenabled(), "resumed when the pass ends"


def test_every_key_is_dropped_while_a_rebuild_loads_and_built_after(store: EventStore) -> None:
    """A rebuild's fresh tables load without keys or indexes (one sort of the loaded rows
    after the load is cheaper than a b-tree insertion per row; keeping the ``person_id``
    ones, which take rows in chunk order, was measured slower on a quiet machine)."""
    name = f"keys_{uuid.uuid4().hex[:8]}"
    tables = {"a": f"{name}_a", "b": f"{name}_b"}
    with store.engine.begin() as conn:
        conn.execute(text(f"CREATE TABLE {name}_a (person_id uuid, week int, ref uuid, "
                          "PRIMARY KEY (person_id, week))"))  # fmt: skip
        conn.execute(text(f"CREATE TABLE {name}_b (ref uuid PRIMARY KEY, person_id uuid)"))
        conn.execute(text(f"CREATE INDEX {name}_a_i0 ON {name}_a (ref)"))
        conn.execute(text(f"CREATE INDEX {name}_b_i0 ON {name}_b (person_id, ref)"))
        pg = as_psycopg(conn)
        indexes = {"a": ["ref"], "b": ["person_id, ref"]}
        dropped = drop_keys(pg, tables, indexes)

        def present() -> set[str]:
            rows = conn.execute(
                text("SELECT indexname FROM pg_indexes WHERE tablename LIKE :n"),
                {"n": f"{name}%"},
            )
            return {row[0] for row in rows}

        assert present() == set()
        assert [(t, i) for t, i, _ in dropped.secondary] == [(f"{name}_a", 0), (f"{name}_b", 0)]
        assert [t for t, _, _ in dropped.primary] == [f"{name}_a", f"{name}_b"]
        restore_keys(pg, dropped)
        assert present() == {f"{name}_a_pkey", f"{name}_a_i0", f"{name}_b_pkey", f"{name}_b_i0"}
        for table in tables.values():
            conn.execute(text(f"DROP TABLE {table}"))

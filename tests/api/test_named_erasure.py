"""Erasure leaves no one linkable (issue #17, attack 7, the named ids and the old events).

Before: the id of the person an item names (``counterpart_id``, ``confirmer_id``,
``colleague_id``) stayed in plain JSON beside the owner's id, so a dump after an erasure still
said who worked with whom; and events written before behaviour was sealed kept all of it in
plain JSON. Now the named ids are sealed with the owner's behaviour, and ``compound events
reseal`` seals (or, for the erased, drops) what old events hold in plaintext.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from flask.testing import FlaskClient
from sqlalchemy import text

from shared.eventlog import AppendContext, EventStore, NewEvent
from shared.eventlog.named_items import find_named
from shared.eventlog.resealing import reseal
from shared.eventlog.sealing import week_monday
from shared.projections import PROJECTIONS, runtime
from shared.projections.capital.reads import contributions_until
from tests.api.conftest import Person
from tests.api.test_behaviour_erasure import lines_naming, stored
from tests.integration.test_crypto_shredding import dump_database

pytestmark = pytest.mark.integration

AT = datetime(2026, 11, 25, 10, 3, 7, tzinfo=UTC)


def named_action(person: uuid.UUID, counterpart: uuid.UUID) -> NewEvent:
    data = {
        "action_id": str(uuid.uuid4()),
        "person_id": str(person),
        "tactic": "relationship_deposit",
        "minutes": 23,
        "audience": "team",
        "counterpart_id": str(counterpart),
    }
    return NewEvent("MicroActionLogged", data, AT)


def test_a_named_id_is_sealed_and_the_item_still_found_by_its_id(
    store: EventStore, tenant: uuid.UUID
):
    ada, bob = uuid.uuid4(), uuid.uuid4()
    event = named_action(ada, bob)
    store.append(tenant, f"journal-{ada}", 0, [event])
    [(data, _, _)] = stored(store, f"journal-{ada}")
    assert str(bob) not in json.dumps(data)  # the raw leak before: bob's id beside ada's
    assert "counterpart_id" in data and data["counterpart_id"] is None  # for 0018's index
    with store.engine.connect() as conn:
        found = find_named(
            store, conn, tenant, "MicroActionLogged", uuid.UUID(event.data["action_id"])
        )
    assert found is not None and found.data["counterpart_id"] == str(bob)


def write_as_before_sealing(store: EventStore, tenant: uuid.UUID, event: NewEvent) -> int:
    """Append ``event``, then put its row back as a release before sealing wrote it."""
    person = event.data["person_id"]
    result = store.append(tenant, f"journal-{person}", None, [event])
    [position] = result.positions
    with store.engine.begin() as conn:
        conn.execute(text("ALTER TABLE events DISABLE TRIGGER events_no_update_delete"))
        conn.execute(
            text(
                "UPDATE events SET data = CAST(:d AS jsonb), occurred_at = :at, seal = NULL "
                "WHERE position = :p"
            ),
            {"d": orjson.dumps(event.data).decode(), "at": event.occurred_at, "p": position},
        )
        conn.execute(text("ALTER TABLE events ENABLE TRIGGER events_no_update_delete"))
    return position


def row(store: EventStore, position: int) -> tuple[dict[str, Any], datetime]:
    with store.engine.connect() as conn:
        found = conn.execute(
            text("SELECT data, occurred_at FROM events WHERE position = :p"), {"p": position}
        ).one()
    return dict(found.data), found.occurred_at


def test_reseal_seals_old_events_and_drops_those_of_the_erased(
    store: EventStore, tenant: uuid.UUID
):
    ada, bob, gone = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    kept = write_as_before_sealing(store, tenant, named_action(ada, bob))
    erased = write_as_before_sealing(store, tenant, named_action(gone, ada))
    sealed_only = named_action(bob, gone)  # sealed, with the named id still plain
    store.append(tenant, f"journal-{bob}", None, [sealed_only])
    with store.engine.connect() as conn:
        [half] = conn.execute(
            text("SELECT position FROM events WHERE stream_id = :s"), {"s": f"journal-{bob}"}
        ).scalars()
    data, _ = row(store, half)
    data["counterpart_id"] = str(gone)
    with store.engine.begin() as conn:
        conn.execute(text("ALTER TABLE events DISABLE TRIGGER events_no_update_delete"))
        conn.execute(
            text("UPDATE events SET data = CAST(:d AS jsonb) WHERE position = :p"),
            {"d": orjson.dumps(data).decode(), "p": half},
        )
        conn.execute(text("ALTER TABLE events ENABLE TRIGGER events_no_update_delete"))
    with store.engine.begin() as conn:
        store.keyring.erase(conn, tenant, gone)
    before = [json.dumps(row(store, p)[0]) for p in (kept, erased, half)]
    assert str(bob) in before[0] and "relationship_deposit" in before[0]  # the raw leak
    assert str(ada) in before[1] and str(gone) in before[2]

    report = reseal(store.engine, store.keyring, page=2)

    assert (report.sealed, report.named, report.dropped) == (1, 1, 1)
    for position, absent in ((kept, bob), (erased, ada), (half, gone)):
        data, occurred_at = row(store, position)
        assert str(absent) not in json.dumps(data) and "relationship_deposit" not in json.dumps(
            data
        )
        assert occurred_at == week_monday(AT)
    [ada_read] = store.read_stream(f"journal-{ada}")
    assert not ada_read.erased and ada_read.occurred_at == AT
    assert ada_read.data["counterpart_id"] == str(bob) and ada_read.data["minutes"] == 23
    [bob_read] = store.read_stream(f"journal-{bob}")
    assert bob_read.data["counterpart_id"] == str(gone) and bob_read.occurred_at == AT
    [gone_read] = store.read_stream(f"journal-{gone}")
    assert gone_read.erased and "tactic" not in gone_read.data
    assert reseal(store.engine, store.keyring).sealed == 0  # once: nothing left to do
    with store.engine.begin() as conn, pytest.raises(Exception, match="append-only"):
        conn.execute(text("DELETE FROM events WHERE position = :p"), {"p": kept})


def test_after_an_erasure_no_dump_line_links_the_erased_to_a_colleague(
    client: FlaskClient,
    store: EventStore,
    new_person: Callable[..., Person],
    embedded_bin_dir: Path,
):
    me, colleague = new_person(), new_person()
    for author, other in ((me, colleague), (colleague, me)):
        logged = client.post(
            "/api/v1/actions",
            headers=author.headers,
            json={
                "tactic": "relationship_deposit",
                "minutes": 23,
                "audience": "team",
                "counterpart": str(other.id),
            },
        )
        assert logged.status_code == 201, logged.get_json()
    rt = runtime(store)
    for projection in PROJECTIONS:
        rt.catch_up(projection.name)

    erased = client.delete(f"/api/v1/people/{me.id}", headers=me.headers)
    assert erased.status_code in (200, 204), erased.get_data(as_text=True)
    for projection in PROJECTIONS:
        rt.catch_up(projection.name)
        rt.rebuild(projection.name)

    dump = dump_database(store.engine, embedded_bin_dir)
    linked = [line for line in lines_naming(dump, me.id) if str(colleague.id) in line]
    assert not linked  # neither my action naming them nor theirs naming me
    events = [line for line in lines_naming(dump, me.id) if "MicroActionLogged" in line]
    assert events and not [line for line in events if "relationship_deposit" in line]


def test_an_action_after_its_counterparts_erasure_keeps_no_counterpart_in_catch_up_or_rebuild(
    store: EventStore, tenant: uuid.UUID
):
    """A rebuild forgets every erased counterpart at its end, whenever the action came;
    catch-up must do the same for an action appended after the erasure (the contract suite
    found the two apart)."""
    ada, gone = uuid.uuid4(), uuid.uuid4()
    rt = runtime(store)
    store.append(tenant, f"journal-{gone}", 0, [named_action(gone, ada)])
    store.erase(tenant, gone, AppendContext())
    rt.catch_up("capital")  # the erasure in a batch of its own, before the action
    store.append(tenant, f"journal-{ada}", 0, [named_action(ada, gone)])
    rt.catch_up("capital")

    def counterparts() -> list[Any]:
        with store.engine.connect() as conn:
            return [r.counterpart_id for r in contributions_until(conn, tenant, ada, 10**6)]

    assert counterparts() == [None]
    rt.rebuild("capital")
    assert counterparts() == [None]

"""Erasure shreds behaviour too (issue #17, attack 7).

Before: after "erase me" a person's meetings (start, end, with_manager), actions (tactic,
minutes, audience, time) and per-week rows stayed in plain JSON under their id. Now behaviour
fields and the exact time are sealed per event with the person's data key
(shared/eventlog/sealing.py); after the key is shredded the events read as erased, projections
skip them, and the rebuilds the erasure sends leave the read models nothing of it.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from cryptography.exceptions import InvalidTag
from flask.testing import FlaskClient
from sqlalchemy import text

from shared.eventlog import AppendContext, EventStore, NewEvent, StreamAppend
from shared.eventlog.sealing import open_behaviour, week_monday
from shared.projections import PROJECTIONS, runtime
from tests.api.conftest import Person
from tests.integration.test_crypto_shredding import dump_database

pytestmark = pytest.mark.integration

TACTIC = "prototype_first"  # the action's tactic: what the dump must not show by the person
ZONE = "Pacific/Chatham"  # a zone no one else in the tests works in


def action(person: uuid.UUID, minutes: int = 37) -> NewEvent:
    at = datetime(2026, 11, 25, 10, 3, 7, tzinfo=timezone(timedelta(hours=2)))
    return NewEvent(
        "MicroActionLogged",
        {
            "action_id": str(uuid.uuid4()),
            "person_id": str(person),
            "tactic": TACTIC,
            "minutes": minutes,
            "audience": "decision_makers",
            "note": None,
        },
        at,
    )


def stored(store: EventStore, stream: str) -> list[tuple[dict[str, Any], datetime, bytes]]:
    with store.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT data, occurred_at, seal FROM events WHERE stream_id = :s ORDER BY version"
            ),
            {"s": stream},
        ).all()
    return [(dict(r.data), r.occurred_at, r.seal) for r in rows]


@pytest.mark.parametrize("path", ["append", "append_batch"])
def test_behaviour_is_stored_sealed_and_read_back_whole(
    store: EventStore, tenant: uuid.UUID, path: str
):
    person = uuid.uuid4()
    event = action(person)
    stream = f"journal-{person}"
    if path == "append":
        store.append(tenant, stream, 0, [event])
    else:
        store.append_batch(tenant, [StreamAppend(stream, [event], 0)])
    [(data, occurred_at, seal)] = stored(store, stream)
    kept = {k for k, v in data.items() if v is not None}
    assert kept == {"action_id", "person_id"}  # ids only (no note given); the seal beside
    assert seal[:1] == b"\x02" and len(seal) > 13 + 16 and TACTIC not in json.dumps(data)
    assert TACTIC.encode() not in seal
    assert occurred_at == week_monday(event.occurred_at)  # the column keeps the week only
    assert event.occurred_at is not None and occurred_at != event.occurred_at
    [read] = store.read_stream(stream)
    assert not read.erased and read.occurred_at == event.occurred_at
    assert {k: read.data[k] for k in ("tactic", "minutes", "audience")} == {
        "tactic": TACTIC,
        "minutes": 37,
        "audience": "decision_makers",
    }


def test_an_idempotent_retry_of_sealed_behaviour_writes_nothing(
    store: EventStore, tenant: uuid.UUID
):
    person = uuid.uuid4()
    event, context = action(person), AppendContext(actor=str(person), idempotency_key="k1")
    first = store.append(tenant, f"journal-{person}", None, [event], context)
    again = store.append(tenant, f"journal-{person}", None, [event], context)
    assert again.replayed and again.positions == first.positions


def test_a_seal_cannot_be_moved_to_another_person(store: EventStore, tenant: uuid.UUID):
    ada, bob = uuid.uuid4(), uuid.uuid4()
    store.append(tenant, f"journal-{ada}", 0, [action(ada)])
    store.append(tenant, f"journal-{bob}", 0, [action(bob)])
    [(_, _, ada_seal)] = stored(store, f"journal-{ada}")
    with store.engine.connect() as conn:
        key = store.keyring.data_keys_for_read(conn, [bob])[bob]
    with pytest.raises(InvalidTag):  # bob's key, bob's id: ada's seal does not open
        open_behaviour(key, bob.bytes, ada_seal, {})
    with store.engine.connect() as conn:
        key = store.keyring.data_keys_for_read(conn, [ada])[ada]
    assert open_behaviour(key, ada.bytes, ada_seal, {}) is not None


# A timestamp in a dump line; "17:07:13.03" must not read as the working hours "07:13".
_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:\.\d+)?(?:[+-]\d\d(?::\d\d)?)?")


def lines_naming(dump: str, person: uuid.UUID, keep_day: str = "2026-11-24") -> list[str]:
    """The dump's lines naming the person, each without its timestamps of other days than
    keep_day (the meeting's day: a timestamp of that day may be the meeting itself). The
    others are when tokens and rows were written, whose digits may spell any time of day."""
    return [
        _TIMESTAMP.sub(lambda m: m[0] if m[0].startswith(keep_day) else "<when>", line)
        for line in dump.splitlines()
        if str(person) in line
    ]


def test_lines_naming_drops_only_other_days_timestamps():
    person = uuid.uuid4()
    dump = f"{person}\t2026-12-07 17:07:13.032988+00\t2026-11-24 06:17:00+00\t07:13\nother 07:13"
    assert lines_naming(dump, person) == [f"{person}\t<when>\t2026-11-24 06:17:00+00\t07:13"]


def test_erasure_leaves_no_behaviour_in_a_full_dump(
    client: FlaskClient,
    store: EventStore,
    new_person: Callable[..., Person],
    embedded_bin_dir: Path,
):
    me = new_person()
    headers = me.headers
    week = datetime.now(UTC).isocalendar()
    logged = client.post(
        "/api/v1/actions",
        headers=headers,
        json={"tactic": TACTIC, "minutes": 37, "audience": "decision_makers"},
    )
    assert logged.status_code == 201
    planned = client.post(
        f"/api/v1/plans/{week.year}-W{week.week:02d}",
        headers=headers,
        json={"actions": [{"tactic": TACTIC}]},
    )
    assert planned.status_code == 201, planned.get_json()
    hours = client.put(
        "/api/v1/me/working-hours",
        headers=headers,
        json={"start": "07:13", "end": "15:47", "working_days": ["mon"], "time_zone": ZONE},
    )
    assert hours.status_code == 200, hours.get_json()
    assert client.get("/api/v1/me/working-hours", headers=headers).get_json()["time_zone"] == ZONE
    start = datetime(2026, 11, 24, 6, 17, tzinfo=UTC)
    meeting = {
        "person_id": str(me.id),
        "connection_id": str(uuid.uuid4()),
        "meeting_key": "m-1",
        "start": start.isoformat(),
        "end": (start + timedelta(minutes=43)).isoformat(),
        "attendee_count": 2,
        "one_on_one": True,
        "with_manager": True,
        "organizer_is_self": False,
        "response_status": "accepted",
        "recurring": False,
    }
    store.append(
        me.tenant_id, f"calendar-{me.id}", None, [NewEvent("MeetingObserved", meeting, start)]
    )
    rt = runtime(store)
    for projection in PROJECTIONS:
        rt.catch_up(projection.name)
    before = "\n".join(lines_naming(dump_database(store.engine, embedded_bin_dir), me.id))
    assert TACTIC in before  # the raw leak: read models hold the person's behaviour by id

    erased = client.delete(f"/api/v1/people/{me.id}", headers=headers)
    assert erased.status_code in (200, 204), erased.get_data(as_text=True)
    for projection in PROJECTIONS:  # what the worker does with the rebuilds the erasure sent
        rt.catch_up(projection.name)
        rt.rebuild(projection.name)

    dump = dump_database(store.engine, embedded_bin_dir)
    naming = lines_naming(dump, me.id)
    assert naming  # the ids stay (the log is append-only) ...
    behaviour = [TACTIC, ZONE, "07:13", "decision_makers", start.isoformat(), "06:17", '"minutes"']
    for line in naming:  # ... beside nothing the person did
        assert not [b for b in behaviour if b in line], line
    for event in store.read_stream(f"journal-{me.id}") + store.read_stream(f"calendar-{me.id}"):
        assert event.erased or event.type not in ("MicroActionLogged", "MeetingObserved")

"""Migration 0034: the sealed behaviour moves from the payload's ``sealed`` member into the
``seal`` column, and back on a downgrade, byte for byte; the three append paths write the
column and every read opens it."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import text

from infra.migrate import alembic_config, current_revision, upgrade
from shared.eventlog import EventStore, NewEvent, StreamAppend
from shared.eventlog.sealing import week_monday
from tests.databases import fresh_store

pytestmark = pytest.mark.integration

AT = datetime(2026, 11, 25, 10, 3, 7, 250000, tzinfo=UTC)


@pytest.fixture
def seal_store(postgres_server_url: str, master_key: str) -> Iterator[EventStore]:
    with fresh_store(postgres_server_url, master_key, "compound_seal") as store:
        yield store


def action(person: uuid.UUID, tactic: str, minutes: int) -> NewEvent:
    data = {"action_id": str(uuid.uuid4()), "person_id": str(person), "tactic": tactic,
            "minutes": minutes, "audience": "team", "note": None}  # fmt: skip
    return NewEvent("MicroActionLogged", data, AT + timedelta(minutes=minutes))


def rows(store: EventStore, with_seal: bool = True) -> list[tuple[object, ...]]:
    seal = ", seal" if with_seal else ""
    with store.engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                text(f"SELECT position, type, data, occurred_at{seal} FROM events ORDER BY 1")
            )
        ]


def downgrade(store: EventStore, revision: str) -> None:
    cfg = alembic_config(store.engine)
    with store.engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)
        conn.commit()


def test_the_seal_moves_to_its_column_and_back(seal_store: EventStore) -> None:
    store, tenant, person = seal_store, uuid.uuid4(), uuid.uuid4()
    stream = f"journal-{person}"
    store.append(tenant, stream, None, [action(person, "learning_bit", 11)])  # one event
    store.append(  # several: compound_append()'s JSON array
        tenant,
        stream,
        None,
        [action(person, "prototype_first", 12), action(person, "network_nudge", 13)],
    )
    store.append_batch(tenant, [StreamAppend(stream, [action(person, "small_exposure", 14)], None)])
    store.append(
        tenant, f"person-{person}", None, [NewEvent("PersonErased", {"person_id": person})]
    )
    before = rows(store)
    sealed = [r for r in before if r[1] == "MicroActionLogged"]
    assert len(sealed) == 4 and all(r[4] is not None and bytes(r[4])[:1] == b"\x02" for r in sealed)
    assert all("sealed" not in r[2] and "tactic" not in r[2] for r in before)  # type: ignore[operator]
    assert [r[4] for r in before if r[1] != "MicroActionLogged"] == [None]
    read = store.read_stream(stream)

    downgrade(store, "0033")  # the release before: the member, "v2:" + base64(nonce + ct)
    assert current_revision(store.engine) == "0033"
    old = rows(store, with_seal=False)
    for new, was in zip(before, old, strict=True):
        data = dict(was[2])  # type: ignore[call-overload]
        if new[4] is None:
            assert "sealed" not in data
            continue
        token = data.pop("sealed")
        assert token.startswith("v2:") and base64.b64decode(token[3:]) == bytes(new[4])[1:]  # type: ignore[index]
        assert data == new[2] and was[3] == new[3]
    # The release before's append function is back: a payload with its member goes in.
    written = [{"event_id": str(uuid.uuid4()), "type": "T", "schema_version": 1,
                "data": {"sealed": "v2:AAEC"}, "metadata": {},
                "occurred_at": "2026-11-23T00:00:00+00:00"}]  # fmt: skip
    with store.engine.begin() as conn:
        conn.execute(
            text("SELECT compound_append(:t, :s, NULL, CAST(:e AS jsonb), '{}', false)"),
            {"t": tenant, "s": f"other-{person}", "e": json.dumps(written)},
        )

    upgrade(store.engine)
    after = rows(store)
    assert after[: len(before)] == before  # byte for byte where it was
    assert bytes(after[-1][4]) == b"\x02\x00\x01\x02" and after[-1][2] == {}  # type: ignore[arg-type]
    again = store.read_stream(stream)
    assert [(e.data, e.occurred_at, e.erased) for e in again] == [
        (e.data, e.occurred_at, e.erased) for e in read
    ]
    assert [e.data["tactic"] for e in again] == [
        "learning_bit",
        "prototype_first",
        "network_nudge",
        "small_exposure",
    ]
    assert [e.occurred_at for e in again] == [AT + timedelta(minutes=m) for m in (11, 12, 13, 14)]
    assert all(r[3] == week_monday(AT) for r in sealed)

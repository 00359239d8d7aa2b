"""``EventStore.append_in(..., records=True)``: the written events as a read would return
them, without reading them back (the directory's commands project from them)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from shared.eventlog import AppendContext, EventStore, NewEvent

pytestmark = pytest.mark.integration


def invited(person: uuid.UUID, email: str | None) -> NewEvent:
    data = {"person_id": str(person), "email": email, "role": "employee", "team_id": None}
    # the last instant of the log's window (shared.domain.bounds)
    return NewEvent("PersonInvited", data, datetime(2099, 12, 31, 23, 59, 59, 999999, tzinfo=UTC))


def joined(person: uuid.UUID) -> NewEvent:  # time_zone left to the schema's default
    return NewEvent("PersonJoined", {"person_id": str(person), "display_name": "Ådå\u202e"})


@pytest.mark.parametrize("email", ["ada@records.test", None])
def test_the_records_are_what_a_read_in_the_transaction_returns(
    store: EventStore, tenant: uuid.UUID, email: str | None
):
    person = uuid.uuid4()
    stream = f"person-{person}"
    context = AppendContext(actor="test", idempotency_key=f"k-{uuid.uuid4()}")
    with store.engine.begin() as conn:
        result = store.append_in(
            conn, tenant, stream, 0, [invited(person, email), joined(person)], context, True
        )
        read = store.read_positions(conn, result.positions)
    assert [r.position for r in result.records] == list(result.positions)
    assert [r.event_id for r in result.records] == list(result.event_ids)
    for mine, theirs in zip(result.records, read, strict=True):
        assert mine.data == theirs.data  # plaintext: the e-mail decrypted, defaults filled
        assert (mine.type, mine.schema_version, mine.version) == (
            theirs.type,
            theirs.schema_version,
            theirs.version,
        )
        assert (mine.tenant_id, mine.stream_id, mine.occurred_at) == (
            theirs.tenant_id,
            theirs.stream_id,
            theirs.occurred_at,
        )
        assert mine.metadata == theirs.metadata
    assert result.records[0].data["email"] == email


def test_no_records_unless_asked_and_none_for_a_replay(store: EventStore, tenant: uuid.UUID):
    person = uuid.uuid4()
    context = AppendContext(actor="test", idempotency_key=f"k-{uuid.uuid4()}")
    events = [invited(person, "bo@records.test")]
    with store.engine.begin() as conn:
        plain = store.append_in(conn, tenant, f"person-{person}", 0, events, context)
    assert plain.records == ()
    with store.engine.begin() as conn:
        again = store.append_in(conn, tenant, f"person-{person}", None, events, context, True)
    assert again.replayed and again.records == ()

"""Old schema versions are upcast on read; stored rows are never rewritten."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from marshmallow import Schema, fields
from sqlalchemy import Engine, text

from shared.eventlog import Catalogue, EventStore, NewEvent

pytestmark = pytest.mark.integration


class GreetedV1(Schema):
    person_id = fields.UUID(required=True)
    name = fields.String(required=True)


class GreetedV2(Schema):
    person_id = fields.UUID(required=True)
    first_name = fields.String(required=True)
    formal = fields.Boolean(required=True)


class GreetedV3(Schema):
    person_id = fields.UUID(required=True)
    first_name = fields.String(required=True)
    register = fields.String(required=True)


def catalogue(up_to: int) -> Catalogue:
    cat = Catalogue()
    for version, schema in enumerate([GreetedV1, GreetedV2, GreetedV3][:up_to], start=1):
        cat.register("Greeted", version, schema)

    @cat.upcaster("Greeted", 1)
    def _rename(data: dict[str, Any]) -> dict[str, Any]:
        data = dict(data)
        return {"person_id": data["person_id"], "first_name": data.pop("name"), "formal": False}

    @cat.upcaster("Greeted", 2)
    def _register(data: dict[str, Any]) -> dict[str, Any]:
        formal = data.pop("formal")
        return {**data, "register": "formal" if formal else "casual"}

    return cat


def test_events_written_at_v1_read_as_current(engine: Engine, tenant: uuid.UUID):
    person = uuid.uuid4()
    stream = f"greet-{person}"
    EventStore(engine, catalogue(1)).append(
        tenant, stream, 0, [NewEvent("Greeted", {"person_id": str(person), "name": "Ada"})]
    )
    EventStore(engine, catalogue(2)).append(
        tenant,
        stream,
        1,
        [NewEvent("Greeted", {"person_id": str(person), "first_name": "Bo", "formal": True})],
    )
    events = EventStore(engine, catalogue(3)).read_stream(stream)

    assert [e.schema_version for e in events] == [3, 3]
    assert events[0].data == {"person_id": str(person), "first_name": "Ada", "register": "casual"}
    assert events[1].data["register"] == "formal"
    with engine.connect() as conn:
        stored = (
            conn.execute(
                text("SELECT schema_version FROM events WHERE stream_id = :s ORDER BY version"),
                {"s": stream},
            )
            .scalars()
            .all()
        )
    assert stored == [1, 2]

"""The decoder process's hand-over format (shared/eventlog/decoder_process.py): a chunk comes
out as it went in, payload types, times and offsets included; values marshal does not know
go by pickle."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from shared.eventlog.chunked_reads import EventChunk
from shared.eventlog.decoder_process import _encode, _parse
from shared.eventlog.records import RecordedEvent

ZONES = [UTC, timezone(timedelta(hours=14)), timezone(timedelta(hours=-12)),
         timezone(timedelta(hours=5, minutes=45)), timezone(timedelta(seconds=-3723))]  # fmt: skip
TIMES = [datetime(1, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
         datetime(2026, 3, 29, 1, 30, 15, 123_456)]  # fmt: skip


def _event(position: int, data: dict, at: datetime, erased: bool = False) -> RecordedEvent:
    recorded = datetime(2026, 1, 1, tzinfo=UTC)
    event_id, metadata = "0190a4c2-0000-7000-8000-000000000001", '{"source": "test"}'
    return RecordedEvent(position, event_id, "tenant-text", "journal-x", position,
                         "MicroActionLogged", 1, data, metadata, at, recorded, erased)  # fmt: skip


def _fields(e: RecordedEvent) -> tuple[object, ...]:
    return (e.position, e.event_id_text, e.tenant_id_text, e.stream_id, e.version, e.type,
            e.schema_version, e.data, e.raw_metadata, e.occurred_at.isoformat(),
            e.recorded_at.isoformat(), e.erased)  # fmt: skip


@pytest.mark.parametrize("zone", ZONES, ids=str)
@pytest.mark.parametrize("when", TIMES, ids=str)
def test_a_chunk_comes_out_as_it_went_in(zone: timezone, when: datetime) -> None:
    at = when.replace(tzinfo=zone)
    data = {"a": [1, 2.5, None, True], "b": {"nested": "tab\tand ünïcode"}, 3: (4, 5)}
    chunk = EventChunk([_event(1, data, at), _event(2, {}, at, erased=True)], True, "0a", "0b")
    out = _parse(_encode(chunk))
    assert (out.people, out.low, out.high) == (True, "0a", "0b")
    assert [_fields(e) for e in out.events] == [_fields(e) for e in chunk.events]
    assert type(out.events[0].data[3]) is tuple, "types survive: a tuple stays a tuple"


def test_a_value_marshal_does_not_know_goes_by_pickle() -> None:
    at = datetime(2026, 5, 1, tzinfo=UTC)
    chunk = EventChunk([_event(7, {"when": at, "day": at.date()}, at)], False)
    encoded = _encode(chunk)
    assert encoded[:1] == b"P"
    (event,) = _parse(encoded).events
    assert event.data == {"when": at, "day": at.date()}
    assert _fields(event) == _fields(chunk.events[0])

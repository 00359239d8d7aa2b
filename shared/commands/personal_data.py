"""Everything the log holds about a person, for them to take away (JSON or CSV).

The export reads the event log, the truth, not the read models: the person's journal,
profile and calendar streams, decrypted with their data key (after erasure, personal fields
read as erased). Anonymous pulse responses cannot be exported: nothing links them to anyone.
Secrets (token and password hashes) are left out.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Sequence
from typing import Any

from shared.commands.base import Actor
from shared.domain.errors import Forbidden
from shared.eventlog import EventStore, RecordedEvent

STREAMS = (
    "person-{id}",
    "journal-{id}",
    "calendar-{id}",
    "slack-person-{id}",
    "msteams-person-{id}",
    "sso-identity-{id}",
)
SECRET_FIELDS = frozenset({"token_hash", "password_hash"})
CSV_COLUMNS = ("position", "stream", "type", "occurred_at", "recorded_at")


def export_events(
    store: EventStore, actor: Actor, position: Callable[[int], Any] = int
) -> list[dict[str, Any]]:
    """The actor's own events, in log order, as plain JSON-ready mappings.

    Parameters:
        store: the event store.
        actor: the person exporting their data.
        position: how each event's log position is shown (the gateway seals it: global
            positions would show other organisations' activity, shared/read_tokens.py).

    Returns:
        One mapping per event: position, stream, type, times and data (secrets left out).

    Raises:
        Forbidden: the actor is the system, not a person.
    """
    if actor.person_id is None:
        raise Forbidden("only a person can export their data")
    events: list[RecordedEvent] = []
    for pattern in STREAMS:
        events.extend(store.read_stream(pattern.format(id=actor.person_id)))
    events.sort(key=lambda e: e.position)
    return [
        {
            "position": position(e.position),
            "stream": e.stream_id,
            "type": e.type,
            "occurred_at": e.occurred_at.isoformat(),
            "recorded_at": e.recorded_at.isoformat(),
            "data": {k: v for k, v in e.data.items() if k not in SECRET_FIELDS},
        }
        for e in events
        if e.tenant_id == actor.tenant_id
    ]


def as_json(person_id: Any, events: Sequence[dict[str, Any]]) -> str:
    """The export as one JSON document.

    Parameters:
        person_id: whose export it is.
        events: :func:`export_events`' answer.

    Returns:
        ``{"person_id", "events"}``, indented.
    """
    return json.dumps(
        {"person_id": str(person_id), "events": list(events)}, indent=2, ensure_ascii=False
    )


def as_csv(events: Sequence[dict[str, Any]]) -> str:
    """The export as CSV: one row per event; one column per data field (lists and objects
    as JSON).

    Parameters:
        events: :func:`export_events`' answer.

    Returns:
        The CSV text, with a header row.
    """
    fields = sorted({key for e in events for key in e["data"]})
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([*CSV_COLUMNS, *fields])
    for e in events:
        values = [e["data"].get(name) for name in fields]
        writer.writerow(
            [
                *(e[c] for c in CSV_COLUMNS),
                *(
                    "" if v is None else json.dumps(v) if isinstance(v, list | dict) else v
                    for v in values
                ),
            ]
        )
    return out.getvalue()

"""The after-meeting nudge's setting and reads (shared/calendar/nudges.py has the rule):
``MeetingNudgesSet`` on the person's own stream (``person-{id}``), off until they turn it on;
the person's recent meetings read from their calendar stream (decrypted: timing is sealed
with their key)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, text

from shared.calendar.nudges import latest_meetings
from shared.commands.base import Actor, append
from shared.eventlog import EventStore, NewEvent


def nudges_on(store: EventStore, conn: Connection, tenant_id: Any, person_id: Any) -> bool:
    """Whether the person turned the after-meeting nudge on (their latest setting; off
    before any, and once erased).

    Parameters:
        store: the event store.
        conn: a database connection.
        tenant_id: the organisation.
        person_id: the person.
    """
    position = conn.execute(
        text(
            "SELECT position FROM events WHERE stream_id = :s AND tenant_id = :t "
            "AND type = 'MeetingNudgesSet' ORDER BY version DESC LIMIT 1"
        ),
        {"s": f"person-{person_id}", "t": tenant_id},
    ).scalar()
    found = store.read_positions(conn, [position]) if position is not None else []
    return bool(found and not found[0].erased and found[0].data["enabled"])


def set_meeting_nudges(store: EventStore, actor: Actor, enabled: bool) -> None:
    """Turn the actor's own after-meeting nudge on or off.

    Parameters:
        store: the event store.
        actor: the person (not the system).
        enabled: on or off.
    """
    assert actor.person_id is not None
    data = {"person_id": str(actor.person_id), "enabled": bool(enabled)}
    with store.engine.begin() as conn:
        stream = f"person-{actor.person_id}"
        append(store, conn, actor, stream, [NewEvent("MeetingNudgesSet", data)])


def recent_meetings(
    store: EventStore, conn: Connection, tenant_id: Any, person_id: Any, now: datetime
) -> list[Any]:
    """The person's meetings of this UTC week and the one before, as last observed (a
    meeting's stored ``occurred_at`` is the Monday of its UTC week: the exact times are
    sealed, read here with the person's key).

    Parameters:
        store: the event store.
        conn: a database connection.
        tenant_id: the organisation.
        person_id: the person.
        now: the current moment.

    Returns:
        ``MeetingObserved`` data of the meetings still on (``latest_meetings``).
    """
    day = now.astimezone(UTC).date()
    since = datetime.combine(day - timedelta(days=day.weekday() + 7), time(), tzinfo=UTC)
    positions = conn.execute(
        text(
            "SELECT position FROM events WHERE stream_id = :s AND tenant_id = :t "
            "AND type IN ('MeetingObserved', 'MeetingCancelled') AND occurred_at >= :since "
            "ORDER BY position"
        ),
        {"s": f"calendar-{person_id}", "t": tenant_id, "since": since},
    ).scalars()
    events = store.read_positions(conn, list(positions))
    events.sort(key=lambda e: e.position)
    return latest_meetings((e.type, e.data) for e in events if not e.erased)

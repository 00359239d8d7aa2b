"""A person's working hours and time zone: ``WorkingHoursSet`` events on their own stream
(``person-{id}``), so the log stays the only truth; the current setting is the stream's
latest such event, else 09:00-17:00 Monday to Friday in the zone they joined with."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, text

from shared.commands.base import Actor, append
from shared.domain.errors import InvalidInput, Text
from shared.domain.working_hours import (
    DAYS,
    DEFAULT_DAYS,
    DEFAULT_END,
    DEFAULT_START,
    clock_of,
    minutes_of,
    working_hours_errors,
)
from shared.eventlog import EventStore, NewEvent


@dataclass(frozen=True)
class WorkingHoursSetting:
    """A person's working window, days and time zone, and whether they ever set them."""

    start: str  # HH:MM
    end: str
    working_days: list[str] = field(default_factory=lambda: list(DEFAULT_DAYS))
    time_zone: str = "UTC"
    changed: bool = False  # whether the person ever set them (otherwise the defaults)


def working_hours_of(
    store: EventStore, conn: Connection, tenant_id: Any, person_id: Any
) -> WorkingHoursSetting:
    """The person's latest ``WorkingHoursSet``, or the defaults in the zone they joined with.

    Parameters:
        store: the event store (the setting is sealed with the person's key: it opens it).
        conn: a database connection.
        tenant_id: the organisation.
        person_id: the person.

    Returns:
        Their setting (09:00-17:00, Monday to Friday, when they never set one or their
        setting was erased with them).
    """
    position = conn.execute(
        text(
            "SELECT position FROM events WHERE stream_id = :s AND tenant_id = :t "
            "AND type = 'WorkingHoursSet' ORDER BY version DESC LIMIT 1"
        ),
        {"s": f"person-{person_id}", "t": tenant_id},
    ).scalar()
    found = store.read_positions(conn, [position]) if position is not None else []
    if found and not found[0].erased:
        data = found[0].data
        return WorkingHoursSetting(
            clock_of(data["start_minute"]),
            clock_of(data["end_minute"]),
            [day for day in DAYS if day in data["working_days"]],
            data["time_zone"],
            True,
        )
    zone = conn.execute(
        text("SELECT time_zone FROM people WHERE id = :p AND tenant_id = :t"),
        {"p": person_id, "t": tenant_id},
    ).scalar()
    return WorkingHoursSetting(DEFAULT_START, DEFAULT_END, time_zone=zone or "UTC")


def set_working_hours(
    store: EventStore,
    actor: Actor,
    start: str,
    end: str,
    working_days: Sequence[str],
    time_zone: str,
) -> WorkingHoursSetting:
    """Set the actor's own working hours and time zone, from this ISO week on.

    Parameters:
        store: the event store.
        actor: the person (not the system).
        start: the start of the working window, ``HH:MM``.
        end: its end, ``HH:MM``.
        working_days: the working days (``mon`` ... ``sun``).
        time_zone: an IANA time zone name.

    Returns:
        The new setting.

    Raises:
        InvalidInput: start not before end (HH:MM), no working day or one named twice, or
            a time zone that is not an IANA name; ``errors`` names each field.
    """
    errors = working_hours_errors(start, end, working_days, time_zone)
    if errors:
        raise InvalidInput(Text("These working hours are not valid."), errors)
    assert actor.person_id is not None
    days = [day for day in DAYS if day in working_days]
    with store.engine.begin() as conn:
        append(
            store,
            conn,
            actor,
            f"person-{actor.person_id}",
            [
                NewEvent(
                    "WorkingHoursSet",
                    {
                        "person_id": str(actor.person_id),
                        "start_minute": minutes_of(start),
                        "end_minute": minutes_of(end),
                        "working_days": days,
                        "time_zone": time_zone,
                    },
                )
            ],
        )
    return WorkingHoursSetting(start, end, days, time_zone, True)

"""The events of calendar connections (docs/calendar.md): a connection's start and end, and
what its sync keeps of each event that takes the person's time (a meeting) or frees it (an
out-of-office block): timing and counts only, never a title, description or address.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from marshmallow import Schema, fields, validate

from shared.domain.bounds import ABSENCE_MAX_DAYS, meeting_errors
from shared.eventlog.catalogue import Rules
from shared.eventlog.time_fields import Timestamp


class CalendarConnected(Schema):
    person_id = fields.UUID(required=True)
    connection_id = fields.UUID(required=True)
    provider = fields.String(required=True, validate=validate.Length(min=1, max=40))


class CalendarDisconnected(Schema):
    person_id = fields.UUID(required=True)
    connection_id = fields.UUID(required=True)
    reason = fields.String(
        validate=validate.OneOf(("user", "revoked", "invalid_grant", "erased")),
        load_default="user",
    )


class MeetingObserved(Schema):
    """Only timing and counts: never a title, description or attendee address."""

    person_id = fields.UUID(required=True)
    connection_id = fields.UUID(required=True)
    meeting_key = fields.String(required=True, validate=validate.Length(min=1, max=128))
    start = Timestamp(required=True)
    end = Timestamp(required=True)
    attendee_count = fields.Integer(required=True, strict=True, validate=validate.Range(min=0))
    one_on_one = fields.Boolean()  # no longer emitted (docs/calendar.md); old events keep it
    with_manager = fields.Boolean()  # idem: Compound no longer reads attendee addresses
    organizer_is_self = fields.Boolean(required=True)
    response_status = fields.String(
        required=True,
        validate=validate.OneOf(("accepted", "tentative", "declined", "needs_action")),
    )
    recurring = fields.Boolean(required=True)


class OutOfOfficeObserved(Schema):
    """A calendar's out-of-office block (timing only): it reduces the week's working hours."""

    person_id = fields.UUID(required=True)
    connection_id = fields.UUID(required=True)
    meeting_key = fields.String(required=True, validate=validate.Length(min=1, max=128))
    start = Timestamp(required=True)
    end = Timestamp(required=True)


class MeetingCancelled(Schema):
    person_id = fields.UUID(required=True)
    connection_id = fields.UUID(required=True)
    meeting_key = fields.String(required=True, validate=validate.Length(min=1, max=128))


class MeetingNudgesSet(Schema):
    """A person turned the after-meeting nudge on or off (docs/calendar.md)."""

    person_id = fields.UUID(required=True)
    enabled = fields.Boolean(required=True)


def meeting_rules(data: dict[str, Any]) -> dict[str, list[str]]:
    """A ``MeetingObserved``'s start before its end, at most 24 hours apart.

    Parameters:
        data: the normalised payload (times as ISO text).

    Returns:
        Messages per field; empty when the meeting is one Compound keeps.
    """
    start, end = datetime.fromisoformat(data["start"]), datetime.fromisoformat(data["end"])
    return meeting_errors(start, end)


def away_rules(data: dict[str, Any]) -> dict[str, list[str]]:
    """An ``OutOfOfficeObserved``'s start before its end, at most 366 days apart.

    Parameters:
        data: the normalised payload (times as ISO text).

    Returns:
        Messages per field; empty when the block is one Compound keeps.
    """
    start, end = datetime.fromisoformat(data["start"]), datetime.fromisoformat(data["end"])
    if end <= start:
        return {"end": ["Must be after start."]}
    if (end - start).days > ABSENCE_MAX_DAYS:
        return {"end": [f"An absence lasts at most {ABSENCE_MAX_DAYS} days."]}
    return {}


CALENDAR_RULES: dict[str, tuple[Rules, str]] = {
    "MeetingObserved": (meeting_rules, "`start` before `end`, at most 24 hours apart."),
    "OutOfOfficeObserved": (away_rules, "`start` before `end`, at most 366 days apart."),
}
"""Each calendar type's rules over several fields, and the same in words."""

CALENDAR_EVENTS: list[tuple[type[Schema], str | None, str]] = [
    (CalendarConnected, None, "A person connected a calendar over OAuth."),
    (CalendarDisconnected, None, "A calendar connection ended."),
    (
        MeetingObserved,
        "person_id",
        "A calendar meeting (timing and counts only) was seen or moved.",
    ),
    (OutOfOfficeObserved, "person_id", "A calendar's out-of-office block was seen or moved."),
    (MeetingCancelled, None, "A calendar meeting (or out-of-office block) was cancelled."),
    (
        MeetingNudgesSet,
        "person_id",
        "A person turned the after-meeting nudge (a summary offered on Today) on or off.",
    ),
]
"""The calendar types in catalogue order: schema, subject field, description."""

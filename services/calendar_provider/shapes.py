"""A meeting as Google Calendar v3 and as Microsoft Graph would send it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.calendar_provider.generator import Meeting

_GRAPH_RESPONSES = {
    "accepted": "accepted",
    "tentative": "tentativelyAccepted",
    "declined": "declined",
    "needsAction": "notResponded",
}


def _stamp(moment: datetime) -> str:
    return moment.replace(tzinfo=None).isoformat(timespec="seconds") + "Z"  # (strftime is slow)


def google_event(meeting: Meeting, me: str) -> dict[str, Any]:
    """An ``events`` resource; a cancelled one carries only its id, etag and status (as in
    Google's incremental sync)."""
    if meeting.status == "cancelled":
        return {
            "kind": "calendar#event",
            "etag": meeting.etag,
            "id": meeting.id,
            "status": "cancelled",
        }
    event: dict[str, Any] = {
        "kind": "calendar#event",
        "etag": meeting.etag,
        "id": meeting.id,
        "status": meeting.status,
        "summary": meeting.summary,
        "description": meeting.description,
        "iCalUID": f"{meeting.series_id or meeting.id}@calendar-provider.local",
        "sequence": meeting.revision,
        "creator": {
            "email": meeting.organizer,
            **({"self": True} if meeting.organizer == me else {}),
        },
        "organizer": {
            "email": meeting.organizer,
            **({"self": True} if meeting.organizer == me else {}),
        },
        "start": {"dateTime": _stamp(meeting.start), "timeZone": "UTC"},
        "end": {"dateTime": _stamp(meeting.end), "timeZone": "UTC"},
        "attendees": [
            {
                "email": a.email,
                "responseStatus": a.response,
                **({"self": True} if a.email == me else {}),
                **({"organizer": True} if a.organizer else {}),
            }
            for a in meeting.attendees
        ],
    }
    if meeting.series_id:
        event["recurringEventId"] = meeting.series_id
        event["originalStartTime"] = event["start"]
    return event


def graph_event(meeting: Meeting, me: str) -> dict[str, Any]:
    """An ``event`` of ``calendarView/delta``; a cancelled one is ``@removed``."""
    if meeting.status == "cancelled":
        return {"id": meeting.id, "@removed": {"reason": "deleted"}}
    own = next((a.response for a in meeting.attendees if a.email == me), "accepted")
    change_key = meeting.etag.strip('"')
    return {
        "@odata.etag": f'W/"{change_key}"',
        "id": meeting.id,
        "changeKey": change_key,
        "subject": meeting.summary,
        "bodyPreview": meeting.description,
        "isCancelled": False,
        "isOrganizer": meeting.organizer == me,
        "type": "occurrence" if meeting.series_id else "singleInstance",
        "seriesMasterId": meeting.series_id,
        "start": {"dateTime": _stamp(meeting.start)[:-1] + ".0000000", "timeZone": "UTC"},
        "end": {"dateTime": _stamp(meeting.end)[:-1] + ".0000000", "timeZone": "UTC"},
        "responseStatus": {
            "response": "organizer" if meeting.organizer == me else _GRAPH_RESPONSES[own],
        },
        "organizer": {"emailAddress": {"address": meeting.organizer, "name": meeting.organizer}},
        "attendees": [
            {
                "type": "required",
                "status": {"response": _GRAPH_RESPONSES[a.response]},
                "emailAddress": {"address": a.email, "name": a.email.split("@")[0]},
            }
            for a in meeting.attendees
            if a.email != meeting.organizer
        ],
    }

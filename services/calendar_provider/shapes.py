"""A meeting as Google Calendar v3 and as Microsoft Graph would send it.

Google (the ``Event`` resource of the Calendar v3 discovery document): ``eventType``
(``default``, ``outOfOffice``, ``focusTime``, ``workingLocation``), ``transparency``,
``updated``, all-day events with ``date`` instead of ``dateTime``, times in the event's own
zone with its offset, rooms as attendees with ``resource: true``, and instances of a series
with ``recurringEventId`` / ``originalStartTime`` (a cancelled instance keeps both).
Graph (the ``event`` resource): ``isAllDay``, ``showAs`` (``free``, ``tentative``, ``busy``,
``oof``, ``workingElsewhere``), ``lastModifiedDateTime``, ``type`` (``occurrence``,
``exception``, ``singleInstance``) with ``originalStart``, times in UTC (no
``Prefer: outlook.timezone``), and ``bodyPreview`` only for ``Calendars.Read``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from services.calendar_provider.generator import Attendee, Meeting

_GRAPH_RESPONSES = {
    "accepted": "accepted",
    "tentative": "tentativelyAccepted",
    "declined": "declined",
    "needsAction": "notResponded",
}
_GRAPH_SHOW_AS = {"outOfOffice": "oof", "workingLocation": "workingElsewhere"}


def _stamp(moment: datetime) -> str:
    return moment.replace(tzinfo=None).isoformat(timespec="seconds") + "Z"  # (strftime is slow)


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _google_time(meeting: Meeting, moment: datetime) -> dict[str, str]:
    if meeting.all_day:
        return {"date": moment.date().isoformat()}
    if meeting.zone == "UTC":
        return {"dateTime": _stamp(moment), "timeZone": "UTC"}
    local = moment.astimezone(_zone(meeting.zone))
    return {"dateTime": local.isoformat(timespec="seconds"), "timeZone": meeting.zone}


def _person(email: str, me: str) -> dict[str, Any]:
    return {"email": email, **({"self": True} if email == me else {})}


def google_event(meeting: Meeting, me: str) -> dict[str, Any]:
    """An ``events`` resource; a cancelled one carries only its id, etag, status and, for an
    instance of a series, ``recurringEventId`` and ``originalStartTime`` (as in Google's
    incremental sync).

    Made once per meeting and shared by every listing of it (never to be changed): the
    provider renders its generated calendars when it generates them, as Google serves events
    it has stored (services/calendar_provider/book.py)."""
    found: tuple[str, dict[str, Any]] | None = meeting.__dict__.get("_google")
    if found is not None and found[0] == me:
        return found[1]
    event = _google_event(meeting, me)
    meeting.__dict__["_google"] = (me, event)  # a frozen dataclass: as Meeting.etag does
    return event


def _google_event(meeting: Meeting, me: str) -> dict[str, Any]:
    original = None
    if meeting.series_id:
        original = _google_time(meeting, meeting.original_start or meeting.start)
    if meeting.status == "cancelled":
        gone: dict[str, Any] = {
            "kind": "calendar#event",
            "etag": meeting.etag,
            "id": meeting.id,
            "status": "cancelled",
        }
        if original:
            gone["recurringEventId"] = meeting.series_id
            gone["originalStartTime"] = original
        return gone
    event: dict[str, Any] = {
        "kind": "calendar#event",
        "etag": meeting.etag,
        "id": meeting.id,
        "status": "confirmed",
        "updated": _stamp(meeting.last_modified.astimezone(UTC))[:-1] + ".000Z",
        "summary": meeting.summary,
        "description": meeting.description,
        "iCalUID": f"{meeting.series_id or meeting.id}@calendar-provider.local",
        "sequence": meeting.revision,
        "creator": _person(meeting.organizer, me),
        "organizer": _person(meeting.organizer, me),
        "start": _google_time(meeting, meeting.start),
        "end": _google_time(meeting, meeting.end),
        "eventType": meeting.kind,
    }
    if meeting.location:
        event["location"] = meeting.location
    if meeting.transparency == "transparent":
        event["transparency"] = "transparent"  # "opaque" is the default, left out
    if meeting.attendees:
        event["attendees"] = [_google_attendee(a, me) for a in meeting.attendees]
    if original:
        event["recurringEventId"] = meeting.series_id
        event["originalStartTime"] = original
    return event


def _google_attendee(a: Attendee, me: str) -> dict[str, Any]:
    if a.email != me:
        return a.google  # shared: the listing is only serialised, never changed
    found: dict[str, Any] = {"email": a.email, "responseStatus": a.response, "self": True}
    if a.organizer:
        found["organizer"] = True
    if a.resource:
        found["resource"] = True
    return found


def _graph_time(moment: datetime) -> dict[str, str]:
    return {"dateTime": _stamp(moment)[:-1] + ".0000000", "timeZone": "UTC"}


def graph_event(meeting: Meeting, me: str, *, bodies: bool) -> dict[str, Any] | None:
    """An ``event`` of ``calendarView/delta``; a cancelled one is ``@removed``; a working
    location is no Graph event (None: Outlook keeps it in the user's settings).

    Parameters:
        bodies: the token may read bodies (``Calendars.Read``; ``Calendars.ReadBasic`` not).
    """
    if meeting.status == "cancelled":
        return {"id": meeting.id, "@removed": {"reason": "deleted"}}
    if meeting.kind == "workingLocation":
        return None
    own = next((a.response for a in meeting.attendees if a.email == me), "accepted")
    organizer = meeting.organizer == me
    change_key = meeting.etag.strip('"')
    kind = "singleInstance"
    if meeting.series_id:
        kind = "exception" if meeting.original_start else "occurrence"
    show_as = _GRAPH_SHOW_AS.get(meeting.kind, "busy")
    if meeting.transparency == "transparent":
        show_as = "free"
    elif show_as == "busy" and own == "tentative" and not organizer:
        show_as = "tentative"
    event: dict[str, Any] = {
        "@odata.etag": f'W/"{change_key}"',
        "id": meeting.id,
        "changeKey": change_key,
        "lastModifiedDateTime": _stamp(meeting.last_modified),
        "subject": meeting.summary,
        "isAllDay": meeting.all_day,
        "isCancelled": False,
        "isOrganizer": organizer,
        "showAs": show_as,
        "type": kind,
        "seriesMasterId": meeting.series_id,
        "originalStart": _stamp(meeting.original_start or meeting.start)
        if meeting.series_id
        else None,
        "start": _graph_time(meeting.start),
        "end": _graph_time(meeting.end),
        "originalStartTimeZone": meeting.zone,
        "location": {"displayName": meeting.location},
        "responseStatus": {"response": "organizer" if organizer else _GRAPH_RESPONSES[own]},
        "organizer": {"emailAddress": {"address": meeting.organizer, "name": meeting.organizer}},
        "attendees": [
            {
                "type": "resource" if a.resource else "required",
                "status": {"response": _GRAPH_RESPONSES[a.response]},
                "emailAddress": {"address": a.email, "name": a.email.split("@")[0]},
            }
            for a in meeting.attendees
            if a.email != meeting.organizer
        ],
    }
    if bodies:
        event["bodyPreview"] = meeting.description
    return event

"""Data minimisation: a provider's event -> the few facts Compound keeps (docs/calendar.md,
"What Compound keeps, and what it never keeps"), and the counting rules of meeting load
(docs/levers.md, "What counts as a meeting").

Pure functions, no I/O. What leaves here is timing and counts only: start, end, attendee
count, organizer-is-self, own response, recurring. The requests already leave titles,
descriptions, locations and (for Google) attendee addresses at the provider (``fields`` /
``$select``, shared/calendar/provider_api.py); whatever still arrives is dropped here. The
provider's event id becomes an opaque ``meeting_key`` (a digest); ``version`` is a digest of
the minimised facts, so an edit Compound cannot see (a new title, another description)
changes the provider's etag but appends nothing, and the version of a meeting can be
recomputed from the log (:func:`version_of`). The etag / changeKey itself is kept only to
derive the ids of appended events (shared/calendar/sync.py).

Only an event that takes the person's time is a meeting: accepted or tentative, busy (not
free / transparent), timed (not all-day), an ordinary event (not focus time, a working
location or a birthday) and with at least one other person (rooms are not people). An
out-of-office block is :class:`Away` (start and end only): it takes time off the week's
working hours instead. Any other event is :class:`Cancelled` with the rule that excluded it
as ``reason``: never appended when it was never observed, and a ``MeetingCancelled`` when a
meeting that counted stops counting (declined later, marked free).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.domain.bounds import ABSENCE_MAX_DAYS, meeting_errors

_GOOGLE_RESPONSES = {
    "accepted": "accepted",
    "tentative": "tentative",
    "declined": "declined",
    "needsAction": "needs_action",
}
_GRAPH_RESPONSES = {
    "organizer": "accepted",
    "accepted": "accepted",
    "tentativelyAccepted": "tentative",
    "declined": "declined",
    "notResponded": "needs_action",
    "none": "needs_action",
}


class UnusableEvent(ValueError):
    """An event without the times Compound needs (all-day events, malformed entries)."""


@dataclass(frozen=True, slots=True)
class Observed:
    """A meeting as Compound keeps it: the data of ``MeetingObserved`` minus the ids."""

    meeting_key: str
    version: str
    etag: str
    start: datetime
    end: datetime
    attendee_count: int
    organizer_is_self: bool
    response_status: str
    recurring: bool

    def data(self) -> dict[str, Any]:
        return {
            "meeting_key": self.meeting_key,
            "start": self.start,
            "end": self.end,
            "attendee_count": self.attendee_count,
            "organizer_is_self": self.organizer_is_self,
            "response_status": self.response_status,
            "recurring": self.recurring,
        }


@dataclass(frozen=True, slots=True)
class Cancelled:
    """A meeting that is gone, or an event that does not count (``reason``: the rule)."""

    meeting_key: str
    version: str
    etag: str
    reason: str = "cancelled"


@dataclass(frozen=True, slots=True)
class Away:
    """An out-of-office block as Compound keeps it (``OutOfOfficeObserved`` minus the ids):
    not a meeting, it reduces the working hours of the weeks it covers."""

    meeting_key: str
    version: str
    etag: str
    start: datetime
    end: datetime

    def data(self) -> dict[str, Any]:
        return {"meeting_key": self.meeting_key, "start": self.start, "end": self.end}


Change = Observed | Cancelled | Away


def meeting_key(provider: str, event_id: str) -> str:
    """The opaque, stable key of a provider's event (the same across its versions)."""
    return hashlib.sha256(f"{provider}\x1f{event_id}".encode()).hexdigest()[:40]


FACTS = (
    "start",
    "end",
    "attendee_count",
    "organizer_is_self",
    "response_status",
    "recurring",
)
CANCELLED = "cancelled"
AWAY = "away-"
"""The prefix of an out-of-office block's version."""


def version_of(facts: Mapping[str, Any]) -> str:
    """The version digest of a meeting's minimised facts (as observed, or as read back from
    a ``MeetingObserved`` event, where times are ISO strings)."""
    parts = []
    for name in FACTS:
        value = facts[name]
        if name in ("start", "end") and isinstance(value, str):
            value = datetime.fromisoformat(value)
        parts.append(value.astimezone(UTC).isoformat() if isinstance(value, datetime) else value)
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:32]


def observed_version(
    start: datetime,
    end: datetime,
    people: int,
    organizer_is_self: bool,
    response: str,
    recurring: bool,
) -> str:
    """:func:`version_of` of an observed meeting's facts (UTC times), without the mapping
    (the same text is digested: tests/calendar/test_minimise.py compares both)."""
    times = f"{start.astimezone(UTC).isoformat()}\x1f{end.astimezone(UTC).isoformat()}"
    text = f"{times}\x1f{people}\x1f{organizer_is_self}"
    return hashlib.sha256(f"{text}\x1f{response}\x1f{recurring}".encode()).hexdigest()[:32]


def away_version(start: datetime | str, end: datetime | str) -> str:
    """The version of an out-of-office block (times as datetimes or ISO strings, as an
    ``OutOfOfficeObserved`` event holds them): :data:`AWAY` and a digest of its times (the
    prefix tells blocks from meetings in ``calendar_meetings``)."""
    times = [datetime.fromisoformat(t) if isinstance(t, str) else t for t in (start, end)]
    text = "\x1f".join(["away", *(t.astimezone(UTC).isoformat() for t in times)])
    return AWAY + hashlib.sha256(text.encode()).hexdigest()[:27]


def _moment(value: Mapping[str, Any] | None, graph: bool = False) -> datetime:
    if not value or not value.get("dateTime"):
        raise UnusableEvent("no dateTime (an all-day event?)")
    raw = str(value["dateTime"]).replace("Z", "+00:00")
    if graph and "." in raw:  # Graph sends 7 fractional digits; Python reads at most 6
        head, fraction = raw.split(".", 1)
        raw = f"{head}.{fraction[:6]}"
    moment = datetime.fromisoformat(raw)
    if moment.tzinfo is None:
        if (value.get("timeZone") or "UTC") not in ("UTC", "Etc/UTC"):
            from zoneinfo import ZoneInfo

            moment = moment.replace(tzinfo=ZoneInfo(str(value["timeZone"])))
        else:
            moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _day_or_moment(value: Mapping[str, Any] | None, zone: str) -> datetime:
    """A start or end that may be a day (``date``, an all-day block): its midnight in
    ``zone`` (the event's)."""
    if value and not value.get("dateTime") and value.get("date"):
        from zoneinfo import ZoneInfo

        day = datetime.fromisoformat(str(value["date"]))
        return day.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)
    return _moment(value, graph=True)


def _away(key: str, tag: str, event: Mapping[str, Any]) -> Change:
    """An out-of-office block (timed or all-day, of any length up to a year)."""
    ends = [event.get("start") or {}, event.get("end") or {}]
    zone = str(ends[0].get("timeZone") or ends[1].get("timeZone") or "UTC")
    start, end = (_day_or_moment(value, zone) for value in ends)
    if not start < end <= start + timedelta(days=ABSENCE_MAX_DAYS):
        raise UnusableEvent("an out-of-office block ends after it starts, within a year")
    return Away(key, away_version(start, end), tag, start, end)


# Google's eventType values that are not meetings (the Calendar v3 Event resource); an
# out-of-office block is :class:`Away`
GOOGLE_NOT_MEETINGS = {
    "focusTime": "focus_time",
    "workingLocation": "working_location",
    "birthday": "birthday",
}
# Graph's showAs values that do not take the person's time (the event resource); ``oof``
# (out of office) is :class:`Away`
GRAPH_NOT_BUSY = {"free": "free", "workingElsewhere": "working_location"}
NOT_ANSWERED = {"declined": "declined", "needs_action": "not_answered"}


def _observed(
    key: str,
    tag: str,
    times: tuple[datetime, datetime],
    people: int,
    organizer_is_self: bool,
    response: str,
    recurring: bool,
) -> Change:
    """The meeting, or :class:`Cancelled` when it takes none of the person's time."""
    if response in NOT_ANSWERED:
        return Cancelled(key, CANCELLED, tag, NOT_ANSWERED[response])
    if people < 2:
        return Cancelled(key, CANCELLED, tag, "alone")
    start, end = times
    wrong = meeting_errors(start, end)
    if wrong:  # not before its end, or longer than a day (a trip)
        raise UnusableEvent(wrong["end"][0])
    version = observed_version(start, end, people, organizer_is_self, response, recurring)
    return Observed(key, version, tag, start, end, people, organizer_is_self, response, recurring)


def _google_attendees(
    attendees: Any,
) -> tuple[Mapping[str, Any] | None, int, int]:
    """Of a Google event's ``attendees``: the person's own entry (the first with ``self``),
    how many others are people (not rooms), and how many entries there are (non-objects
    skipped). One pass: a town hall lists hundreds."""
    own, others, listed = None, 0, 0
    for a in attendees:
        if type(a) is not dict and not isinstance(a, Mapping):
            continue
        listed += 1
        if a.get("self"):
            own = own or a
        elif not a.get("resource"):
            others += 1
    return own, others, listed


def from_google(provider: str, event: Mapping[str, Any]) -> Change:
    """A Google Calendar v3 event (``singleEvents=true``) -> what Compound keeps.

    Parameters:
        provider: the connection's provider name (part of the meeting key).
        event: the event as listed (with or without the ``fields`` Compound asks for).

    Returns:
        :class:`Observed`, or :class:`Cancelled` (cancelled, or not counted: ``reason``).

    Raises:
        UnusableEvent: no start or end time, or longer than a day.
    """
    event_id = str(event["id"])
    tag = str(event.get("etag", ""))
    key = meeting_key(provider, event_id)
    if event.get("status") == "cancelled":
        return Cancelled(key, CANCELLED, tag)
    kind = str(event.get("eventType") or "default")
    if kind == "outOfOffice":
        return _away(key, tag, event)
    if kind in GOOGLE_NOT_MEETINGS:
        return Cancelled(key, CANCELLED, tag, GOOGLE_NOT_MEETINGS[kind])
    if not (event.get("start") or {}).get("dateTime"):
        if (event.get("start") or {}).get("date"):
            return Cancelled(key, CANCELLED, tag, "all_day")
        raise UnusableEvent("no start time")
    if event.get("transparency") == "transparent":
        return Cancelled(key, CANCELLED, tag, "free")
    own, others, listed = _google_attendees(event.get("attendees") or [])
    organizer_is_self = bool((event.get("organizer") or {}).get("self"))
    if own is not None:
        response = _GOOGLE_RESPONSES.get(str(own.get("responseStatus")), "needs_action")
    else:
        response = "accepted" if organizer_is_self or not listed else "needs_action"
    if event.get("attendeesOmitted"):  # only the person is listed; others exist
        others = max(others, 1)
    return _observed(
        key,
        tag,
        (_moment(event.get("start")), _moment(event.get("end"))),
        others + 1,
        organizer_is_self,
        response,
        bool(event.get("recurringEventId")),
    )


def from_graph(provider: str, event: Mapping[str, Any]) -> Change:
    """A Microsoft Graph ``calendarView/delta`` event -> what Compound keeps.

    Graph lists the organizer apart from the attendees (the person too when they organise),
    so the people are the attendees other than rooms plus one; deletions are ``@removed``.

    Parameters:
        provider: the connection's provider name (part of the meeting key).
        event: the event as listed (with or without the ``$select`` Compound asks for).

    Returns:
        :class:`Observed`, or :class:`Cancelled` (cancelled, or not counted: ``reason``).

    Raises:
        UnusableEvent: no start or end time, or longer than a day.
    """
    event_id = str(event["id"])
    tag = str(event.get("changeKey") or event.get("@odata.etag") or "")
    key = meeting_key(provider, event_id)
    if "@removed" in event or event.get("isCancelled"):
        return Cancelled(key, CANCELLED, tag)
    declined = (event.get("responseStatus") or {}).get("response") == "declined"
    if event.get("showAs") == "oof" and not declined:
        return _away(key, tag, event)
    if event.get("isAllDay"):
        return Cancelled(key, CANCELLED, tag, "all_day")
    show_as = str(event.get("showAs") or "busy")
    if show_as in GRAPH_NOT_BUSY:
        return Cancelled(key, CANCELLED, tag, GRAPH_NOT_BUSY[show_as])
    organizer_is_self = bool(event.get("isOrganizer"))
    raw = str((event.get("responseStatus") or {}).get("response") or "none")
    response = "accepted" if organizer_is_self else _GRAPH_RESPONSES.get(raw, "needs_action")
    people = 1 + sum(
        1
        for a in event.get("attendees") or []
        if (type(a) is dict or isinstance(a, Mapping)) and a.get("type") != "resource"
    )
    return _observed(
        key,
        tag,
        (_moment(event.get("start"), graph=True), _moment(event.get("end"), graph=True)),
        people,
        organizer_is_self,
        response,
        event.get("type") in ("occurrence", "exception") or bool(event.get("seriesMasterId")),
    )

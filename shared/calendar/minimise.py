"""Data minimisation: a provider's event -> the few facts Compound keeps (docs/calendar.md,
"What Compound keeps, and what it never keeps").

Pure functions, no I/O. What leaves here is timing and counts only: start, end, attendee
count, 1:1, with-manager, organizer-is-self, own response, recurring. Titles, descriptions,
locations and attendee addresses are read (to count and to compare with the manager's
address) and dropped. The provider's event id becomes an opaque ``meeting_key`` (a digest);
``version`` is a digest of the minimised facts, so an edit Compound cannot see (a new title,
another description) changes the provider's etag but appends nothing, and the version of a
meeting can be recomputed from the log (:func:`version_of`). The etag / changeKey itself
is kept only to derive the ids of appended events (shared/calendar/sync.py).
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shared.domain.bounds import meeting_errors

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
    one_on_one: bool
    with_manager: bool
    organizer_is_self: bool
    response_status: str
    recurring: bool

    def data(self) -> dict[str, Any]:
        return {
            "meeting_key": self.meeting_key,
            "start": self.start,
            "end": self.end,
            "attendee_count": self.attendee_count,
            "one_on_one": self.one_on_one,
            "with_manager": self.with_manager,
            "organizer_is_self": self.organizer_is_self,
            "response_status": self.response_status,
            "recurring": self.recurring,
        }


@dataclass(frozen=True, slots=True)
class Cancelled:
    meeting_key: str
    version: str
    etag: str


Change = Observed | Cancelled


def meeting_key(provider: str, event_id: str) -> str:
    """The opaque, stable key of a provider's event (the same across its versions)."""
    return hashlib.sha256(f"{provider}\x1f{event_id}".encode()).hexdigest()[:40]


FACTS = (
    "start",
    "end",
    "attendee_count",
    "one_on_one",
    "with_manager",
    "organizer_is_self",
    "response_status",
    "recurring",
)
CANCELLED = "cancelled"


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


def _observed(
    provider: str,
    event_id: str,
    tag: str,
    start: datetime,
    end: datetime,
    addresses: Collection[str],
    organizer_is_self: bool,
    response: str,
    recurring: bool,
    managers: Collection[str],
) -> Observed:
    wrong = meeting_errors(start, end)
    if wrong:  # not before its end, or longer than a day (an all-day block, a trip)
        raise UnusableEvent(wrong["end"][0])
    count = max(len(addresses), 1)
    with_manager = any(a in managers for a in addresses)
    facts = dict(
        zip(
            FACTS,
            (start, end, count, count == 2, with_manager, organizer_is_self, response, recurring),
            strict=True,
        )
    )
    return Observed(
        meeting_key(provider, event_id),
        version_of(facts),
        tag,
        start,
        end,
        count,
        count == 2,
        with_manager,
        organizer_is_self,
        response,
        recurring,
    )


def from_google(provider: str, event: Mapping[str, Any], managers: Collection[str]) -> Change:
    """A Google Calendar v3 event (``singleEvents=true``) -> what Compound keeps.

    Parameters:
        provider: the connection's provider name (part of the meeting key).
        managers: lower-case e-mail addresses of the person's managers.

    Raises:
        UnusableEvent: no start or end time.
    """
    event_id = str(event["id"])
    tag = str(event.get("etag", ""))
    if event.get("status") == "cancelled":
        return Cancelled(meeting_key(provider, event_id), CANCELLED, tag)
    attendees = [a for a in event.get("attendees") or [] if isinstance(a, Mapping)]
    own = next((a for a in attendees if a.get("self")), None)
    organizer = event.get("organizer") or {}
    organizer_is_self = bool(organizer.get("self"))
    if own is not None:
        response = _GOOGLE_RESPONSES.get(str(own.get("responseStatus")), "needs_action")
    else:
        response = "accepted" if organizer_is_self or not attendees else "needs_action"
    addresses = {str(a.get("email", "")).lower() for a in attendees}
    if not attendees:
        addresses = {"self"}
    return _observed(
        provider,
        event_id,
        tag,
        _moment(event.get("start")),
        _moment(event.get("end")),
        addresses,
        organizer_is_self,
        response,
        bool(event.get("recurringEventId")),
        managers,
    )


def from_graph(provider: str, event: Mapping[str, Any], managers: Collection[str]) -> Change:
    """A Microsoft Graph ``calendarView/delta`` event -> what Compound keeps.

    Graph lists the organizer apart from the attendees, and marks deletions ``@removed``.

    Raises:
        UnusableEvent: no start or end time.
    """
    event_id = str(event["id"])
    tag = str(event.get("changeKey") or event.get("@odata.etag") or "")
    if "@removed" in event or event.get("isCancelled"):
        return Cancelled(meeting_key(provider, event_id), CANCELLED, tag)
    organizer = ((event.get("organizer") or {}).get("emailAddress") or {}).get("address", "")
    addresses = {
        str(((a.get("emailAddress") or {}).get("address")) or "").lower()
        for a in event.get("attendees") or []
        if isinstance(a, Mapping)
    }
    addresses.add(str(organizer).lower() or "organizer")
    organizer_is_self = bool(event.get("isOrganizer"))
    raw = str((event.get("responseStatus") or {}).get("response") or "none")
    response = _GRAPH_RESPONSES.get(raw, "needs_action")
    return _observed(
        provider,
        event_id,
        tag,
        _moment(event.get("start"), graph=True),
        _moment(event.get("end"), graph=True),
        addresses,
        organizer_is_self,
        response,
        event.get("type") in ("occurrence", "exception") or bool(event.get("seriesMasterId")),
        managers,
    )

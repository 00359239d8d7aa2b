"""The after-meeting nudge (issue #24, item 5; the seed's analyst who sends a 3-bullet summary
after sprint demos): when a meeting the person organised or attended with at least three
others has ended, Today offers "send a 3-bullet summary and ask if it was useful", prefilled
with the meeting's time and size only (Compound never holds a title). Off by default per
person (``MeetingNudgesSet``); at most one offer a day.

Pure functions over the minimised facts of ``MeetingObserved`` / ``MeetingCancelled``; the
reads and the setting are in shared/commands/meeting_nudges.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

MIN_OTHERS = 3
"""The fewest other people in a meeting worth a summary."""
TACTIC = "meeting_quick_win"
"""The micro-action the offer logs (its examples include "summarising decisions")."""


@dataclass(frozen=True, slots=True)
class Offer:
    """A meeting to summarise: its local start and end and how many took part."""

    start: datetime
    end: datetime
    people: int

    @property
    def note(self) -> str:
        """The prefilled note of the action: time and size, never a title."""
        return (
            f"Sent a 3-bullet summary of the {self.start:%H:%M}-{self.end:%H:%M} meeting "
            f"({self.people} people) and asked if it was useful."
        )


def latest_meetings(events: Iterable[tuple[str, Mapping[str, Any]]]) -> list[Mapping[str, Any]]:
    """The last observation of each meeting still on, from a calendar stream in log order.

    Parameters:
        events: (type, data) of its ``MeetingObserved`` and ``MeetingCancelled`` events.

    Returns:
        The data of each meeting's latest ``MeetingObserved`` not cancelled since.
    """
    latest: dict[str, Mapping[str, Any] | None] = {}
    for kind, data in events:
        if kind == "MeetingObserved":
            latest[data["meeting_key"]] = data
        elif kind == "MeetingCancelled":
            latest[data["meeting_key"]] = None
    return [m for m in latest.values() if m is not None]


def _moment(value: Any) -> datetime:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def offer(
    meetings: Iterable[Mapping[str, Any]], now: datetime, zone: str, acted_since: datetime | None
) -> Offer | None:
    """Today's offer, if any: the first meeting of the person's local day that has ended,
    was organised or attended (accepted or tentative) by them and had at least
    :data:`MIN_OTHERS` others; none once they logged a :data:`TACTIC` action after it ended
    (at most one offer a day).

    Parameters:
        meetings: minimised meetings (``latest_meetings``), times aware or ISO text.
        now: the current moment (aware).
        zone: the person's IANA zone (their day and the offer's clock times).
        acted_since: when they last logged a :data:`TACTIC` action, if ever.

    Returns:
        The offer, or None.
    """
    info = ZoneInfo(zone)
    today = now.astimezone(info).date()
    ended = []
    for meeting in meetings:
        end = _moment(meeting["end"]).astimezone(info)
        if end > now or end.date() != today or meeting["attendee_count"] < MIN_OTHERS + 1:
            continue
        if meeting["organizer_is_self"] or meeting["response_status"] in ("accepted", "tentative"):
            ended.append((end, _moment(meeting["start"]).astimezone(info), meeting))
    if not ended:
        return None
    end, start, first = min(ended, key=lambda found: found[0])
    if acted_since is not None and acted_since >= end:
        return None
    return Offer(start, end, int(first["attendee_count"]))

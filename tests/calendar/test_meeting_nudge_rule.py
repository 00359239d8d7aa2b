"""The after-meeting nudge's rule (shared/calendar/nudges.py), pure: which meeting Today
offers to summarise, in the person's day, at most once a day, never with a title."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from shared.calendar.nudges import MIN_OTHERS, latest_meetings, offer

NOW = datetime(2026, 11, 10, 16, 0, tzinfo=UTC)  # a Tuesday


def meeting(ended_ago: float, people: int = 5, **changes: Any) -> dict[str, Any]:
    end = NOW - timedelta(hours=ended_ago)
    data = {"meeting_key": f"k{ended_ago}{people}", "start": (end - timedelta(hours=1)).isoformat(),
            "end": end.isoformat(), "attendee_count": people, "organizer_is_self": False,
            "response_status": "accepted", "recurring": False}  # fmt: skip
    return {**data, **changes}


def test_the_first_meeting_of_the_day_with_three_others_is_offered():
    found = offer([meeting(1), meeting(3, people=7)], NOW, "UTC", None)
    assert found is not None and found.people == 7  # the first to end today
    assert (found.start.hour, found.end.hour) == (12, 13)
    assert found.note == (
        "Sent a 3-bullet summary of the 12:00-13:00 meeting (7 people) and asked if it was useful."
    )


def test_small_declined_unanswered_or_future_meetings_are_not():
    assert offer([meeting(1, people=MIN_OTHERS)], NOW, "UTC", None) is None  # two others
    assert offer([meeting(1, response_status="declined")], NOW, "UTC", None) is None
    assert offer([meeting(1, response_status="needs_action")], NOW, "UTC", None) is None
    assert offer([meeting(-0.5)], NOW, "UTC", None) is None  # not over yet
    organised = meeting(1, response_status="needs_action", organizer_is_self=True)
    assert offer([organised], NOW, "UTC", None) is not None
    assert offer([meeting(1, response_status="tentative")], NOW, "UTC", None) is not None


def test_only_meetings_of_the_persons_own_day():
    """At 10:00 UTC (19:00 in Tokyo), a meeting that ended at 23:00 UTC yesterday is
    yesterday's in UTC but today's in Tokyo (08:00); one that ended at 01:00 UTC today is
    today's in UTC, yesterday's (17:00) in Los Angeles."""
    now = NOW.replace(hour=10)
    late_yesterday = meeting(17)  # 23:00 UTC the day before
    early = meeting(15)  # 01:00 UTC
    assert offer([late_yesterday], now, "UTC", None) is None
    found = offer([late_yesterday], now, "Asia/Tokyo", None)
    assert found is not None and found.end.hour == 8
    assert offer([early], now, "UTC", None) is not None
    assert offer([early], now, "America/Los_Angeles", None) is None


def test_at_most_once_a_day():
    meetings = [meeting(3), meeting(1)]
    acted = NOW - timedelta(hours=2)  # a summary logged after the first meeting ended
    assert offer(meetings, NOW, "UTC", acted) is None
    before = NOW - timedelta(hours=5)  # a quick win logged before it does not count
    assert offer(meetings, NOW, "UTC", before) is not None


def test_the_latest_observation_of_each_meeting_counts():
    moved = meeting(1)
    events = [
        ("MeetingObserved", meeting(3, meeting_key="a")),
        ("MeetingObserved", {**moved, "meeting_key": "a"}),
        ("MeetingObserved", meeting(2, meeting_key="b")),
        ("MeetingCancelled", {"meeting_key": "b"}),
    ]
    (only,) = latest_meetings(events)
    assert only["end"] == moved["end"]

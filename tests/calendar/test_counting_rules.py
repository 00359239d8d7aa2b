"""What counts as meeting load (docs/levers.md, "What counts as a meeting"): one test per
rule, on the shapes Google Calendar v3 and Microsoft Graph document. An event that does not
count is ``Cancelled`` with its rule as ``reason`` (appended only if it counted before); an
out-of-office block is ``Away``: time that leaves the week's working hours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.calendar.minimise import (
    Away,
    Cancelled,
    Observed,
    UnusableEvent,
    away_version,
    from_google,
    from_graph,
)

ME, ALAN = {"email": "ada@demo.test", "self": True}, {"email": "alan@demo.test"}


def google(**changes: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "id": "g1",
        "etag": '"1"',
        "status": "confirmed",
        "eventType": "default",
        "organizer": {"email": "alan@demo.test"},
        "start": {"dateTime": "2026-11-10T10:00:00-05:00", "timeZone": "America/New_York"},
        "end": {"dateTime": "2026-11-10T10:30:00-05:00", "timeZone": "America/New_York"},
        "attendees": [
            {**ME, "responseStatus": "accepted"},
            {**ALAN, "organizer": True, "responseStatus": "accepted"},
        ],
    }
    return {**event, **changes}


def graph(**changes: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "id": "m1",
        "changeKey": "c1",
        "isAllDay": False,
        "isCancelled": False,
        "isOrganizer": False,
        "showAs": "busy",
        "type": "singleInstance",
        "responseStatus": {"response": "accepted"},
        "start": {"dateTime": "2026-11-10T15:00:00.0000000", "timeZone": "UTC"},
        "end": {"dateTime": "2026-11-10T15:30:00.0000000", "timeZone": "UTC"},
        "attendees": [
            {
                "type": "required",
                "status": {"response": "accepted"},
                "emailAddress": {"address": "ada@demo.test"},
            },
        ],
    }
    return {**event, **changes}


def reason(change: Any) -> str | None:
    return change.reason if isinstance(change, Cancelled) else None


def test_an_accepted_meeting_with_someone_else_counts_on_both():
    assert isinstance(from_google("google", google()), Observed)
    assert isinstance(from_graph("microsoft", graph()), Observed)


@pytest.mark.parametrize("answer", ["accepted", "tentative"])
def test_accepted_and_tentative_count(answer: str):
    own = {**ME, "responseStatus": answer}
    counted = from_google("google", google(attendees=[own, ALAN]))
    assert isinstance(counted, Observed) and counted.response_status == answer
    graph_answer = {"accepted": "accepted", "tentative": "tentativelyAccepted"}[answer]
    shown = {"accepted": "busy", "tentative": "tentative"}[answer]
    change = from_graph("m", graph(responseStatus={"response": graph_answer}, showAs=shown))
    assert isinstance(change, Observed) and change.response_status == answer


def test_declined_does_not_count():
    declined = {**ME, "responseStatus": "declined"}
    assert reason(from_google("google", google(attendees=[declined, ALAN]))) == "declined"
    assert reason(from_graph("m", graph(responseStatus={"response": "declined"}))) == "declined"


def test_an_unanswered_invitation_does_not_count():
    waiting = {**ME, "responseStatus": "needsAction"}
    assert reason(from_google("google", google(attendees=[waiting, ALAN]))) == "not_answered"
    unanswered = graph(responseStatus={"response": "notResponded"})
    assert reason(from_graph("m", unanswered)) == "not_answered"


def test_free_or_transparent_does_not_count():
    assert reason(from_google("google", google(transparency="transparent"))) == "free"
    assert reason(from_graph("m", graph(showAs="free"))) == "free"


def test_all_day_does_not_count():
    day = google(start={"date": "2026-11-10"}, end={"date": "2026-11-11"})
    assert reason(from_google("google", day)) == "all_day"
    whole_day = graph(
        isAllDay=True,
        start={"dateTime": "2026-11-10T00:00:00.0000000", "timeZone": "UTC"},
        end={"dateTime": "2026-11-11T00:00:00.0000000", "timeZone": "UTC"},
    )  # Graph sends an all-day event as midnight to midnight: once counted as 24 hours
    assert reason(from_graph("m", whole_day)) == "all_day"


@pytest.mark.parametrize(
    ("event_type", "rule"),
    [
        ("focusTime", "focus_time"),
        ("workingLocation", "working_location"),
        ("birthday", "birthday"),
    ],
)
def test_google_blocks_that_are_not_meetings_do_not_count(event_type: str, rule: str):
    block = google(
        eventType=event_type,
        organizer={"email": "ada@demo.test", "self": True},
        attendees=[{**ME, "responseStatus": "accepted"}, ALAN],
    )
    assert reason(from_google("google", block)) == rule


def test_google_out_of_office_is_time_away_not_a_meeting():
    # Out of office as Google sends it: timed over the whole day, busy, declining invitations.
    block = google(
        eventType="outOfOffice",
        organizer={"email": "ada@demo.test", "self": True},
        start={"dateTime": "2026-11-13T00:00:00-05:00", "timeZone": "America/New_York"},
        end={"dateTime": "2026-11-14T00:00:00-05:00", "timeZone": "America/New_York"},
        attendees=None,
        outOfOfficeProperties={"autoDeclineMode": "declineAllConflictingInvitations"},
    )
    away = from_google("google", block)
    assert isinstance(away, Away)
    assert (away.start, away.end) == (datetime(2026, 11, 13, 5, tzinfo=UTC),
                                      datetime(2026, 11, 14, 5, tzinfo=UTC))  # fmt: skip
    assert set(away.data()) == {"meeting_key", "start", "end"}
    assert away.version == away_version(away.start.isoformat(), away.end.isoformat())


def test_a_week_out_of_office_as_whole_days_is_one_block():
    holiday = google(
        eventType="outOfOffice",
        start={"date": "2026-11-16", "timeZone": "Europe/Berlin"},
        end={"date": "2026-11-21"},
        attendees=None,
    )
    away = from_google("google", holiday)
    assert isinstance(away, Away) and away.end - away.start == timedelta(days=5)
    assert away.start == datetime(2026, 11, 15, 23, tzinfo=UTC)  # Monday 00:00 in Berlin


def test_a_block_that_ends_before_it_starts_or_lasts_years_is_unusable():
    backwards = google(eventType="outOfOffice", end={"dateTime": "2026-11-10T09:00:00-05:00"})
    with pytest.raises(UnusableEvent):
        from_google("google", backwards)
    years = graph(showAs="oof", end={"dateTime": "2029-11-10T15:30:00.0000000", "timeZone": "UTC"})
    with pytest.raises(UnusableEvent):
        from_graph("m", years)


def test_graph_out_of_office_is_time_away_even_all_day():
    day = graph(
        showAs="oof",
        isAllDay=True,
        start={"dateTime": "2026-11-13T00:00:00.0000000", "timeZone": "UTC"},
        end={"dateTime": "2026-11-14T00:00:00.0000000", "timeZone": "UTC"},
    )
    away = from_graph("m", day)
    assert isinstance(away, Away) and away.end - away.start == timedelta(days=1)
    # an out-of-office invitation the person declined is no time away
    declined = graph(showAs="oof", responseStatus={"response": "declined"})
    assert reason(from_graph("m", declined)) == "declined"


def test_graph_working_elsewhere_does_not_count():
    assert reason(from_graph("m", graph(showAs="workingElsewhere"))) == "working_location"


def test_an_event_with_no_one_else_does_not_count():
    alone = google(organizer={"email": "ada@demo.test", "self": True}, attendees=None)
    assert reason(from_google("google", alone)) == "alone"
    only_me = google(attendees=[{**ME, "responseStatus": "accepted"}])
    assert reason(from_google("google", only_me)) == "alone"
    mine = graph(isOrganizer=True, responseStatus={"response": "organizer"}, attendees=[])
    assert reason(from_graph("m", mine)) == "alone"


def test_a_room_is_not_another_person():
    room = {"email": "room-4@resource.calendar.google.com", "resource": True,
            "responseStatus": "accepted"}  # fmt: skip
    booked = google(
        organizer={"email": "ada@demo.test", "self": True},
        attendees=[{**ME, "organizer": True, "responseStatus": "accepted"}, room],
    )
    assert reason(from_google("google", booked)) == "alone"
    rooms = [{"type": "resource", "emailAddress": {"address": "room-4@demo.test"}}]
    mine = graph(isOrganizer=True, responseStatus={"response": "organizer"}, attendees=rooms)
    assert reason(from_graph("m", mine)) == "alone"


def test_omitted_attendees_still_mean_someone_else():
    # maxAttendees: Google lists only the person and says the others were left out
    omitted = google(attendees=[{**ME, "responseStatus": "accepted"}], attendeesOmitted=True)
    change = from_google("google", omitted)
    assert isinstance(change, Observed) and change.attendee_count == 2


def test_a_meeting_of_hundreds_counts_them_all():
    crowd = [{"email": f"staff-{i}@demo.test", "responseStatus": "accepted"} for i in range(300)]
    change = from_google("google", google(attendees=[{**ME, "responseStatus": "accepted"}, *crowd]))
    assert isinstance(change, Observed) and change.attendee_count == 301


def test_cancelled_instances_of_a_series_are_cancellations():
    gone = {
        "id": "s_20261110T150000Z",
        "etag": '"2"',
        "status": "cancelled",
        "recurringEventId": "s",
        "originalStartTime": {"dateTime": "2026-11-10T15:00:00Z"},
    }
    assert reason(from_google("google", gone)) == "cancelled"
    assert reason(from_graph("m", graph(isCancelled=True))) == "cancelled"


def test_an_exception_of_a_series_is_a_recurring_meeting_at_its_new_time():
    moved = graph(type="exception", seriesMasterId="AAMkS", originalStart="2026-11-10T14:00:00Z")
    change = from_graph("m", moved)
    assert isinstance(change, Observed) and change.recurring
    assert change.start.hour == 15

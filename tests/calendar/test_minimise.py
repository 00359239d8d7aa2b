"""Data minimisation as pure functions: Google and Graph events -> timing and counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from shared.calendar.minimise import (
    CANCELLED,
    Cancelled,
    Observed,
    UnusableEvent,
    from_google,
    from_graph,
    meeting_key,
    observed_version,
    version_of,
)

GOOGLE = {
    "id": "abc_20261110T140000Z",
    "etag": '"3181161784712000"',
    "status": "confirmed",
    "summary": "1:1 Ada / Grace",
    "description": "Career chat",
    "recurringEventId": "abc",
    "organizer": {"email": "grace@demo.test"},
    "start": {"dateTime": "2026-11-10T15:00:00+01:00", "timeZone": "Europe/Berlin"},
    "end": {"dateTime": "2026-11-10T15:30:00+01:00", "timeZone": "Europe/Berlin"},
    "attendees": [
        {"email": "ada@demo.test", "self": True, "responseStatus": "tentative"},
        {"email": "Grace@demo.test", "organizer": True, "responseStatus": "accepted"},
    ],
}


def test_a_google_event_keeps_only_timing_and_counts():
    change = from_google("google", GOOGLE)
    assert isinstance(change, Observed)
    assert change.start == datetime(2026, 11, 10, 14, tzinfo=UTC)
    assert change.attendee_count == 2
    assert (change.organizer_is_self, change.response_status, change.recurring) == (
        False,
        "tentative",
        True,
    )
    assert change.meeting_key == meeting_key("google", str(GOOGLE["id"]))
    assert set(change.data()) == {"meeting_key", "start", "end", "attendee_count",
                                  "organizer_is_self", "response_status", "recurring"}  # fmt: skip
    text = repr(change.data())
    assert "Grace" not in text and "grace@" not in text and "Career" not in text


def test_the_version_follows_the_facts_not_the_etag():
    renamed = from_google("google", {**GOOGLE, "etag": '"2"', "summary": "Renamed"})
    moved = from_google(
        "google", {**GOOGLE, "start": {"dateTime": "2026-11-10T14:15:00Z"}}
    )  # 15 minutes later (starting at its end would make it no meeting: docs/api.md, Bounds)
    original = from_google("google", GOOGLE)
    assert isinstance(original, Observed) and isinstance(moved, Observed)
    assert renamed.version == original.version and moved.version != original.version
    stored = {**original.data(), "start": "2026-11-10T14:00:00+00:00",
              "end": "2026-11-10T14:30:00+00:00"}  # fmt: skip
    assert version_of(stored) == original.version  # recomputable from the log
    old = {**stored, "one_on_one": True, "with_manager": True}  # an event of before
    assert version_of(old) == original.version


def test_cancellations_and_unusable_events():
    gone = from_google("google", {"id": "x", "etag": '"9"', "status": "cancelled"})
    assert isinstance(gone, Cancelled) and gone.version == CANCELLED
    assert gone.reason == "cancelled"
    with pytest.raises(UnusableEvent):
        from_google("google", {**GOOGLE, "start": {}})
    with pytest.raises(UnusableEvent):  # a timed event over more than a day: a trip
        from_google("google", {**GOOGLE, "end": {"dateTime": "2026-11-12T15:00:00+01:00"}})
    removed = from_graph("microsoft", {"id": "y", "@removed": {"reason": "deleted"}})
    assert isinstance(removed, Cancelled)


def test_only_the_fields_compound_asks_google_for_are_enough():
    """The event as ``fields=`` trims it (GOOGLE_FIELDS): no addresses, no title."""
    trimmed = {
        "id": GOOGLE["id"],
        "etag": GOOGLE["etag"],
        "status": "confirmed",
        "eventType": "default",
        "start": GOOGLE["start"],
        "end": GOOGLE["end"],
        "recurringEventId": "abc",
        "organizer": {},
        "attendees": [{"self": True, "responseStatus": "tentative"},
                      {"responseStatus": "accepted"}],
    }  # fmt: skip
    assert from_google("google", trimmed) == from_google("google", GOOGLE)


GRAPH = {
    "id": "AAMk",
    "changeKey": "ck1",
    "subject": "Planning",
    "isOrganizer": True,
    "isAllDay": False,
    "showAs": "busy",
    "type": "singleInstance",
    "start": {"dateTime": "2026-11-12T18:00:00.0000000", "timeZone": "UTC"},
    "end": {"dateTime": "2026-11-12T19:00:00.0000000", "timeZone": "UTC"},
    "responseStatus": {"response": "organizer"},
    "organizer": {"emailAddress": {"address": "ada@demo.test"}},
    "attendees": [
        {
            "type": "required",
            "emailAddress": {"address": "alan@demo.test"},
            "status": {"response": "accepted"},
        },
        {"type": "optional", "emailAddress": {"address": "guest@partner.example"}},
        {"type": "resource", "emailAddress": {"address": "room-4@demo.test"}},
    ],
}


def test_a_graph_event_counts_the_organizer_not_rooms_and_reads_seven_fraction_digits():
    change = from_graph("microsoft", GRAPH)
    assert isinstance(change, Observed)
    assert change.start == datetime(2026, 11, 12, 18, tzinfo=UTC)
    assert change.attendee_count == 3  # the person (organizer), two guests; the room is none
    assert (change.organizer_is_self, change.response_status, change.recurring) == (
        True,
        "accepted",
        False,
    )


@pytest.mark.parametrize(
    "start",
    [
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 0, tzinfo=UTC),
        datetime(2026, 11, 10, 14, 0, 0, 1, tzinfo=UTC),
        datetime(2026, 11, 10, 14, tzinfo=timezone(timedelta(hours=14))),
        datetime(2026, 11, 10, 14, tzinfo=timezone(timedelta(hours=-12))),
    ],
)
@pytest.mark.parametrize("people", [2, 401])
def test_theobserved_version_is_the_one_the_log_recomputes(start, people):
    end = start + timedelta(minutes=30)
    facts = {"start": start, "end": end, "attendee_count": people, "organizer_is_self": True,
             "response_status": "tentative", "recurring": False}  # fmt: skip
    direct = observed_version(start, end, people, True, "tentative", False)
    assert direct == version_of(facts)
    as_text = {**facts, "start": start.isoformat(), "end": end.isoformat()}
    assert direct == version_of(as_text)  # as a MeetingObserved holds it

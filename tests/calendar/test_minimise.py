"""Data minimisation as pure functions: Google and Graph events -> timing and counts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shared.calendar.minimise import (
    CANCELLED,
    Cancelled,
    Observed,
    UnusableEvent,
    from_google,
    from_graph,
    meeting_key,
    version_of,
)

MANAGERS = frozenset({"grace@demo.test"})
GOOGLE = {
    "id": "abc_20261110T140000Z",
    "etag": '"3181161784712000"',
    "status": "confirmed",
    "summary": "1:1 Ada / Grace",
    "description": "Career chat",
    "recurringEventId": "abc",
    "organizer": {"email": "grace@demo.test"},
    "start": {"dateTime": "2026-11-10T15:00:00+01:00"},
    "end": {"dateTime": "2026-11-10T15:30:00+01:00"},
    "attendees": [
        {"email": "ada@demo.test", "self": True, "responseStatus": "tentative"},
        {"email": "Grace@demo.test", "organizer": True, "responseStatus": "accepted"},
    ],
}


def test_a_google_event_keeps_only_timing_and_counts():
    change = from_google("google", GOOGLE, MANAGERS)
    assert isinstance(change, Observed)
    assert change.start == datetime(2026, 11, 10, 14, tzinfo=UTC)
    assert (change.attendee_count, change.one_on_one, change.with_manager) == (2, True, True)
    assert (change.organizer_is_self, change.response_status, change.recurring) == (
        False,
        "tentative",
        True,
    )
    assert change.meeting_key == meeting_key("google", GOOGLE["id"])
    text = repr(change.data())
    assert "Grace" not in text and "grace@" not in text and "Career" not in text


def test_the_version_follows_the_facts_not_the_etag():
    renamed = from_google("google", {**GOOGLE, "etag": '"2"', "summary": "Renamed"}, MANAGERS)
    moved = from_google(
        "google", {**GOOGLE, "start": {"dateTime": "2026-11-10T14:15:00Z"}}, MANAGERS
    )  # 15 minutes later (starting at its end would make it no meeting: docs/api.md, Bounds)
    original = from_google("google", GOOGLE, MANAGERS)
    assert isinstance(original, Observed) and isinstance(moved, Observed)
    assert renamed.version == original.version and moved.version != original.version
    stored = {**original.data(), "start": "2026-11-10T14:00:00+00:00",
              "end": "2026-11-10T14:30:00+00:00"}  # fmt: skip
    assert version_of(stored) == original.version  # recomputable from the log


def test_cancellations_and_unusable_events():
    gone = from_google("google", {"id": "x", "etag": '"9"', "status": "cancelled"}, MANAGERS)
    assert isinstance(gone, Cancelled) and gone.version == CANCELLED
    with pytest.raises(UnusableEvent):
        from_google("google", {**GOOGLE, "start": {"date": "2026-11-10"}}, MANAGERS)
    removed = from_graph("microsoft", {"id": "y", "@removed": {"reason": "deleted"}}, MANAGERS)
    assert isinstance(removed, Cancelled)


def test_a_graph_event_counts_the_organizer_and_reads_seven_fraction_digits():
    event = {
        "id": "AAMk",
        "changeKey": "ck1",
        "subject": "Planning",
        "isOrganizer": True,
        "type": "singleInstance",
        "start": {"dateTime": "2026-11-12T18:00:00.0000000", "timeZone": "UTC"},
        "end": {"dateTime": "2026-11-12T19:00:00.0000000", "timeZone": "UTC"},
        "responseStatus": {"response": "organizer"},
        "organizer": {"emailAddress": {"address": "ada@demo.test"}},
        "attendees": [
            {"emailAddress": {"address": "alan@demo.test"}, "status": {"response": "accepted"}},
            {"emailAddress": {"address": "guest@partner.example"}},
        ],
    }
    change = from_graph("microsoft", event, MANAGERS)
    assert isinstance(change, Observed)
    assert change.start == datetime(2026, 11, 12, 18, tzinfo=UTC)
    assert (change.attendee_count, change.one_on_one, change.with_manager) == (3, False, False)
    assert (change.organizer_is_self, change.response_status, change.recurring) == (
        True,
        "accepted",
        False,
    )

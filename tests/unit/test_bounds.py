"""Bounds, without a database (issue 18): the pure rules of shared/domain/bounds.py, the
catalogue's window, and hypothesis over datetimes and zones showing that no domain function
taking a time raises at the extremes of the allowed span in any zone, while year 1, year
9999 and weeks that do not exist are refused, never raised on."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.calendar.minimise import UnusableEvent, from_google
from shared.domain import levers, weeks
from shared.domain.bounds import (
    EARLIEST,
    LATEST,
    MAX_AHEAD,
    MAX_PAST,
    Span,
    in_window,
    meeting_errors,
    meeting_horizon,
    span_errors,
    tenant_span,
    week_in_window,
)
from shared.domain.working_hours import default_schedule, schedule, schedule_in_week, time_zones
from shared.eventlog import CATALOGUE, EventValidationError
from shared.projections.levers.calendar import MeetingPlacer

EXTREME_ZONES = [
    "Pacific/Kiritimati",
    "Pacific/Niue",
    "Asia/Kathmandu",
    "Etc/GMT-14",
    "Etc/GMT+12",
    "UTC",
]
ZONES = st.one_of(st.sampled_from(EXTREME_ZONES), st.sampled_from(sorted(time_zones())))
WINDOW = st.datetimes(
    min_value=EARLIEST.replace(tzinfo=None),
    max_value=(LATEST - timedelta(microseconds=1)).replace(tzinfo=None),
    timezones=st.just(UTC),
)
ANY_TIME = st.datetimes(  # year 1 to year 9999, in offsets up to +-14 h
    min_value=datetime(1, 1, 1),
    max_value=datetime(9999, 12, 31, 23, 59, 59),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=14)), timezone(timedelta(hours=-12))]),
)
NOW = datetime(2026, 12, 6, 12, tzinfo=UTC)


# -- the rules ---------------------------------------------------------------------------------


def test_an_organisations_span_runs_from_its_creation_minus_two_years_to_tomorrow():
    created = NOW - timedelta(days=100)
    span = tenant_span(created, NOW)
    assert span == Span(created - MAX_PAST, NOW + MAX_AHEAD)
    assert span.holds(created - MAX_PAST) and span.holds(NOW + MAX_AHEAD)
    assert not span.holds(created - MAX_PAST - timedelta(microseconds=1))
    assert not span.holds(NOW + MAX_AHEAD + timedelta(microseconds=1))
    assert tenant_span(None, NOW) == Span(NOW - MAX_PAST, NOW + MAX_AHEAD)
    meetings = span.ahead(meeting_horizon(4))
    assert meetings.high == NOW + timedelta(weeks=4, days=2)


def test_a_span_stays_inside_the_window_whatever_the_clock_says():
    assert tenant_span(datetime(1, 1, 1, tzinfo=UTC), NOW).low == EARLIEST
    far = tenant_span(None, datetime(9999, 12, 31, 23, tzinfo=UTC))
    assert far.high < LATEST and far.low < LATEST
    assert far.ahead(timedelta(days=999_999_999)).high < LATEST
    assert meeting_horizon(10**9) > timedelta(days=36_500)  # capped, not an OverflowError


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        (NOW, True),
        (NOW - timedelta(days=730), True),
        (NOW - timedelta(days=731), False),
        (NOW + timedelta(days=1), True),
        (NOW + timedelta(days=1, seconds=1), False),
        (datetime(1, 1, 1, tzinfo=UTC), False),
        (datetime(9999, 12, 31, 20, tzinfo=UTC), False),
        (datetime(9999, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=-12))), False),
        (datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14))), False),
        (NOW.replace(tzinfo=None), False),  # no zone
        (NOW.date(), True),
        (date(1, 1, 1), False),
        ("2026-W49", True),
        ("2024-W49", True),  # its Sunday is inside
        ("2024-W48", False),
        ("2026-W50", True),  # starts tomorrow
        ("2026-W51", False),
        ("2026-W53", False),  # exists (2026 has 53 weeks), but three weeks ahead
        ("2025-W53", False),  # does not exist
        ("0001-W01", False),
        ("9999-W52", False),
    ],
)
def test_span_errors(value: Any, ok: bool):
    errors = span_errors("time", value, tenant_span(NOW, NOW))
    assert (errors == []) is ok, errors


@pytest.mark.parametrize(
    ("length", "ok"),
    [
        (timedelta(minutes=1), True),
        (timedelta(hours=24), True),
        (timedelta(0), False),
        (-timedelta(minutes=5), False),
        (timedelta(hours=24, microseconds=1), False),
    ],
)
def test_a_meeting_starts_before_it_ends_and_lasts_at_most_a_day(length: timedelta, ok: bool):
    assert (meeting_errors(NOW, NOW + length) == {}) is ok


def meeting_data(start: str, end: str) -> dict[str, Any]:
    return {
        "person_id": str(uuid.uuid4()),
        "connection_id": str(uuid.uuid4()),
        "meeting_key": "m",
        "start": start,
        "end": end,
        "attendee_count": 3,
        "one_on_one": False,
        "with_manager": False,
        "organizer_is_self": False,
        "response_status": "accepted",
        "recurring": False,
    }


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        ("9999-12-31T20:00:00+00:00", "9999-12-31T21:00:00+00:00", "start"),
        ("0001-01-01T00:00:00+00:00", "2026-01-01T00:00:00+00:00", "start"),
        ("2026-01-01T10:00:00+00:00", "2026-01-01T10:00:00+00:00", "end"),
        ("2026-01-01T10:00:00+00:00", "2026-01-02T10:00:01+00:00", "end"),
        ("2026-01-01T10:00:00+00:00", "2026-01-01T09:00:00+00:00", "end"),
    ],
)
def test_the_catalogue_refuses_meetings_outside_the_rules(start: str, end: str, field: str):
    with pytest.raises(EventValidationError) as err:
        CATALOGUE.normalise("MeetingObserved", meeting_data(start, end))
    assert field in err.value.errors


def test_the_catalogue_keeps_a_24_hour_meeting_and_iana_zones_only():
    data = meeting_data("2026-01-01T10:00:00+14:00", "2026-01-02T10:00:00+14:00")
    assert CATALOGUE.normalise("MeetingObserved", data)[1]["end"] == data["end"]
    joined = {"person_id": str(uuid.uuid4()), "display_name": "Ana"}
    for zone in ("Pacific/Kiritimati", "Pacific/Niue", "Asia/Kathmandu"):
        assert CATALOGUE.normalise("PersonJoined", {**joined, "time_zone": zone})[1]["time_zone"]
    with pytest.raises(EventValidationError) as err:
        CATALOGUE.normalise("PersonJoined", {**joined, "time_zone": "Mars/Olympus"})
    assert "time_zone" in err.value.errors


@pytest.mark.parametrize("week", ["0001-W01", "1999-W52", "2100-W01", "9998-W52", "2025-W53"])
def test_the_catalogue_refuses_weeks_outside_the_window(week: str):
    data = {"person_id": str(uuid.uuid4()), "week": week, "tactics": ["learning_bit"]}
    with pytest.raises(EventValidationError) as err:
        CATALOGUE.normalise("WeeklyPlanSet", data)
    assert "week" in err.value.errors


def test_the_calendar_sync_skips_meetings_longer_than_a_day():
    event = {
        "id": "offsite",
        "start": {"dateTime": "2026-12-01T09:00:00Z"},
        "end": {"dateTime": "2026-12-03T17:00:00Z"},
        "attendees": [{"self": True, "responseStatus": "accepted"}, {"email": "b@x.test"}],
    }
    with pytest.raises(UnusableEvent):
        from_google("local", event)
    event["end"] = {"dateTime": "2026-12-02T09:00:00Z"}  # exactly 24 hours: kept
    assert from_google("local", event).meeting_key


# -- hypothesis: nothing raises inside the span, everything outside is refused ------------------


@st.composite
def moments_in_a_span(draw: st.DrawFn) -> tuple[datetime, datetime, str]:
    """A meeting's start and end inside some organisation's span (ends often at its
    extremes), and a zone."""
    created = draw(WINDOW)
    now = draw(st.one_of(st.just(created), WINDOW.filter(lambda m: m >= created)))
    span = tenant_span(created, now).ahead(meeting_horizon(draw(st.integers(0, 520))))
    edge = st.sampled_from([span.low, span.high])
    inside = st.datetimes(
        min_value=span.low.replace(tzinfo=None),
        max_value=span.high.replace(tzinfo=None),
        timezones=st.just(UTC),
    )
    start = draw(st.one_of(edge, inside))
    length = draw(st.sampled_from([timedelta(minutes=1), timedelta(hours=24)]))
    end = min(start + length, span.high) if start + length < LATEST else span.high
    return start, end, draw(ZONES)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(moments_in_a_span())
def test_no_domain_function_raises_inside_the_span_in_any_zone(
    case: tuple[datetime, datetime, str],
):
    start, end, zone = case
    local = start.astimezone(ZoneInfo(zone))
    label = weeks.iso_week_of(local)
    index = weeks.label_index(label)
    assert index == weeks.week_index(local.date())
    assert weeks.week_start(label) == weeks.week_monday(index)
    assert weeks.parse_iso_week(label)[1] <= weeks.weeks_in_year(weeks.parse_iso_week(label)[0])
    for neighbour in (index - 1, index + 1):
        assert weeks.label_index(weeks.week_label(neighbour)) == neighbour
    assert abs(weeks.utc_week_index(start) - index) <= 1
    for cadence in (1, 2, 4):
        period = weeks.pulse_period(label, cadence)
        assert weeks.label_index(weeks.next_pulse_period(label, cadence)) > weeks.label_index(
            period
        )
    placer = MeetingPlacer()
    week, begins, ends = placer.place(zone, start.isoformat(), end.isoformat())
    assert week == weeks.week_index(local.date()) and begins <= ends
    assert placer.utc_week(start.isoformat()) == weeks.utc_week_index(start)
    hours = schedule("09:00", "17:00", ["mon", "sun"], zone)
    held = schedule_in_week([(week, hours)], week + 1, default_schedule(zone))
    load = levers.meeting_load([(begins, ends)], held.hours)
    assert 0 <= load.meeting_hours <= 24 and levers.calendar_pressure(load) is not None


@settings(max_examples=400, deadline=None)
@given(ANY_TIME, ZONES)
def test_times_outside_the_window_are_refused_never_raised_on(moment: datetime, zone: str):
    span = tenant_span(NOW, NOW)
    errors = span_errors("time", moment, span)
    assert (errors == []) == span.holds(moment)
    data = meeting_data(moment.isoformat(), moment.isoformat())
    with pytest.raises(EventValidationError) as err:  # start == end: always refused
        CATALOGUE.normalise("MeetingObserved", data)
    assert ("start" in err.value.errors) == (not in_window(moment))
    if moment.year in (1, 9999):
        assert errors and not in_window(moment)


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 9999), st.integers(0, 54))
def test_any_week_label_is_refused_or_placed_never_raised_on(year: int, number: int):
    label = f"{year:04d}-W{number:02d}"
    errors = span_errors("week", label, tenant_span(NOW, NOW))
    try:
        inside = week_in_window(label)
    except weeks.InvalidIsoWeek:
        assert errors  # 2025-W53, W00, W54, year 9999 ...
        return
    if not inside:
        assert errors
    data = {"person_id": str(uuid.uuid4()), "week": label, "tactics": ["learning_bit"]}
    try:
        CATALOGUE.normalise("WeeklyPlanSet", data)
    except EventValidationError:
        assert not inside
    else:
        assert inside

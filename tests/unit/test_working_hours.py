"""Working hours and time zones, without a database: the rules of a setting, which setting
holds in a week, and meeting loads measured against a window other than 09:00-17:00."""

from __future__ import annotations

import pytest

from shared.domain.levers import WorkingHours, meeting_load
from shared.domain.working_hours import (
    clock_of,
    default_schedule,
    minutes_of,
    schedule,
    schedule_in_week,
    working_hours_errors,
)


def test_a_valid_setting_has_no_errors():
    assert working_hours_errors("08:30", "16:30", ["mon", "tue", "sun"], "Europe/Berlin") == {}
    assert working_hours_errors("00:00", "24:00", ["sat"], "UTC") == {}


@pytest.mark.parametrize(
    ("start", "end", "days", "zone", "field"),
    [
        ("17:00", "09:00", ["mon"], "UTC", "end"),  # ends before it starts
        ("09:00", "09:00", ["mon"], "UTC", "end"),  # empty window
        ("9am", "17:00", ["mon"], "UTC", "start"),
        ("09:00", "25:00", ["mon"], "UTC", "end"),
        ("24:00", "24:00", ["mon"], "UTC", "start"),  # 24:00 only ends a day
        ("09:00", "17:00", [], "UTC", "working_days"),
        ("09:00", "17:00", ["mon", "mon"], "UTC", "working_days"),
        ("09:00", "17:00", ["monday"], "UTC", "working_days"),
        ("09:00", "17:00", ["mon"], "Mars/Olympus_Mons", "time_zone"),
        ("09:00", "17:00", ["mon"], "../etc/passwd", "time_zone"),
        ("09:00", "17:00", ["mon"], "", "time_zone"),
    ],
)
def test_invalid_settings_name_their_field(
    start: str, end: str, days: list[str], zone: str, field: str
):
    errors = working_hours_errors(start, end, days, zone)
    assert field in errors and errors[field][0].endswith(".")


def test_clock_round_trip():
    assert minutes_of("09:30") == 570 and minutes_of("24:00") == 1440
    assert clock_of(570) == "09:30" and clock_of(1440) == "24:00"
    with pytest.raises(ValueError):
        minutes_of("9:30")


def test_the_setting_of_a_week_is_the_last_one_taking_effect_by_then():
    base = default_schedule("UTC")
    early = schedule("07:00", "15:00", ["mon", "tue", "wed", "thu"], "Asia/Tokyo")
    late = schedule("10:00", "18:00", ["sun", "mon", "tue", "wed", "thu"], "America/New_York")
    changes = [(10, early), (14, late)]
    assert schedule_in_week(changes, 9, base) == base
    assert schedule_in_week(changes, 10, early) == early
    assert schedule_in_week(changes, 13, base) == early
    assert schedule_in_week(changes, 14, base) == late
    assert schedule_in_week(changes, 99, base) == late
    assert schedule_in_week([], 10, base) == base
    assert early.hours == WorkingHours(7.0, 15.0, frozenset({0, 1, 2, 3}))


def test_meeting_load_in_a_custom_window():
    """10:00-18:00, Sunday to Thursday: a 09:00-10:00 Monday meeting is after hours, a Sunday
    one inside; Friday is a day off (its meeting after hours, no working time)."""
    hours = schedule("10:00", "18:00", ["sun", "mon", "tue", "wed", "thu"], "UTC").hours
    meetings = [(9.0, 10.0), (6 * 24 + 11, 6 * 24 + 12), (4 * 24 + 11, 4 * 24 + 12)]
    load = meeting_load(meetings, hours)
    assert load.working_hours == 40.0
    assert load.meeting_hours == 1.0  # Sunday 11-12
    assert load.after_hours_meeting_hours == 2.0  # Monday 9-10, Friday 11-12
    # Focus: four untouched days of 8 h, and Sunday's 10-11 (1 h, too short) and 12-18 (6 h).
    assert load.focus_hours == 4 * 8 + 6
    default = meeting_load(meetings)
    assert default.meeting_hours == 2.0 and default.after_hours_meeting_hours == 1.0

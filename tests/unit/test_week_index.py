"""The week calendar every read model counts in (shared/domain/weeks.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.domain.weeks import (
    EPOCH_MONDAY,
    InvalidIsoWeek,
    label_index,
    utc_week_index,
    week_index,
    week_label,
    week_monday,
)


def test_the_epoch_is_week_zero_and_a_monday() -> None:
    assert EPOCH_MONDAY.isoweekday() == 1
    assert week_index(EPOCH_MONDAY) == 0
    assert week_index(EPOCH_MONDAY - timedelta(days=1)) == -1
    assert week_index(EPOCH_MONDAY + timedelta(days=6)) == 0
    assert week_label(0) == "1970-W02"


@pytest.mark.parametrize(
    ("label", "monday"),
    [
        ("0001-W01", date(1, 1, 1)),
        ("2020-W53", date(2020, 12, 28)),
        ("2026-W01", date(2025, 12, 29)),
        ("9998-W52", date(9998, 12, 21)),
    ],
)
def test_labels_and_indexes_agree_at_the_extremes(label: str, monday: date) -> None:
    index = label_index(label)
    assert week_monday(index) == monday
    assert week_label(index) == label


def test_a_week_53_that_does_not_exist_is_refused() -> None:
    with pytest.raises(InvalidIsoWeek):
        label_index("2025-W53")


def test_weeks_beyond_the_calendar_overflow_plainly() -> None:
    with pytest.raises(OverflowError):
        week_monday(label_index("9998-W52") + 100)


@pytest.mark.parametrize("hours", [-12, -9.5, 0, 5.75, 13, 14])
def test_the_utc_week_of_a_moment_in_any_zone(hours: float) -> None:
    zone = timezone(timedelta(hours=hours))
    sunday_late_utc = datetime(2026, 12, 6, 23, 30, tzinfo=UTC)
    local = sunday_late_utc.astimezone(zone)
    assert utc_week_index(local) == week_index(date(2026, 12, 6))


@given(st.dates(min_value=date(1, 1, 8), max_value=date(9999, 12, 24)))
def test_every_day_lies_in_the_week_its_index_names(day: date) -> None:
    index = week_index(day)
    monday = week_monday(index)
    assert monday <= day < monday + timedelta(days=7)
    assert monday.isoweekday() == 1
    assert week_label(index) == "{:04d}-W{:02d}".format(*day.isocalendar()[:2])

"""ISO weeks ("2026-W47"), the unit every weekly number is kept in.

Read models count weeks as integers, the *week index*: the number of whole weeks since
:data:`EPOCH_MONDAY`. Week ``i`` starts on ``EPOCH_MONDAY + 7 i`` days; labels, Mondays and
indexes convert through the functions below and nowhere else.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

_ISO_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


class InvalidIsoWeek(ValueError):
    pass


def weeks_in_year(year: int) -> int:
    """52 or 53: the ISO week of 28 December is always the year's last."""
    return date(year, 12, 28).isocalendar().week


def parse_iso_week(text: str) -> tuple[int, int]:
    """``"2026-W47"`` -> ``(2026, 47)``.

    Raises:
        InvalidIsoWeek: not of the form YYYY-Www, or the year has no such week.
    """
    match = _ISO_WEEK.match(text) if isinstance(text, str) else None
    if not match:
        raise InvalidIsoWeek(f"{text!r} is not an ISO week like 2026-W47")
    year, week = int(match.group(1)), int(match.group(2))
    if not 1 <= year <= 9998:
        raise InvalidIsoWeek(f"{text} is out of range: years run from 0001 to 9998")
    if not 1 <= week <= weeks_in_year(year):
        raise InvalidIsoWeek(f"{text} does not exist: {year} has {weeks_in_year(year)} weeks")
    return year, week


def iso_week_of(moment: date | datetime) -> str:
    """The ISO week label ("2026-W47", the year in four digits) of a date or datetime."""
    year, week, _ = moment.isocalendar()
    return f"{year:04d}-W{week:02d}"


def week_start(text: str) -> date:
    """The Monday of an ISO week."""
    year, week = parse_iso_week(text)
    return date.fromisocalendar(year, week, 1)


EPOCH_MONDAY = date(1970, 1, 5)
"""Week index 0 starts on this Monday (pulse periods are counted from it too)."""


def week_index(day: date) -> int:
    """The week index of the week holding ``day``.

    Parameters:
        day: any date (a datetime counts by its own date, in its own zone).

    Returns:
        Whole weeks since :data:`EPOCH_MONDAY` (negative before it).
    """
    return (day.toordinal() - _EPOCH_ORDINAL) // 7


def utc_week_index(moment: datetime) -> int:
    """The week index of the UTC week holding ``moment`` (an aware datetime)."""
    return week_index(moment.astimezone(UTC).date())


def week_monday(index: int) -> date:
    """The Monday that starts week ``index``.

    Raises:
        OverflowError: the week lies outside the dates Python can hold (years 1 to 9999).
    """
    return EPOCH_MONDAY + timedelta(weeks=index)


def week_label(index: int) -> str:
    """The ISO week label ("2026-W49") of week ``index``."""
    return iso_week_of(week_monday(index))


def label_index(text: str) -> int:
    """The week index of an ISO week label.

    Raises:
        InvalidIsoWeek: not a label of an existing week.
    """
    return week_index(week_start(text))


_EPOCH_ORDINAL = EPOCH_MONDAY.toordinal()


def pulse_period(week: str, cadence_weeks: int) -> str:
    """The first ISO week of the pulse period holding ``week``.

    An organisation with a pulse every ``cadence_weeks`` weeks (1, 2 or 4) cuts time into
    blocks of that many weeks, the same blocks for every team (counted from a fixed Monday,
    so they run on across year ends and week 53). One answer per person and team per block.
    """
    if cadence_weeks < 1:
        raise ValueError("a pulse cadence is at least one week")
    index = label_index(week)
    start = _EPOCH_ORDINAL + 7 * (index - index % cadence_weeks)
    return iso_week_of(date.fromordinal(start))


def next_pulse_period(week: str, cadence_weeks: int) -> str:
    """The first ISO week of the pulse period after the one holding ``week``."""
    start = week_start(pulse_period(week, cadence_weeks))
    return iso_week_of(date.fromordinal(start.toordinal() + 7 * cadence_weeks))

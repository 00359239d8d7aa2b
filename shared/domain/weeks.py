"""ISO weeks ("2026-W47"), the unit every weekly number is kept in."""

from __future__ import annotations

import re
from datetime import date, datetime

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
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"


def week_start(text: str) -> date:
    """The Monday of an ISO week."""
    year, week = parse_iso_week(text)
    return date.fromisocalendar(year, week, 1)


_MONDAY_ZERO = date(1970, 1, 5)  # a Monday: pulse periods are counted from here


def pulse_period(week: str, cadence_weeks: int) -> str:
    """The first ISO week of the pulse period holding ``week``.

    An organisation with a pulse every ``cadence_weeks`` weeks (1, 2 or 4) cuts time into
    blocks of that many weeks, the same blocks for every team (counted from a fixed Monday,
    so they run on across year ends and week 53). One answer per person and team per block.
    """
    if cadence_weeks < 1:
        raise ValueError("a pulse cadence is at least one week")
    index = (week_start(week) - _MONDAY_ZERO).days // 7
    start = _MONDAY_ZERO.toordinal() + 7 * (index - index % cadence_weeks)
    return iso_week_of(date.fromordinal(start))


def next_pulse_period(week: str, cadence_weeks: int) -> str:
    """The first ISO week of the pulse period after the one holding ``week``."""
    start = week_start(pulse_period(week, cadence_weeks))
    return iso_week_of(date.fromordinal(start.toordinal() + 7 * cadence_weeks))

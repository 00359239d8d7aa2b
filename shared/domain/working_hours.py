"""A person's working hours and time zone (default 09:00-17:00, Monday to Friday).

Time pressure measures meetings against each person's own working window, in their own time
zone (docs/levers.md). A ``WorkingHoursSet`` event changes them from the ISO week of its
``occurred_at`` on; earlier weeks keep the hours they had. These are the pure parts: the
rules a setting must follow and which setting holds in a given week.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from zoneinfo import available_timezones

from shared.domain.errors import Text
from shared.domain.levers import DEFAULT_WORKING_HOURS, WorkingHours

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # index = Python's weekday()
DEFAULT_DAYS = DAYS[:5]
DEFAULT_START, DEFAULT_END = "09:00", "17:00"
_CLOCK = re.compile(r"(?:[01]\d|2[0-3]):[0-5]\d|24:00")


@cache
def time_zones() -> frozenset[str]:
    """Every IANA time zone name this installation knows (``Europe/Berlin``, ``UTC`` ...)."""
    return frozenset(available_timezones())


def minutes_of(clock: str) -> int:
    """``"09:30"`` -> 570 (minutes after midnight; ``"24:00"`` is the end of the day).

    Raises:
        ValueError: not a time of day as HH:MM.
    """
    if not isinstance(clock, str) or not _CLOCK.fullmatch(clock):
        raise ValueError(f"not a time of day as HH:MM: {clock!r}")
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def clock_of(minutes: int) -> str:
    """570 -> ``"09:30"``."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def working_hours_errors(
    start: str, end: str, days: Sequence[str], time_zone: str
) -> dict[str, list[str]]:
    """Per-field messages for a working-hours setting; empty when it is valid.

    Start before end (both HH:MM, on the same day), at least one working day (each once),
    and an IANA time zone name."""
    errors: dict[str, list[str]] = {}
    bounds: dict[str, int] = {}
    for name, value in (("start", start), ("end", end)):
        try:
            bounds[name] = minutes_of(value)
        except ValueError:
            errors[name] = [Text("Give a time of day as HH:MM, e.g. 09:00.")]
    if bounds.get("start") == 24 * 60:
        del bounds["start"]
        errors["start"] = [Text("A working day starts at 23:59 at the latest.")]
    if len(bounds) == 2 and bounds["start"] >= bounds["end"]:
        errors["end"] = [Text("The end must be after the start (on the same day).")]
    if not days:
        errors["working_days"] = [Text("Choose at least one working day.")]
    elif any(day not in DAYS for day in days) or len(set(days)) != len(days):
        errors["working_days"] = [Text("Name each day once, from %(days)s.", days=", ".join(DAYS))]
    if time_zone not in time_zones():
        errors["time_zone"] = [Text("Give an IANA time zone, e.g. Europe/Berlin or UTC.")]
    return errors


@dataclass(frozen=True)
class Schedule:
    """Working hours and the time zone they are in, as one ``WorkingHoursSet`` sets them."""

    hours: WorkingHours
    time_zone: str


def schedule(start: str, end: str, days: Iterable[str], time_zone: str) -> Schedule:
    """The schedule of a valid setting (see :func:`working_hours_errors`)."""
    return Schedule(
        WorkingHours(
            minutes_of(start) / 60,
            minutes_of(end) / 60,
            frozenset(DAYS.index(day) for day in days),
        ),
        time_zone,
    )


def default_schedule(time_zone: str) -> Schedule:
    """09:00-17:00, Monday to Friday, in ``time_zone`` (a person's zone from joining)."""
    return Schedule(DEFAULT_WORKING_HOURS, time_zone)


def schedule_in_week(
    changes: Sequence[tuple[int, Schedule]], week: int, base: Schedule
) -> Schedule:
    """The schedule holding in ``week``: the last change taking effect in or before it
    (``changes`` sorted by week, one per week), else ``base``."""
    i = bisect_right(changes, week, key=lambda change: change[0])
    return changes[i - 1][1] if i else base

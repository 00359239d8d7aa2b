"""The bounds every time, week and zone Compound stores must keep (docs/api.md, "Bounds").

Two layers, both pure:

* the **window** (:data:`EARLIEST` to :data:`LATEST`): the outer limit the event catalogue
  puts on every time, date and ISO week of every event type, whoever appends (API, import,
  calendar sync, CLI, seed). It needs no clock and no tenant, so an event valid when written
  stays valid on every replay, and local-time arithmetic around any time inside it (any zone,
  any weeks either side) never leaves the dates Python can hold;
* the **span** of an organisation (:func:`tenant_span`): from its creation minus two years
  (history may be backdated that far) to now plus one day, and for meetings as far ahead as
  the calendar sync reaches. The command layer checks every time a caller gives against it.

A week is inside a span when any of its seven days is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from shared.domain.errors import N_, Text
from shared.domain.weeks import InvalidIsoWeek, parse_iso_week, weeks_in_year

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
"""The earliest time any event may carry (inclusive)."""
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
"""The end of the times any event may carry (exclusive)."""
MAX_PAST = timedelta(days=730)
"""How far before its creation an organisation's history may reach (the 2-year backdating)."""
MAX_AHEAD = timedelta(days=1)
"""How far after now a time may lie (clocks differ; an entry made just before midnight)."""
MAX_MEETING = timedelta(hours=24)
"""The longest meeting kept (longer calendar entries are all-day blocks, not meetings)."""


def meeting_horizon(weeks_ahead: int) -> timedelta:
    """How far after now a meeting may start or end.

    Parameters:
        weeks_ahead: how many weeks ahead the calendar sync reads (0 or more).

    Returns:
        Those weeks plus :data:`MAX_AHEAD` (a meeting starting at the window's end runs on).
    """
    return timedelta(weeks=min(max(0, weeks_ahead), 5300)) + MAX_AHEAD  # 5300: past LATEST


def in_window(moment: datetime) -> bool:
    """Whether an aware time lies in the catalogue's window.

    Parameters:
        moment: a time-zone aware datetime.

    Returns:
        ``EARLIEST <= moment < LATEST``.
    """
    return EARLIEST <= moment < LATEST


def day_in_window(day: date) -> bool:
    """Whether a date lies in the catalogue's window (its UTC dates).

    Parameters:
        day: any date.

    Returns:
        ``EARLIEST``'s date <= day < ``LATEST``'s date.
    """
    return EARLIEST.date() <= day < LATEST.date()


def week_in_window(label: str) -> bool:
    """Whether an ISO week lies in the catalogue's window (all of it).

    Parameters:
        label: an existing ISO week (``2026-W49``).

    Returns:
        Whether its Monday and its Sunday both lie in the window.

    Raises:
        InvalidIsoWeek: not a label of an existing week.
    """
    year, week = parse_iso_week(label)
    monday = date.fromisocalendar(year, week, 1)
    return day_in_window(monday) and day_in_window(date.fromordinal(monday.toordinal() + 6))


@dataclass(frozen=True)
class Span:
    """The times an organisation may write: ``low`` to ``high``, both inclusive, aware."""

    low: datetime
    high: datetime

    def holds(self, moment: datetime) -> bool:
        """Whether an aware time lies in the span.

        Parameters:
            moment: a time-zone aware datetime.

        Returns:
            ``low <= moment <= high``.
        """
        return self.low <= moment <= self.high

    def holds_day(self, day: date) -> bool:
        """Whether any moment of a (UTC) date lies in the span.

        Parameters:
            day: any date.

        Returns:
            Whether the day overlaps the span.
        """
        return self.low.date() <= day <= self.high.date()

    def holds_week(self, label: str) -> bool:
        """Whether any day of an ISO week lies in the span.

        Parameters:
            label: an existing ISO week (``2026-W49``).

        Returns:
            Whether the week overlaps the span.

        Raises:
            InvalidIsoWeek: not a label of an existing week.
        """
        year, week = parse_iso_week(label)
        monday = date.fromisocalendar(year, week, 1)
        sunday = date.fromordinal(monday.toordinal() + 6)
        return monday <= self.high.date() and sunday >= self.low.date()

    def ahead(self, extra: timedelta) -> Span:
        """The same span reaching ``extra`` further ahead (meetings: the sync window).

        Parameters:
            extra: how much further the high end lies (at most to the window's end).

        Returns:
            The wider span.
        """
        return Span(self.low, _clamp(self.high + min(extra, LATEST - self.high)))

    def describe(self) -> str:
        """The span in words, for error messages.

        Returns:
            E.g. ``"from 2024-12-06 to 2026-12-07 (UTC)"``.
        """
        return f"from {self.low.date().isoformat()} to {self.high.date().isoformat()} (UTC)"


def _clamp(moment: datetime) -> datetime:
    """``moment`` moved into the window (from there, shifts of years cannot overflow)."""
    return max(EARLIEST, min(moment, LATEST - timedelta(microseconds=1)))


def tenant_span(created_at: datetime | None, now: datetime) -> Span:
    """The times an organisation may write: its creation minus two years to now plus a day.

    Parameters:
        created_at: when the organisation was created (None: not known yet, taken as now).
        now: the current time (aware).

    Returns:
        The span, inside the catalogue's window.
    """
    start = now if created_at is None else min(created_at, now)
    return Span(_clamp(_clamp(start) - MAX_PAST), _clamp(_clamp(now) + MAX_AHEAD))


def not_a_week(text: object) -> Text:
    """Why ``text`` is not an existing ISO week (what :class:`InvalidIsoWeek` says, in the
    reader's language).

    Example:
        not_a_week("2025-W53") == "2025-W53 does not exist: 2025 has 52 weeks."
    """
    match = re.match(r"^(\d{4})-W(\d{2})$", text) if isinstance(text, str) else None
    if not match:
        return Text("%(week)s is not an ISO week like 2026-W47.", week=repr(text))
    year = int(match.group(1))
    if not 1 <= year <= 9998:
        return Text("%(week)s is out of range: years run from 0001 to 9998.", week=text)
    return Text(
        "%(week)s does not exist: %(year)d has %(weeks)d weeks.",
        week=text,
        year=year,
        weeks=weeks_in_year(year),
    )


def span_errors(name: str, value: object, span: Span) -> list[str]:
    """Messages for one time, date or week against a span; empty when it lies inside.

    Parameters:
        name: what the value is, for the message (``"time"``, ``"date"``, ``"week"``).
        value: an aware datetime, a date, or an ISO week label.
        span: the span it must lie in.

    Returns:
        At most one message (none for a value of another kind: the schema checks kinds).
    """
    inside: bool
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return [Text("Include a time zone offset, e.g. 2026-11-25T09:30:00Z.")]
        inside = span.holds(value)
    elif isinstance(value, date):
        inside = span.holds_day(value)
    elif isinstance(value, str):
        try:
            inside = span.holds_week(value)
        except InvalidIsoWeek:
            return [not_a_week(value)]
    else:
        return []
    if inside:
        return []
    low, high = span.low.date().isoformat(), span.high.date().isoformat()
    return [Text(OUTSIDE.get(name, OUTSIDE["time"]), low=low, high=high)]


OUTSIDE = {
    "time": N_("The time must lie from %(low)s to %(high)s (UTC)."),
    "date": N_("The date must lie from %(low)s to %(high)s (UTC)."),
    "week": N_("The week must lie from %(low)s to %(high)s (UTC)."),
}
"""The message of a value outside its span, by what the value is."""


ABSENCE_MAX_DAYS = 366
"""The longest absence (declared, or a calendar's out-of-office block), in days."""


def meeting_errors(start: datetime, end: datetime) -> dict[str, list[str]]:
    """Messages for a meeting's start and end; empty when it is a meeting Compound keeps.

    Parameters:
        start: its start (aware).
        end: its end (aware).

    Returns:
        ``{"end": [...]}`` when the end is not after the start or more than 24 hours later.
    """
    if end <= start:
        return {"end": ["A meeting ends after it starts."]}
    if end - start > MAX_MEETING:
        return {"end": ["A meeting lasts at most 24 hours."]}
    return {}

"""Calendar load: where a meeting falls (its person's local week and hours), the working
hours holding in a week, and the load of a person-week (one set of rules for both paths).

A meeting is placed in the zone holding in the (UTC) ISO week it starts in: its local week,
and its hours since that week's local Monday, are taken in that zone. Before any
``WorkingHoursSet`` a person works 09:00-17:00, Monday-Friday, in the zone from joining.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from shared.domain import levers as model
from shared.domain.weeks import utc_week_index, week_index, week_monday
from shared.domain.working_hours import DAYS, Schedule, default_schedule, schedule_in_week
from shared.eventlog import RecordedEvent
from shared.projections.levers.schema import MILLI

WEEK_HOURS = 7 * 24


def zone_info(name: str | None) -> ZoneInfo:
    """A time zone by name.

    Parameters:
        name: an IANA zone name, or None.

    Returns:
        The zone; UTC for none or an unknown name.
    """
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def monday_midnight(week: int) -> datetime:
    """The start of a week.

    Parameters:
        week: a week index.

    Returns:
        Its Monday 00:00, naive (local to whoever reads it).
    """
    return datetime.combine(week_monday(week), datetime.min.time())


@dataclass(frozen=True, slots=True)
class HoursSetting:
    """A ``WorkingHoursSet`` as a ``lever_working_hours`` row: it holds from ``from_week``."""

    person: str
    from_week: int
    start_minute: int
    end_minute: int
    working_days: list[int]
    time_zone: str

    @classmethod
    def of(cls, event: RecordedEvent, week: int) -> HoursSetting | None:
        """The setting of a ``WorkingHoursSet``.

        Parameters:
            event: the event.
            week: the week index of its ``occurred_at`` (it holds from then on).

        Returns:
            The setting; None for a window that ends before it starts (which the command
            never writes).
        """
        data = event.data
        if data["start_minute"] >= data["end_minute"]:
            return None
        days = sorted({DAYS.index(day) for day in data["working_days"]})
        return cls(
            data["person_id"],
            week,
            data["start_minute"],
            data["end_minute"],
            days,
            data["time_zone"],
        )

    def schedule(self) -> Schedule:
        """The setting as the domain's schedule."""
        hours = model.WorkingHours(
            self.start_minute / 60, self.end_minute / 60, frozenset(self.working_days)
        )
        return Schedule(hours, self.time_zone)

    def row(self) -> tuple[str, int, int, int, list[int], str]:
        """The row in ``lever_working_hours`` column order."""
        return (
            self.person,
            self.from_week,
            self.start_minute,
            self.end_minute,
            self.working_days,
            self.time_zone,
        )


class WorkingHoursHistory:
    """Each person's working hours and zone by week.

    Parameters:
        settings: the people's settings (any order; one per person and week).
        zones: person -> their zone from joining (the zone before any setting).
    """

    def __init__(self, settings: Iterable[HoursSetting], zones: Mapping[str, str]) -> None:
        self.changes: dict[str, list[tuple[int, Schedule]]] = {}
        for setting in sorted(settings, key=lambda s: (s.person, s.from_week)):
            self.changes.setdefault(setting.person, []).append(
                (setting.from_week, setting.schedule())
            )
        self.zones = zones

    def schedule_at(self, person: str, week: int) -> Schedule:
        """The schedule holding for a person in a week.

        Parameters:
            person: one of ``zones``.
            week: a week index.

        Returns:
            The last setting taking effect in or before ``week``, else 09:00-17:00,
            Monday-Friday, in the zone from joining.
        """
        return schedule_in_week(
            self.changes.get(person, ()), week, default_schedule(self.zones[person])
        )

    def has_changes(self, person: str) -> bool:
        """Whether a person set working hours (else the default ones in the joining zone).

        Parameters:
            person: the person.

        Returns:
            True if they have at least one setting.
        """
        return person in self.changes

    def zone_at(self, person: str, start_week: int) -> str:
        """The zone a meeting is placed in.

        Parameters:
            person: one of ``zones``.
            start_week: the UTC ISO week the meeting starts in.

        Returns:
            The zone's name.
        """
        changes = self.changes.get(person)
        if not changes:
            return self.zones[person]
        return schedule_in_week(changes, start_week, default_schedule(self.zones[person])).time_zone

    def hours_at(self, person: str, week: int) -> model.WorkingHours:
        """The working window and days of a person in a week.

        Parameters:
            person: the person.
            week: a week index.

        Returns:
            Their working hours (the default ones before any setting).
        """
        changes = self.changes.get(person)
        if not changes:
            return model.DEFAULT_WORKING_HOURS
        return schedule_in_week(changes, week, default_schedule("UTC")).hours


class MeetingPlacer:
    """Local weeks and hours since the local Monday of meeting times. Calendars repeat the
    same few thousand start and end times: each is converted once per zone (moments are
    ISO texts, as events carry them, or datetimes, as the tables return them)."""

    def __init__(self) -> None:
        self._zones: dict[str, ZoneInfo] = {}
        self._local: dict[tuple[str, str | datetime], datetime] = {}
        self._hours: dict[tuple[str, str | datetime, int], float] = {}
        self._utc_weeks: dict[str | datetime, int] = {}
        self._placed: dict[tuple[str, str, str], tuple[int, float, float]] = {}

    def utc_week(self, moment: str | datetime) -> int:
        """The UTC ISO week of a moment (which picks the zone a meeting is placed in).

        Parameters:
            moment: ISO text or an aware datetime.

        Returns:
            The week index.
        """
        found = self._utc_weeks.get(moment)
        if found is None:
            at = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
            found = self._utc_weeks[moment] = utc_week_index(at)
        return found

    def local(self, zone: str, moment: str | datetime) -> datetime:
        """A moment in a zone.

        Parameters:
            zone: the zone's name.
            moment: ISO text or an aware datetime.

        Returns:
            The local time, naive.
        """
        found = self._local.get((zone, moment))
        if found is None:
            info = self._zones.get(zone)
            if info is None:
                info = self._zones[zone] = zone_info(zone)
            at = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
            found = self._local[(zone, moment)] = at.astimezone(info).replace(tzinfo=None)
        return found

    def local_week(self, zone: str, moment: str | datetime) -> int:
        """The local ISO week of a moment.

        Parameters:
            zone: the zone's name.
            moment: ISO text or an aware datetime.

        Returns:
            The week index.
        """
        return week_index(self.local(zone, moment).date())

    def hours_since_monday(self, zone: str, moment: str | datetime, week: int) -> float:
        """Hours from a week's local Monday 00:00 to a moment.

        Parameters:
            zone: the zone's name.
            moment: ISO text or an aware datetime.
            week: the week index.

        Returns:
            The hours (negative before that Monday).
        """
        found = self._hours.get((zone, moment, week))
        if found is None:
            found = (self.local(zone, moment) - monday_midnight(week)).total_seconds() / 3600
            self._hours[(zone, moment, week)] = found
        return found

    def place(self, zone: str, start: str, end: str) -> tuple[int, float, float]:
        """Where a meeting falls.

        Parameters:
            zone: the zone it is placed in.
            start, end: its times, ISO text.

        Returns:
            Its local week, and its start and end in hours since that week's Monday.
        """
        found = self._placed.get((zone, start, end))
        if found is None:
            week = self.local_week(zone, start)
            found = self._placed[(zone, start, end)] = (
                week,
                self.hours_since_monday(zone, start, week),
                self.hours_since_monday(zone, end, week),
            )
        return found


@dataclass(frozen=True, slots=True)
class CalendarLoad:
    """A person-week's calendar measures, in thousandths (``back_to_back``: a count)."""

    pressure: int
    meeting_hours: int
    working_hours: int
    focus_hours: int
    after_hours: int
    back_to_back: int


def away_spans(
    placer: MeetingPlacer,
    zone: str,
    week: int,
    blocks: Iterable[tuple[str | datetime, str | datetime]],
) -> tuple[tuple[float, float], ...]:
    """The out-of-office blocks of a person that reach into a week, in hours since its local
    Monday (in the zone holding in that week), sorted.

    Parameters:
        placer: the conversions' cache.
        zone: the zone of the week (``WorkingHoursHistory.zone_at`` of the week).
        week: the week index.
        blocks: (start, end) of each counted block of the person.

    Returns:
        The spans overlapping the week (any extent: the load takes what falls in windows).
    """
    found = []
    for start, end in blocks:
        lo = placer.hours_since_monday(zone, start, week)
        hi = placer.hours_since_monday(zone, end, week)
        if hi > 0 and lo < WEEK_HOURS:
            found.append((lo, hi))
    return tuple(sorted(found))


def calendar_load(
    spans: Sequence[tuple[float, float]],
    hours: model.WorkingHours,
    away: Sequence[tuple[float, float]] = (),
) -> CalendarLoad:
    """The load of a person-week from its counted meetings.

    Parameters:
        spans: (start, end) of each meeting in hours since the local Monday.
        hours: the person's working hours that week.
        away: (start, end) of the out-of-office time in the week (:func:`away_spans`).

    Returns:
        The measures, rounded to thousandths.
    """
    load = model.meeting_load(spans, hours, away)
    return CalendarLoad(
        round((model.calendar_pressure(load) or 0.0) * MILLI),
        round(load.meeting_hours * MILLI),
        round(load.working_hours * MILLI),
        round(load.focus_hours * MILLI),
        round(load.after_hours_meeting_hours * MILLI),
        load.back_to_back,
    )

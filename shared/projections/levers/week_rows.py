"""The rows a rebuild computes in memory: person-weeks and the team-weeks summed from them
(the incremental adapter computes the same sums in SQL, ``incremental._team_weeks``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shared.projections.levers.calendar import CalendarLoad
from shared.projections.levers.facts import PulseSums
from shared.projections.levers.membership import Interval, team_at
from shared.projections.levers.schema import SUM_COLUMNS


@dataclass(slots=True)
class PersonWeek:
    """A ``lever_person_weeks`` row: a person's counts in a week, in their lever team."""

    tenant: str
    team: str
    actions: int = 0
    stretch: int = 0
    visible: int = 0
    rewarded: int = 0
    asked: int = 0
    feedback: int = 0
    output_only: int = 0
    load: CalendarLoad | None = None
    """The week's calendar load; None: no counted meeting (no calendar that week)."""

    def row(self, person: str, week: int) -> tuple[Any, ...]:
        """The row in ``PERSON_WEEK_COLUMNS`` order (ids, numbers and booleans only)."""
        load = self.load
        calendar = (
            (False, 0, 0, 0, 0, 0, 0)
            if load is None
            else (
                True,
                load.pressure,
                load.meeting_hours,
                load.working_hours,
                load.focus_hours,
                load.after_hours,
                load.back_to_back,
            )
        )
        return (
            self.tenant,
            person,
            week,
            self.team,
            self.actions,
            self.stretch,
            self.visible,
            self.rewarded,
            self.asked,
            self.feedback,
            self.output_only,
            *calendar,
        )


class PersonWeeks:
    """The person-weeks of a rebuild, each created in its person's lever team.

    Parameters:
        intervals: each person's membership intervals (backfilled).
    """

    def __init__(self, intervals: Mapping[str, Sequence[Interval]]) -> None:
        self.intervals = intervals
        self.rows: dict[tuple[str, int], PersonWeek] = {}

    def ensure(self, tenant: str, person: str, week: int) -> PersonWeek:
        """The person-week of ``person`` in ``week``, created if new (with ``tenant``)."""
        row = self.rows.get((person, week))
        if row is None:
            team = team_at(self.intervals.get(person, ()), tenant, week)
            row = self.rows[(person, week)] = PersonWeek(tenant, team)
        return row


@dataclass(slots=True)
class TeamWeek:
    """A ``lever_team_weeks`` row: the sums (``SUM_COLUMNS``) of a team's people in a week."""

    tenant: str
    team: str
    week: int
    members: int = 0
    active: int = 0
    actions: int = 0
    stretchers: int = 0
    askers: int = 0
    visible_people: int = 0
    visible_actions: int = 0
    rewarded_actions: int = 0
    feedback_people: int = 0
    feedback: int = 0
    output_only: int = 0
    calendar_people: int = 0
    pressure: int = 0
    meeting_hours: int = 0
    working_hours: int = 0
    focus_hours: int = 0
    after_hours: int = 0
    back_to_back: int = 0
    responses: int = 0
    safety_n: int = 0
    safety_points: int = 0
    item_sum: list[int] | None = None
    item_n: list[int] | None = None

    def add_person(self, week: PersonWeek) -> None:
        """Add one person's week (who counts in this team that week)."""
        self.active += week.actions > 0
        self.actions += week.actions
        self.stretchers += week.stretch > 0
        self.askers += week.asked > 0
        self.visible_people += week.visible > 0
        self.visible_actions += week.visible
        self.rewarded_actions += week.rewarded
        self.feedback_people += week.feedback > 0
        self.feedback += week.feedback
        self.output_only += week.output_only
        load = week.load
        if load is not None:
            self.calendar_people += 1
            self.pressure += load.pressure
            self.meeting_hours += load.meeting_hours
            self.working_hours += load.working_hours
            self.focus_hours += load.focus_hours
            self.after_hours += load.after_hours
            self.back_to_back += load.back_to_back

    def add_pulse(self, pulse: PulseSums) -> None:
        """Take the team-week's pulse sums."""
        self.responses, self.safety_n, self.safety_points = (
            pulse.responses,
            pulse.safety_n,
            pulse.safety_points,
        )
        self.item_sum, self.item_n = pulse.item_sum, pulse.item_n

    def row(self, version: int) -> tuple[Any, ...]:
        """The row in ``lever_team_weeks`` column order (``SUM_COLUMNS`` between the key and
        the model version)."""
        sums = (getattr(self, name) for name in SUM_COLUMNS)
        return (self.tenant, self.team, self.week, *sums, version)


def team_weeks(
    intervals: Iterable[Interval],
    weeks: Mapping[tuple[str, int], PersonWeek],
    pulses: Mapping[tuple[str, str, int], PulseSums],
) -> list[TeamWeek]:
    """The team-weeks of a rebuild: those someone's week counts in, with pulse answers, or
    where someone's membership starts or ends (what the incremental path keeps); members from
    the intervals, sums from the person-weeks.

    Parameters:
        intervals: every membership interval.
        weeks: (person, week) -> the person-week.
        pulses: (tenant, team, week) -> pulse sums.

    Returns:
        The team-weeks (the tenant of each: its first creator's).
    """
    intervals = list(intervals)
    rows: dict[tuple[str, int], TeamWeek] = {}
    keys = [
        (i.tenant, i.team, week)
        for i in intervals
        if i.lasts  # an invitation's interval without a week of its own bounds nothing
        for week in ((i.from_week, i.to_week) if i.to_week is not None else (i.from_week,))
    ]
    keys += [(row.tenant, row.team, week) for (_, week), row in weeks.items()]
    keys += list(pulses)
    for tenant, team, week in keys:
        if (team, week) not in rows:
            rows[(team, week)] = TeamWeek(tenant, team, week)
    for (_, week), person_week in weeks.items():
        rows[(person_week.team, week)].add_person(person_week)
    by_team: dict[str, list[Interval]] = {}
    for interval in intervals:
        by_team.setdefault(interval.team, []).append(interval)
    for (team, week), row in rows.items():
        row.members = sum(1 for i in by_team.get(team, ()) if i.covers(week))
        pulse = pulses.get((row.tenant, team, week))
        if pulse is not None:
            row.add_pulse(pulse)
    return list(rows.values())

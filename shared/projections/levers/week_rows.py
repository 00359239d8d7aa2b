"""The rows a rebuild computes in memory: each person's weeks, in their lever team (the
team-weeks are summed from them in SQL, ``incremental.write_team_weeks``, by both paths).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shared.projections.levers.calendar import CalendarLoad
from shared.projections.levers.membership import Interval, team_at


@dataclass(slots=True)
class PersonWeek:
    """A ``lever_person_weeks`` row: a person's counts in a week, in their lever team."""

    tenant: str
    team: str
    actions: int = 0
    stretch: int = 0
    visible: int = 0
    rewarded: int = 0
    confirmed_rewarded: int = 0
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
            self.confirmed_rewarded,
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

"""The rows a rebuild computes in memory: each person's weeks, in their lever team (the
team-weeks are summed from them in SQL, ``incremental.write_team_weeks``, by both paths).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

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

    def line(self, person: str, week: int) -> str:
        """The row in ``PERSON_WEEK_COLUMNS`` order as a COPY line (ids, numbers and
        booleans only: their ``str`` is their COPY text)."""
        load = self.load
        calendar = (
            "False\t0\t0\t0\t0\t0\t0"
            if load is None
            else (
                f"True\t{load.pressure}\t{load.meeting_hours}\t{load.working_hours}\t"
                f"{load.focus_hours}\t{load.after_hours}\t{load.back_to_back}"
            )
        )
        return (
            f"{self.tenant}\t{person}\t{week}\t{self.team}\t{self.actions}\t{self.stretch}\t"
            f"{self.visible}\t{self.rewarded}\t{self.asked}\t{self.feedback}\t"
            f"{self.output_only}\t{calendar}\t{self.confirmed_rewarded}\n"
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

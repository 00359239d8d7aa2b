"""Membership: which lever team a person counts in, week by week (one rule for both paths).

A person counts in one team per week: the team they were invited or moved into. A manager
does not count in the team they lead (from the week they were assigned), nor does a person
taken out of their team (``PersonRemovedFromTeam``, from its week), nor a manager removed
from the team they were counted in (``TeamManagerRemoved``: in no team until moved into one,
as in the directory); people in no team
count in the organisation only (their pseudo-team is the tenant). A person who returns after
leaving (``PersonReturned``) counts again from the next week, in the team the event names.
A move in week *w* counts from *w*; a person who leaves in week *w* still counts in *w*.
History from before the invitation (an import, an earlier calendar) counts in the team of the
invitation (:func:`backfill`): an event-time rule that no later move changes, so its weeks
are the same whatever the batches. The invitation's interval is therefore kept even when a
move or an assignment in the invitation's week leaves it no week of its own (``to_week`` =
``from_week`` - 1): it is where such history goes. Other intervals without a week are dropped.

:class:`MembershipFold` folds membership events in log order onto each person's state; the
incremental adapter starts it from the people stored in the tables, a rebuild from nobody.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

_MANAGER_EVENTS = ("TeamManagerAssigned", "TeamManagerRemoved")


@dataclass(slots=True)
class MembershipChange:
    """One membership event, as the fold needs it.

    Parameters:
        kind: the event type (one of ``MEMBERSHIP_EVENTS``).
        tenant: the event's tenant id.
        person: the person it names.
        week: the week index of its ``occurred_at``.
        team: the team it names (``PersonInvited``'s ``team_id``, ``PersonMovedTeam``'s
            ``to_team_id``, ``TeamManagerAssigned``'s and ``TeamManagerRemoved``'s
            ``team_id``), else None.
        time_zone: ``PersonJoined``'s time zone, else None.
    """

    kind: str
    tenant: str
    person: str
    week: int
    team: str | None = None
    time_zone: str | None = None


@dataclass(slots=True)
class Interval:
    """A ``lever_memberships`` row: ``person`` counts in ``team`` from ``from_week`` to
    ``to_week`` (both included; None: still)."""

    person: str
    tenant: str
    team: str
    from_week: int
    to_week: int | None = None
    invitation: bool = False
    """Whether it is the person's first interval, opened by their invitation (not stored:
    the first of the person's rows by ``from_week``, then ``to_week``, nulls last)."""

    @property
    def lasts(self) -> bool:
        """Whether the interval holds at least one week."""
        return self.to_week is None or self.to_week >= self.from_week

    def covers(self, week: int) -> bool:
        """Whether the interval holds in ``week``."""
        return self.from_week <= week and (self.to_week is None or self.to_week >= week)

    def row(self) -> tuple[str, str, str, int, int | None]:
        """The row in ``lever_memberships`` column order."""
        return (self.person, self.tenant, self.team, self.from_week, self.to_week)


@dataclass(slots=True)
class PersonState:
    """A ``lever_people`` row and the intervals opened for the person in this fold."""

    tenant: str
    team: str | None
    time_zone: str = "UTC"
    active: bool = True
    stored_from: int | None = None
    """``from_week`` of the interval still open in the table (incremental runs only)."""
    stored_invitation: bool = False
    """Whether that open interval is the invitation's (the person's only stored row)."""
    opened: list[Interval] = field(default_factory=list)


class MembershipFold:
    """Membership events folded in log order (:meth:`apply`), with what they changed.

    Parameters:
        people: the state of the people a batch names, as stored (empty for a rebuild).

    Besides ``people``, a fold records for the incremental adapter: ``closes`` (person ->
    ``to_week`` of the interval open in the table), ``drops`` (people whose open interval in
    the table is closed before it started and is not the invitation's), ``changed``
    ((tenant, team) -> the first week whose members changed), ``boundaries`` (team-weeks an
    interval starts or ends in) and ``reattribute`` (person -> the first week whose lever
    team may have changed).
    """

    def __init__(self, people: dict[str, PersonState] | None = None) -> None:
        self.people: dict[str, PersonState] = people if people is not None else {}
        self.closes: dict[str, int] = {}
        self.drops: set[str] = set()
        self.changed: dict[tuple[str, str], int] = {}
        self.boundaries: set[tuple[str, str, int]] = set()
        self.reattribute: dict[str, int] = {}

    def apply(self, change: MembershipChange) -> None:
        """Fold one membership event in (events of people never invited change nothing).

        Parameters:
            change: the event, in log order after every earlier one.
        """
        person, week, kind = change.person, change.week, change.kind
        p = self.people.get(person)
        if kind == "PersonInvited":
            if p is None:
                p = self.people[person] = PersonState(change.tenant, None)
                self._open(person, p, change.team or change.tenant, week)
                p.opened[-1].invitation = True
            return
        if p is None:
            return  # not a person this projection has seen invited
        if kind == "PersonJoined":
            p.time_zone = change.time_zone or "UTC"
        elif kind == "PersonReturned" and not p.active:
            p.active = True  # counts again from the next week (the leaving week counted)
            self._open(person, p, change.team or p.tenant, week + 1)
        elif not p.active:
            return
        elif kind == "PersonMovedTeam":
            if p.team != change.team:
                self._close(person, p, week - 1)
                self._open(person, p, change.team or p.tenant, week)
        elif kind in ("PersonLeft", "PersonErased"):
            self._close(person, p, week)
            p.active = False
        elif kind == "PersonRemovedFromTeam" and p.team == change.team:
            self._close(person, p, week - 1)  # out of the team: the organisation only
            self._open(person, p, p.tenant, week)
        elif kind in _MANAGER_EVENTS and p.team == change.team:
            # A manager is not counted in the team they lead; a manager removed from it is in
            # no team until moved into one (as in the directory), even one who counted in it
            # (moved into the team they led).
            self._close(person, p, week - 1)
            self._open(person, p, p.tenant, week)

    def _changed(self, person: str, tenant: str, team: str, week: int) -> None:
        key = (tenant, team)
        self.changed[key] = min(week, self.changed.get(key, week))
        self.boundaries.add((tenant, team, week))
        self.reattribute[person] = min(week, self.reattribute.get(person, week))

    def _close(self, person: str, p: PersonState, week: int) -> None:
        if p.team is None:
            return
        if p.opened:
            p.opened[-1].to_week = week
        elif p.stored_from is not None:
            if week < p.stored_from and not p.stored_invitation:
                self.drops.add(person)
            else:
                self.closes[person] = week
        self._changed(person, p.tenant, p.team, week)
        p.team = None

    def _open(self, person: str, p: PersonState, team: str, week: int) -> None:
        p.team = team
        p.opened.append(Interval(person, p.tenant, team, week))
        self._changed(person, p.tenant, team, week)

    def opened(self) -> list[Interval]:
        """Every interval opened by the fold, in the order of the people."""
        return [interval for p in self.people.values() for interval in p.opened]


def kept(intervals: Iterable[Interval]) -> list[Interval]:
    """The intervals stored: those that hold at least one week, and every invitation's.

    Parameters:
        intervals: intervals, some perhaps closed before they opened (by a move or an
            assignment in their first week: no week of their own).

    Returns:
        The kept ones, in order.
    """
    return [i for i in intervals if i.invitation or i.lasts]


def by_person(intervals: Iterable[Interval]) -> dict[str, list[Interval]]:
    """The intervals of each person.

    Parameters:
        intervals: any intervals.

    Returns:
        person -> their intervals, in order.
    """
    found: dict[str, list[Interval]] = {}
    for interval in intervals:
        found.setdefault(interval.person, []).append(interval)
    return found


def backfill(intervals: Mapping[str, Sequence[Interval]], first_seen: Mapping[str, int]) -> None:
    """History logged or imported from before a person's invitation counts in the team of
    the invitation from the week of their first activity on: their first interval (by
    ``from_week``, then ``to_week``, nulls last: the invitation's, even without a week of its
    own) starts then, in place (``incremental_people.apply_backfill`` is the same rule in
    SQL, for the intervals stored).

    Parameters:
        intervals: each person's intervals.
        first_seen: person -> the week of their first action, feedback or meeting.
    """
    for person, week in first_seen.items():
        rows = intervals.get(person)
        if not rows:
            continue
        first = min(rows, key=_first_order)
        if week < first.from_week:
            first.from_week = week


def _first_order(interval: Interval) -> tuple[int, bool, int]:
    """Sort key of a person's intervals: the first is the invitation's (``ORDER BY
    from_week, to_week NULLS LAST`` in SQL)."""
    to_week = interval.to_week
    return (interval.from_week, to_week is None, to_week or 0)


def team_at(intervals: Sequence[Interval], tenant: str, week: int) -> str:
    """A person's lever team in ``week``: the covering interval that started last, else the
    tenant (``TEAM_AT_SQL`` is the same rule in SQL).

    Parameters:
        intervals: the person's intervals.
        tenant: the person's tenant (their pseudo-team).
        week: a week index.

    Returns:
        The team id, or ``tenant``.
    """
    best: Interval | None = None
    for interval in intervals:
        if interval.covers(week) and (best is None or interval.from_week >= best.from_week):
            best = interval
    return best.team if best is not None else tenant

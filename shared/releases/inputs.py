"""A tenant-week's eligible populations, read from the levers read model.

Eligible for a team's week: people who joined (accepted their invitation) and counted in
that team for the whole week (their lever-team interval began before it and ends after it:
no one who was invited, moved in, moved out or left during it). People in no team are in no
release. Pulse answers are anonymous: their sums are read per team as stored, and a
release never counts more of them than the team's eligible members
(:meth:`~shared.domain.release_figures.Population.figure`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text

from shared.domain.release_figures import PersonWeek, Population, PulseSums
from shared.projections.levers.schema import MILLI


@dataclass(frozen=True)
class TenantWeek:
    """What a tenant-week's release is computed from.

    Parameters:
        children: node -> child team ids (the tenant id's children are the top-level teams).
        own: team id -> its own eligible members' population (with its pulse answers).
    """

    children: dict[str, list[str]]
    own: dict[str, Population]


def _tree(conn: Connection, tenant_id: Any) -> dict[str, list[str]]:
    rows = conn.execute(
        text("SELECT id, parent_team_id FROM teams WHERE tenant_id = :t ORDER BY id"),
        {"t": tenant_id},
    ).all()
    children: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        parent = str(row.parent_team_id) if row.parent_team_id else str(tenant_id)
        children[parent].append(str(row.id))
    children.setdefault(str(tenant_id), [])
    return dict(children)


def eligible_members(conn: Connection, tenant_id: Any, week: int) -> dict[str, str]:
    """The people eligible in ``week``, with their team.

    A lever-team interval ``[from_week, to_week]`` covers a whole week when it began before
    it and goes on after it: it is still open, ends later, or ends with the week because the
    person moved on the next week (a move in week *m* closes the interval at *m* - 1, while a
    person who leaves in week *l* counts until *l*, the week they left).

    Parameters:
        conn: a connection.
        tenant_id: the organisation.
        week: the week index.

    Returns:
        person id -> team id.
    """
    rows = conn.execute(
        text(
            "SELECT person_id, team_id, from_week, to_week FROM lever_memberships"
            " WHERE tenant_id = :t AND from_week <= :w + 1"
            " AND (to_week IS NULL OR to_week >= :w) ORDER BY person_id, from_week"
        ),
        {"t": tenant_id, "w": week},
    ).all()
    covering: dict[str, Any] = {}
    moves_on: set[str] = set()
    for row in rows:
        person = str(row.person_id)
        if row.from_week == week + 1:
            moves_on.add(person)
        elif row.from_week <= week and (row.to_week is None or row.to_week >= week):
            covering[person] = row  # the latest covering interval wins, as in the read model
    whole_week = {
        person: str(row.team_id)
        for person, row in covering.items()
        if row.from_week < week
        and (row.to_week is None or row.to_week > week or person in moves_on)
    }
    return {person: whole_week[person] for person in _joined(conn, whole_week)}


def _joined(conn: Connection, people: Iterable[str]) -> list[str]:
    """Which of ``people`` joined (a ``PersonJoined``: an invitation never accepted is no
    member). History imported from before joining counts, in the invitation's team, as the
    levers read model places it (docs/levers.md, "Inputs")."""
    rows = conn.execute(
        text(
            "SELECT DISTINCT stream_id FROM events WHERE stream_id = ANY(:streams)"
            " AND type = 'PersonJoined'"
        ),
        {"streams": [f"person-{p}" for p in people]},
    ).all()
    return [row.stream_id.removeprefix("person-") for row in rows]


def _person_week(row: Any) -> PersonWeek:
    calendar = None
    if row.calendar:
        calendar = (
            row.pressure / MILLI,
            row.meeting_hours / MILLI,
            row.working_hours / MILLI,
            row.focus_hours / MILLI,
            row.after_hours / MILLI,
            row.back_to_back,
        )
    return PersonWeek(
        actions=row.actions,
        stretched=row.stretch > 0,
        asked=row.asked > 0,
        visible=row.visible,
        rewarded=row.rewarded,
        confirmed=row.confirmed_rewarded,
        feedback=row.feedback,
        output_only=row.output_only,
        calendar=calendar,
    )


def tenant_week(conn: Connection, tenant_id: Any, week: int) -> TenantWeek:
    """The populations a tenant-week's release is computed from.

    Parameters:
        conn: a connection.
        tenant_id: the organisation.
        week: the week index.

    Returns:
        The team tree and each team's own eligible population.
    """
    members = eligible_members(conn, tenant_id, week)
    weeks = {
        str(row.person_id): _person_week(row)
        for row in conn.execute(
            text(
                "SELECT person_id, actions, stretch, visible, rewarded, confirmed_rewarded,"
                " asked, feedback, output_only, calendar, pressure, meeting_hours,"
                " working_hours, focus_hours, after_hours, back_to_back FROM lever_person_weeks"
                " WHERE person_id = ANY(:people) AND week_index = :w"
            ),
            {"people": list(members), "w": week},
        )
    }
    own: dict[str, Population] = defaultdict(Population)
    for person, team in members.items():
        own[team].add_person(weeks.get(person, PersonWeek()))
    pulses = conn.execute(
        text(
            "SELECT team_id, safety_n, safety_points, item_sum, item_n FROM lever_pulses"
            " WHERE tenant_id = :t AND week_index = :w"
        ),
        {"t": tenant_id, "w": week},
    ).all()
    for row in pulses:
        pulse = PulseSums(row.safety_n, row.safety_points / MILLI, row.item_sum, row.item_n)
        own[str(row.team_id)].add_pulse(pulse)
    return TenantWeek(_tree(conn, tenant_id), dict(own))

"""Catch-up of memberships: the batch's membership events folded onto the people stored
(:class:`~.membership.MembershipFold`), the intervals and people written back, and the
person-weeks whose lever team changed moved to it. Also the backfill, and the person-week
rows every other part of a batch adds to.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from shared.projections.levers.membership import (
    MembershipChange,
    MembershipFold,
    PersonState,
    kept,
)
from shared.projections.levers.schema import TEAM_AT_SQL

TeamWeekKey = tuple[str, str, int]
"""(tenant, team, week index)."""


def apply_memberships(
    pg: Any, tables: Mapping[str, str], changes: Sequence[MembershipChange]
) -> set[TeamWeekKey]:
    """Fold a batch's membership events onto the stored people and write what changed.

    Parameters:
        pg: the batch's psycopg connection.
        tables: base table name -> physical name.
        changes: the batch's membership events, in log order.

    Returns:
        The team-weeks whose members (or whose people's weeks) changed.
    """
    ids = list({change.person for change in changes})
    fold = MembershipFold(_stored_people(pg, tables, ids))
    for change in changes:
        fold.apply(change)
    _write_intervals(pg, tables, fold)
    if not fold.people:  # membership events of people this projection never saw invited
        return set()
    rows = [(k, p.tenant, p.team, p.time_zone, p.active) for k, p in fold.people.items()]
    pg.execute(
        f"""INSERT INTO {tables["lever_people"]} AS t
            (person_id, tenant_id, team_id, time_zone, active)
        SELECT * FROM unnest(%s::uuid[], %s::uuid[], %s::uuid[], %s::text[], %s::bool[])
        ON CONFLICT (person_id) DO UPDATE SET team_id = excluded.team_id,
            time_zone = excluded.time_zone, active = excluded.active""",
        [list(c) for c in zip(*rows, strict=True)],
    )
    touched = fold.boundaries | {
        (tenant, team, week) for (tenant, team), week in fold.changed.items()
    }
    return touched | _reattribute(pg, tables, fold)


def _stored_people(pg: Any, tables: Mapping[str, str], ids: list[str]) -> dict[str, PersonState]:
    """The stored state of people ``ids``, with the start of their open interval and whether
    it is the invitation's (their only row)."""
    people: dict[str, PersonState] = {}
    mem = tables["lever_memberships"]
    for person, tenant, team, zone, active, stored_from, rows in pg.execute(
        f"SELECT p.person_id::text, p.tenant_id::text, p.team_id::text, p.time_zone, "
        f"p.active, (SELECT max(m.from_week) FROM {mem} m "
        "WHERE m.person_id = p.person_id AND m.to_week IS NULL), "
        f"(SELECT count(*) FROM {mem} m WHERE m.person_id = p.person_id) "
        f"FROM {tables['lever_people']} p WHERE p.person_id = ANY(%s::uuid[])",
        (ids,),
    ):
        people[person] = PersonState(
            tenant, team, zone, active, stored_from, stored_from is not None and rows == 1
        )
    return people


def _write_intervals(pg: Any, tables: Mapping[str, str], fold: MembershipFold) -> None:
    """Close the stored intervals the fold closed, add those it opened, and leave out every
    interval closed before it opened (a move or assignment in its first week) but an
    invitation's (``membership.kept``)."""
    mem = tables["lever_memberships"]
    if fold.drops:
        pg.execute(
            f"DELETE FROM {mem} WHERE person_id = ANY(%s::uuid[]) AND to_week IS NULL",
            (list(fold.drops),),
        )
    if fold.closes:
        people, weeks = zip(*fold.closes.items(), strict=True)
        pg.execute(
            f"UPDATE {mem} m SET to_week = k.to_week FROM unnest(%s::uuid[], %s::int[]) "
            "AS k(person_id, to_week) WHERE m.person_id = k.person_id AND m.to_week IS NULL",
            (list(people), list(weeks)),
        )
    opened = kept(fold.opened())
    if opened:
        with (
            pg.cursor() as cur,
            cur.copy(
                f"COPY {mem} (person_id, tenant_id, team_id, from_week, to_week) FROM STDIN"
            ) as copy,
        ):
            for interval in opened:
                copy.write_row(interval.row())


def _reattribute(pg: Any, tables: Mapping[str, str], fold: MembershipFold) -> set[TeamWeekKey]:
    """Move the person-weeks of people whose lever team changed to their team now; returns
    those team-weeks and every stored team-week of a changed team from its change on."""
    touched: set[TeamWeekKey] = set()
    if fold.reattribute:
        people, weeks = zip(*fold.reattribute.items(), strict=True)
        for tenant, team, week in pg.execute(
            f"""UPDATE {tables["lever_person_weeks"]} AS k
            SET team_id = {TEAM_AT_SQL.format(mem=tables["lever_memberships"])}
            FROM unnest(%s::uuid[], %s::int[]) AS c(person_id, since)
            WHERE k.person_id = c.person_id AND k.week_index >= c.since
            RETURNING k.tenant_id::text, k.team_id::text, k.week_index""",
            (list(people), list(weeks)),
        ):
            touched.add((tenant, team, week))
    if fold.changed:
        tenants_teams, weeks = zip(*fold.changed.items(), strict=True)
        teams = [team for _, team in tenants_teams]
        for tenant, team, week in pg.execute(
            f"SELECT tw.tenant_id::text, tw.team_id::text, tw.week_index "
            f"FROM {tables['lever_team_weeks']} tw "
            "JOIN unnest(%s::uuid[], %s::int[]) AS c(team_id, since) "
            "ON tw.team_id = c.team_id AND tw.week_index >= c.since",
            (teams, list(weeks)),
        ):
            touched.add((tenant, team, week))
    return touched


def apply_backfill(
    pg: Any, tables: Mapping[str, str], first_seen: Mapping[str, int]
) -> set[TeamWeekKey]:
    """History logged or imported from before a person's invitation counts in the team of
    the invitation, from the week of their first activity on: their first stored interval
    (by ``from_week``, then ``to_week``, nulls last: the invitation's, kept even without a
    week of its own) starts then, and their person-weeks since move to it
    (``membership.backfill`` is the same rule in memory; this SQL updates the stored rows in
    place).

    Parameters:
        pg: the batch's psycopg connection.
        tables: base table name -> physical name.
        first_seen: person -> the week of their first activity in the batch.

    Returns:
        The team-weeks that gained or lost people.
    """
    mem, pw = tables["lever_memberships"], tables["lever_person_weeks"]
    moved = pg.execute(
        f"""WITH k(person_id, week) AS (SELECT * FROM unnest(%s::uuid[], %s::int[])),
        first AS (SELECT DISTINCT ON (m.person_id) m.ctid AS row_id, m.person_id,
                m.from_week FROM {mem} m JOIN k USING (person_id)
            ORDER BY m.person_id, m.from_week, m.to_week NULLS LAST)
        UPDATE {mem} m SET from_week = k.week FROM first f JOIN k USING (person_id)
        WHERE m.ctid = f.row_id AND k.week < f.from_week
        RETURNING m.person_id::text, m.tenant_id::text, m.team_id::text, k.week,
            f.from_week""",
        (list(first_seen), list(first_seen.values())),
    ).fetchall()
    touched: set[TeamWeekKey] = set()
    for person, tenant, team, since, until in moved:
        touched |= {(tenant, team, w) for w in range(since, until + 1)}
        for old_team, week in pg.execute(
            f"UPDATE {pw} k SET team_id = %s FROM {pw} old "
            "WHERE k.person_id = %s AND k.week_index >= %s AND k.week_index < %s "
            "AND old.person_id = k.person_id AND old.week_index = k.week_index "
            "RETURNING old.team_id::text, k.week_index",
            (team, person, since, until),
        ):
            touched.add((tenant, old_team, week))
    return touched


def ensure_person_weeks(
    pg: Any, tables: Mapping[str, str], keys: Sequence[tuple[str, str, int]]
) -> None:
    """Create the person-weeks ``keys`` ((tenant, person, week), sorted) that do not exist
    yet, empty, in the person's lever team of that week (the first creator's tenant holds).

    Parameters:
        pg: the batch's psycopg connection.
        tables: base table name -> physical name.
        keys: the person-weeks.
    """
    tenants, people, weeks = (list(c) for c in zip(*keys, strict=True))
    pg.execute(
        f"""INSERT INTO {tables["lever_person_weeks"]} (tenant_id, person_id, week_index,
            team_id)
        SELECT k.tenant_id, k.person_id, k.week_index,
            {TEAM_AT_SQL.format(mem=tables["lever_memberships"])}
        FROM unnest(%s::uuid[], %s::uuid[], %s::int[]) AS k(tenant_id, person_id, week_index)
        ON CONFLICT (person_id, week_index) DO NOTHING""",
        (tenants, people, weeks),
    )

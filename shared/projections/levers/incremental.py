"""Catch-up: one batch of events applied to the stored tables.

The batch is folded by the same per-event transitions a rebuild runs
(:class:`~.transitions.LeverFacts`); this adapter then loads from the tables what the facts
need (the people, stored requests, the meetings of a person), writes what changed with
set-based ``unnest`` statements, and recomputes only the person-weeks and team-weeks the
batch touched.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.projections.levers.incremental_actions import PersonWeekKey, apply_actions
from shared.projections.levers.incremental_calendar import apply_meetings, drop_empty_weeks
from shared.projections.levers.incremental_people import (
    TeamWeekKey,
    apply_backfill,
    apply_memberships,
    ensure_person_weeks,
)
from shared.projections.levers.schema import SUM_COLUMNS
from shared.projections.levers.transitions import LeverFacts, answer_output_only

LASTS = "(m.to_week IS NULL OR m.to_week >= m.from_week)"
"""Membership ``m`` holds a week (``membership.Interval.lasts``): an invitation's interval
kept without one bounds no team-week."""


def apply_batch(pg: Any, tables: Mapping[str, str], facts: LeverFacts, version: int) -> None:
    """Write a folded batch into the tables.

    Parameters:
        pg: the batch's psycopg connection (in the runtime's transaction).
        tables: base table name -> physical name.
        facts: the batch, folded.
        version: the model version stored in each team-week.
    """
    touched_teams: set[TeamWeekKey] = set()
    touched_people: set[PersonWeekKey] = {
        (tenant, person, week) for (person, week), tenant in facts.action_weeks.items()
    }
    if facts.membership:
        touched_teams |= apply_memberships(pg, tables, facts.membership)
    if facts.first_seen:
        touched_teams |= apply_backfill(pg, tables, facts.first_seen)
    touched_people |= apply_actions(pg, tables, facts)
    if touched_people:
        _action_stats(pg, tables, touched_people)
    if facts.requests or facts.answers:
        _feedback(pg, tables, facts)
        touched_people |= set(facts.asked) | {(a.tenant, a.person, a.week) for a in facts.answers}
    if facts.hours:
        _working_hours(pg, tables, facts)
    if facts.meetings or facts.rezoned:
        met, left = apply_meetings(pg, tables, facts.meetings, facts.rezoned)
        touched_people |= met
        touched_teams |= drop_empty_weeks(pg, tables, left)
    if facts.pulses:
        _pulses(pg, tables, facts)
        touched_teams |= set(facts.pulses)
    if touched_people:
        for tenant, team, week in pg.execute(
            f"SELECT DISTINCT pw.tenant_id::text, pw.team_id::text, pw.week_index "
            f"FROM {tables['lever_person_weeks']} pw "
            "JOIN unnest(%s::uuid[], %s::int[]) AS k(person_id, week_index) "
            "USING (person_id, week_index)",
            ([p for _, p, _ in touched_people], [w for _, _, w in touched_people]),
        ):
            touched_teams.add((tenant, team, week))
    if touched_teams:
        write_team_weeks(pg, tables, touched_teams, version)


def _action_stats(pg: Any, tables: Mapping[str, str], keys: set[PersonWeekKey]) -> None:
    """Recount the actions of each touched person-week (retractions and rewards included)."""
    ordered = sorted(keys)
    ensure_person_weeks(pg, tables, ordered)
    pg.execute(
        f"""UPDATE {tables["lever_person_weeks"]} pw SET actions = s.actions,
            stretch = s.stretch, visible = s.visible, rewarded = s.rewarded,
            confirmed_rewarded = s.confirmed_rewarded
        FROM (SELECT k.person_id, k.week_index, count(a.*) AS actions,
                count(a.*) FILTER (WHERE a.stretch AND NOT a.declined) AS stretch,
                count(a.*) FILTER (WHERE a.visible) AS visible,
                count(a.*) FILTER (WHERE a.visible AND a.rewarded) AS rewarded,
                count(a.*) FILTER (WHERE a.visible AND a.reward_confirmed)
                    AS confirmed_rewarded
            FROM unnest(%s::uuid[], %s::int[]) AS k(person_id, week_index)
            LEFT JOIN {tables["lever_actions"]} a ON a.person_id = k.person_id
                AND a.week_index = k.week_index AND NOT a.retracted
            GROUP BY k.person_id, k.week_index) s
        WHERE pw.person_id = s.person_id AND pw.week_index = s.week_index""",
        ([person for _, person, _ in ordered], [week for _, _, week in ordered]),
    )


def _feedback(pg: Any, tables: Mapping[str, str], facts: LeverFacts) -> None:
    """Store the batch's requests and add its requests and answers to their person-weeks."""
    requests = tables["lever_feedback_requests"]
    # A request already stored came in an earlier batch, before anything of this one (read
    # before this batch's requests are stored).
    stored: dict[str, bool] = {}
    if facts.answers:
        for request, flag in pg.execute(
            f"SELECT request_id::text, output_only FROM {requests} "
            "WHERE request_id = ANY(%s::uuid[])",
            (list({answer.request for answer in facts.answers}),),
        ):
            stored[request] = flag
    if facts.requests:
        pg.execute(
            f"INSERT INTO {requests} (request_id, output_only) "
            "SELECT * FROM unnest(%s::uuid[], %s::bool[]) ON CONFLICT DO NOTHING",
            (list(facts.requests), list(facts.requests.values())),
        )
    asked: dict[PersonWeekKey, int] = dict(facts.asked)
    answered: dict[PersonWeekKey, int] = {}
    output_only: dict[PersonWeekKey, int] = {}
    for answer in facts.answers:
        key = (answer.tenant, answer.person, answer.week)
        answered[key] = answered.get(key, 0) + 1
        output_only[key] = output_only.get(key, 0) + answer_output_only(answer, stored)
    ordered = sorted(asked.keys() | answered.keys())
    ensure_person_weeks(pg, tables, ordered)
    pg.execute(
        f"""UPDATE {tables["lever_person_weeks"]} pw SET asked = pw.asked + k.asked,
            feedback = pw.feedback + k.feedback, output_only = pw.output_only + k.output_only
        FROM unnest(%s::uuid[], %s::int[], %s::int[], %s::int[], %s::int[])
            AS k(person_id, week_index, asked, feedback, output_only)
        WHERE pw.person_id = k.person_id AND pw.week_index = k.week_index""",
        [
            [key[1] for key in ordered],
            [key[2] for key in ordered],
            [asked.get(key, 0) for key in ordered],
            [answered.get(key, 0) for key in ordered],
            [output_only.get(key, 0) for key in ordered],
        ],
    )


def _working_hours(pg: Any, tables: Mapping[str, str], facts: LeverFacts) -> None:
    """Store the batch's working-hours settings (the later of one week wins)."""
    settings = list(facts.hours.values())
    pg.execute(
        f"""INSERT INTO {tables["lever_working_hours"]} (person_id, from_week,
            start_minute, end_minute, working_days, time_zone)
        SELECT k.person_id, k.from_week, k.start_minute, k.end_minute,
            string_to_array(k.days, ',')::int[], k.time_zone
        FROM unnest(%s::uuid[], %s::int[], %s::int[], %s::int[], %s::text[],
            %s::text[]) AS k(person_id, from_week, start_minute, end_minute, days,
            time_zone)
        ON CONFLICT (person_id, from_week) DO UPDATE SET
            start_minute = excluded.start_minute, end_minute = excluded.end_minute,
            working_days = excluded.working_days, time_zone = excluded.time_zone""",
        [
            [s.person for s in settings],
            [s.from_week for s in settings],
            [s.start_minute for s in settings],
            [s.end_minute for s in settings],
            [",".join(map(str, s.working_days)) for s in settings],
            [s.time_zone for s in settings],
        ],
    )


def _pulses(pg: Any, tables: Mapping[str, str], facts: LeverFacts) -> None:
    """Add the batch's pulse sums to their team-weeks."""
    with pg.cursor() as cur:
        cur.executemany(
            f"""INSERT INTO {tables["lever_pulses"]} AS t (tenant_id, team_id, week_index,
                responses, safety_n, safety_points, item_sum, item_n)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
            ON CONFLICT (team_id, week_index) DO UPDATE SET
                responses = t.responses + excluded.responses,
                safety_n = t.safety_n + excluded.safety_n,
                safety_points = t.safety_points + excluded.safety_points,
                item_sum = ARRAY(SELECT a + b FROM unnest(t.item_sum, excluded.item_sum)
                    AS x(a, b)),
                item_n = ARRAY(SELECT a + b FROM unnest(t.item_n, excluded.item_n)
                    AS x(a, b))""",
            [(*key, *sums.values()) for key, sums in facts.pulses.items()],
        )


def write_team_weeks(
    pg: Any, tables: Mapping[str, str], keys: set[TeamWeekKey], version: int
) -> None:
    """Recompute the sums of each team-week of ``keys`` from its people and pulses: those of
    a batch (catch-up) or every one (the end of a rebuild, ``rebuild.LeversFold.finish``).

    Parameters:
        pg: a psycopg connection, in the caller's transaction.
        tables: base table name -> physical name.
        keys: (tenant, team, week index) of the team-weeks; one tenant per team-week.
        version: the model version stored in each row.
    """
    ordered = sorted(keys)
    tenants, teams, weeks = (list(c) for c in zip(*ordered, strict=True))
    mem = tables["lever_memberships"]
    pg.execute(
        team_weeks_sql(
            tables, "unnest(%s::uuid[], %s::uuid[], %s::int[]) AS k(tenant_id, team_id, week_index)"
        ),
        (version, tenants, teams, weeks),
    )
    # A team-week has a row while someone's week counts in it, it has pulse answers, or
    # someone's membership of the team that holds a week starts or ends in it (what the
    # rebuild's fold creates, whatever the batches): one left behind by a move or a backfill goes.
    pg.execute(
        f"""DELETE FROM {tables["lever_team_weeks"]} tw
        USING unnest(%s::uuid[], %s::int[]) AS k(team_id, week_index)
        WHERE tw.team_id = k.team_id AND tw.week_index = k.week_index
          AND NOT EXISTS (SELECT 1 FROM {tables["lever_person_weeks"]} pw
              WHERE pw.team_id = k.team_id AND pw.week_index = k.week_index)
          AND NOT EXISTS (SELECT 1 FROM {tables["lever_pulses"]} q
              WHERE q.team_id = k.team_id AND q.week_index = k.week_index)
          AND NOT EXISTS (SELECT 1 FROM {mem} m
              WHERE m.team_id = k.team_id AND k.week_index IN (m.from_week, m.to_week)
                AND {LASTS})""",
        (teams, weeks),
    )


def team_weeks_sql(tables: Mapping[str, str], keys: str) -> str:
    """The statement that writes the sums of the team-weeks ``keys`` yields, from their
    people (``lever_person_weeks``), members (``lever_memberships``) and pulses: one
    parameter, the model version, then those of ``keys``.

    Parameters:
        tables: base table name -> physical name.
        keys: a FROM item named ``k`` with columns ``(tenant_id, team_id, week_index)``,
            one row per team-week.

    Returns:
        The ``INSERT ... ON CONFLICT DO UPDATE`` statement.
    """
    names, mem = ", ".join(SUM_COLUMNS), tables["lever_memberships"]
    return f"""INSERT INTO {tables["lever_team_weeks"]} (tenant_id, team_id, week_index,
                {names}, model_version)
            SELECT k.tenant_id, k.team_id, k.week_index,
                (SELECT count(*) FROM {tables["lever_memberships"]} m
                 WHERE m.team_id = k.team_id AND m.from_week <= k.week_index
                   AND (m.to_week IS NULL OR m.to_week >= k.week_index)),
                coalesce(p.active, 0), coalesce(p.actions, 0), coalesce(p.stretchers, 0),
                coalesce(p.askers, 0), coalesce(p.visible_people, 0),
                coalesce(p.visible_actions, 0), coalesce(p.rewarded_actions, 0),
                coalesce(p.confirmed_rewarded_actions, 0), coalesce(p.feedback_people, 0),
                coalesce(p.feedback, 0),
                coalesce(p.output_only, 0), coalesce(p.calendar_people, 0),
                coalesce(p.pressure, 0), coalesce(p.meeting_hours, 0),
                coalesce(p.working_hours, 0), coalesce(p.focus_hours, 0),
                coalesce(p.after_hours, 0), coalesce(p.back_to_back, 0),
                coalesce(q.responses, 0), coalesce(q.safety_n, 0),
                coalesce(q.safety_points, 0), q.item_sum, q.item_n, %s
            FROM {keys}
            LEFT JOIN LATERAL (
                SELECT count(*) AS people, count(*) FILTER (WHERE actions > 0) AS active,
                    sum(actions) AS actions, count(*) FILTER (WHERE stretch > 0) AS stretchers,
                    count(*) FILTER (WHERE asked > 0) AS askers,
                    count(*) FILTER (WHERE visible > 0) AS visible_people,
                    sum(visible) AS visible_actions, sum(rewarded) AS rewarded_actions,
                    sum(confirmed_rewarded) AS confirmed_rewarded_actions,
                    count(*) FILTER (WHERE feedback > 0) AS feedback_people,
                    sum(feedback) AS feedback, sum(output_only) AS output_only,
                    count(*) FILTER (WHERE calendar) AS calendar_people,
                    sum(pressure) AS pressure, sum(meeting_hours) AS meeting_hours,
                    sum(working_hours) AS working_hours, sum(focus_hours) AS focus_hours,
                    sum(after_hours) AS after_hours, sum(back_to_back) AS back_to_back
                FROM {tables["lever_person_weeks"]} pw
                WHERE pw.team_id = k.team_id AND pw.week_index = k.week_index) p ON true
            LEFT JOIN {tables["lever_pulses"]} q
                ON q.team_id = k.team_id AND q.week_index = k.week_index
            WHERE p.people > 0 OR q.team_id IS NOT NULL OR EXISTS (SELECT 1 FROM {mem} m
                WHERE m.team_id = k.team_id AND k.week_index IN (m.from_week, m.to_week)
                  AND {LASTS})
            ON CONFLICT (team_id, week_index) DO UPDATE SET
                {", ".join(f"{c} = excluded.{c}" for c in SUM_COLUMNS)}"""

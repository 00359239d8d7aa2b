"""Catch-up of calendars: a batch's meetings stored in their person's local week, the
meetings of people whose working hours or zone changed placed again, and the calendar load
of every person-week they touch recomputed (the rules: :mod:`.calendar`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from shared.projections.levers.calendar import (
    HoursSetting,
    MeetingPlacer,
    WorkingHoursHistory,
    away_spans,
    calendar_load,
    monday_midnight,
)
from shared.projections.levers.facts import MeetingFact
from shared.projections.levers.incremental_people import TeamWeekKey, ensure_person_weeks

PersonWeekKey = tuple[str, str, int]
"""(tenant, person, week index)."""


class _Calendars:
    """The people a batch's meetings name: tenant, working hours and zones by week."""

    def __init__(self, pg: Any, tables: Mapping[str, str], people: list[str]) -> None:
        self.tenants: dict[str, str] = {}
        zones: dict[str, str] = {}
        for person, tenant, zone in pg.execute(
            f"SELECT person_id::text, tenant_id::text, time_zone FROM {tables['lever_people']} "
            "WHERE person_id = ANY(%s::uuid[])",
            (people,),
        ):
            self.tenants[person], zones[person] = tenant, zone
        settings = [
            HoursSetting(person, week, lo, hi, days, zone)
            for person, week, lo, hi, days, zone in pg.execute(
                f"SELECT person_id::text, from_week, start_minute, end_minute, working_days, "
                f"time_zone FROM {tables['lever_working_hours']} "
                "WHERE person_id = ANY(%s::uuid[]) ORDER BY from_week",
                (people,),
            )
        ]
        self.history = WorkingHoursHistory(settings, zones)
        self.placer = MeetingPlacer()

    def zone_at(self, person: str, start: str | datetime) -> str:
        """The zone a meeting of ``person`` starting at ``start`` is placed in."""
        return self.history.zone_at(person, self.placer.utc_week(start))

    def local_week(self, person: str, start: str | datetime) -> int:
        """The local week of a meeting of ``person`` starting at ``start``."""
        return self.placer.local_week(self.zone_at(person, start), start)

    def reach(self, person: str, start: datetime, end: datetime) -> set[PersonWeekKey]:
        """The weeks an out-of-office block of ``person`` may reach into (a week either side
        too: a zone change between them may move its edges; more is only recomputed)."""
        zone = self.zone_at(person, start)
        first, last = self.placer.local_week(zone, start), self.placer.local_week(zone, end)
        tenant = self.tenants[person]
        return {(tenant, person, week) for week in range(first - 1, last + 2)}


def apply_meetings(
    pg: Any,
    tables: Mapping[str, str],
    meetings: Mapping[tuple[str, str], MeetingFact | None],
    rezoned: Mapping[str, int | None],
) -> tuple[set[PersonWeekKey], set[PersonWeekKey]]:
    """Upsert the meetings seen, place again the meetings of people whose working hours or
    zone changed, then recompute the load of every week they touch.

    Parameters:
        pg: the batch's psycopg connection.
        tables: base table name -> physical name.
        meetings: the batch's last observation of each meeting (None: cancelled only).
        rezoned: person -> the first week whose meetings move (None: all of them).

    Returns:
        The person-weeks recomputed, and among them those a meeting may have left (its
        week before). The weeks an out-of-office block reaches into (or left) are
        recomputed where they exist, never created: a block alone makes no calendar week.
    """
    people = list({person for person, _ in meetings} | set(rezoned))
    calendars = _Calendars(pg, tables, people)
    meet = tables["lever_meetings"]
    reach: set[PersonWeekKey] = set()  # weeks an out-of-office block reaches into or left
    left = _stored_weeks(pg, meet, meetings, calendars, reach)
    touched, moved_from = _place_again(pg, meet, rezoned, calendars)
    left |= moved_from
    touched |= _upsert(pg, meet, meetings, calendars, reach)
    touched |= left
    if touched or reach:
        _write_loads(pg, tables, sorted(touched), sorted(reach - touched), calendars)
    return touched | reach, left


def _stored_weeks(
    pg: Any,
    meet: str,
    meetings: Mapping[tuple[str, str], MeetingFact | None],
    calendars: _Calendars,
    reach: set[PersonWeekKey],
) -> set[PersonWeekKey]:
    """The stored weeks of the meetings a batch names (an observation may move them); the
    weeks their stored out-of-office blocks reached into go to ``reach``."""
    left: set[PersonWeekKey] = set()
    tenants = calendars.tenants
    if meetings:
        persons, keys = zip(*meetings, strict=True)
        for person, week, start, end, away in pg.execute(
            f"SELECT m.person_id::text, m.week_index, m.starts_at, m.ends_at, "
            f"m.away AND m.counted FROM {meet} m "
            "JOIN unnest(%s::uuid[], %s::text[]) AS k(person_id, meeting_key) "
            "USING (person_id, meeting_key)",
            (list(persons), list(keys)),
        ):
            if person in tenants:
                left.add((tenants[person], person, week))
                if away:
                    reach |= calendars.reach(person, start, end)
    return left


def _place_again(
    pg: Any, meet: str, rezoned: Mapping[str, int | None], calendars: _Calendars
) -> tuple[set[PersonWeekKey], set[PersonWeekKey]]:
    """Place the stored meetings of people whose zone may have changed again (from the week
    it changed); returns the weeks they are in and the weeks they left."""
    touched: set[PersonWeekKey] = set()
    left: set[PersonWeekKey] = set()
    tenants = calendars.tenants
    moved = [p for p in rezoned if p in tenants]
    if not moved:
        return touched, left
    since = [
        None if rezoned[p] is None else monday_midnight(rezoned[p] or 0).replace(tzinfo=UTC)
        for p in moved
    ]
    placed: list[tuple[str, str, int]] = []
    for person, key, week, start in pg.execute(
        f"SELECT m.person_id::text, m.meeting_key, m.week_index, m.starts_at FROM {meet} m "
        "JOIN unnest(%s::uuid[], %s::timestamptz[]) AS k(person_id, since) "
        "ON m.person_id = k.person_id AND (k.since IS NULL OR m.starts_at >= k.since)",
        (moved, since),
    ):
        local = calendars.local_week(person, start)
        touched.add((tenants[person], person, local))
        if local != week:
            left.add((tenants[person], person, week))
            placed.append((person, key, local))
    if placed:
        pg.execute(
            f"UPDATE {meet} m SET week_index = k.week_index FROM unnest(%s::uuid[], "
            "%s::text[], %s::int[]) AS k(person_id, meeting_key, week_index) "
            "WHERE m.person_id = k.person_id AND m.meeting_key = k.meeting_key",
            [list(c) for c in zip(*placed, strict=True)],
        )
    return touched, left


def _upsert(
    pg: Any,
    meet: str,
    meetings: Mapping[tuple[str, str], MeetingFact | None],
    calendars: _Calendars,
    reach: set[PersonWeekKey],
) -> set[PersonWeekKey]:
    """Store the meetings (and out-of-office blocks) observed in their local week, and the
    cancellations of those stored before; returns the weeks of the meetings observed (the
    weeks a counted block reaches into go to ``reach``)."""
    touched: set[PersonWeekKey] = set()
    observed: list[list[Any]] = []
    cancelled: list[tuple[str, str]] = []
    tenants = calendars.tenants
    for (person, key), fact in meetings.items():
        if person not in tenants:
            continue
        if fact is None:
            cancelled.append((person, key))
            continue
        start = datetime.fromisoformat(fact.start)
        end = datetime.fromisoformat(fact.end)
        week = calendars.local_week(person, start)
        observed.append([person, key, week, start, end, fact.counted, fact.away])
        touched.add((tenants[person], person, week))
        if fact.away and fact.counted:
            reach |= calendars.reach(person, start, end)
    if observed:
        pg.execute(
            f"""INSERT INTO {meet} (person_id, meeting_key, week_index, starts_at, ends_at,
                counted, away)
            SELECT * FROM unnest(%s::uuid[], %s::text[], %s::int[], %s::timestamptz[],
                %s::timestamptz[], %s::bool[], %s::bool[])
            ON CONFLICT (person_id, meeting_key) DO UPDATE SET
                week_index = excluded.week_index, starts_at = excluded.starts_at,
                ends_at = excluded.ends_at, counted = excluded.counted,
                away = excluded.away""",
            [list(c) for c in zip(*observed, strict=True)],
        )
    if cancelled:
        people, keys = zip(*cancelled, strict=True)
        pg.execute(
            f"UPDATE {meet} m SET counted = false FROM unnest(%s::uuid[], %s::text[]) "
            "AS k(person_id, meeting_key) WHERE m.person_id = k.person_id "
            "AND m.meeting_key = k.meeting_key",
            (list(people), list(keys)),
        )
    return touched


def _write_loads(
    pg: Any,
    tables: Mapping[str, str],
    ordered: list[PersonWeekKey],
    existing: list[PersonWeekKey],
    calendars: _Calendars,
) -> None:
    """Recompute the calendar load of the person-weeks ``ordered`` (created if missing) and
    ``existing`` (only where they exist) from their counted meetings (none: no calendar
    that week), less the time their person's counted out-of-office blocks cover."""
    spans: dict[tuple[str, int], list[tuple[float, float]]] = defaultdict(list)
    placer = calendars.placer
    weeks = ordered + existing
    meet = tables["lever_meetings"]
    blocks: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
    for person, start, end in pg.execute(
        f"SELECT person_id::text, starts_at, ends_at FROM {meet} "
        "WHERE person_id = ANY(%s::uuid[]) AND away AND counted",
        (list({p for _, p, _ in weeks}),),
    ):
        blocks[person].append((start, end))
    for person, week, start, end in pg.execute(
        f"SELECT m.person_id::text, m.week_index, m.starts_at, m.ends_at FROM {meet} m "
        "JOIN unnest(%s::uuid[], %s::int[]) AS k(person_id, week_index) "
        "USING (person_id, week_index) WHERE m.counted AND NOT m.away",
        ([p for _, p, _ in weeks], [w for _, _, w in weeks]),
    ):
        zone = calendars.zone_at(person, start)
        spans[(person, week)].append(
            (
                placer.hours_since_monday(zone, start, week),
                placer.hours_since_monday(zone, end, week),
            )
        )
    if ordered:
        ensure_person_weeks(pg, tables, ordered)
    rows: list[tuple[Any, ...]] = []
    for _, person, week in weeks:
        found = spans.get((person, week))
        if not found:
            rows.append((person, week, False, 0, 0, 0, 0, 0, 0))
            continue
        away: tuple[tuple[float, float], ...] = ()
        if person in blocks:
            zone = calendars.history.zone_at(person, week)
            away = away_spans(placer, zone, week, blocks[person])
        load = calendar_load(found, calendars.history.hours_at(person, week), away)
        rows.append(
            (
                person,
                week,
                True,
                load.pressure,
                load.meeting_hours,
                load.working_hours,
                load.focus_hours,
                load.after_hours,
                load.back_to_back,
            )
        )
    pg.execute(
        f"""UPDATE {tables["lever_person_weeks"]} pw SET calendar = k.calendar,
            pressure = k.pressure, meeting_hours = k.meeting_hours,
            working_hours = k.working_hours, focus_hours = k.focus_hours,
            after_hours = k.after_hours, back_to_back = k.back_to_back
        FROM unnest(%s::uuid[], %s::int[], %s::bool[], %s::bigint[], %s::bigint[],
            %s::bigint[], %s::bigint[], %s::bigint[], %s::int[])
            AS k(person_id, week_index, calendar, pressure, meeting_hours, working_hours,
                 focus_hours, after_hours, back_to_back)
        WHERE pw.person_id = k.person_id AND pw.week_index = k.week_index""",
        [list(c) for c in zip(*rows, strict=True)],
    )


def drop_empty_weeks(
    pg: Any, tables: Mapping[str, str], keys: set[PersonWeekKey]
) -> set[TeamWeekKey]:
    """Delete the person-weeks among ``keys`` (weeks a meeting may have left) left with
    nothing in them: a person-week exists while an action, a feedback request or answer, or
    a meeting falls in it, as in a rebuild.

    Parameters:
        pg: the batch's psycopg connection.
        tables: base table name -> physical name.
        keys: (tenant, person, week) of the weeks to check.

    Returns:
        The team-weeks the deleted person-weeks counted in.
    """
    if not keys:
        return set()
    pw = tables["lever_person_weeks"]
    return {
        (tenant, team, week)
        for tenant, team, week in pg.execute(
            f"""DELETE FROM {pw} pw USING unnest(%s::uuid[], %s::int[])
                AS k(person_id, week_index)
            WHERE pw.person_id = k.person_id AND pw.week_index = k.week_index
              AND pw.asked = 0 AND pw.feedback = 0
              AND NOT EXISTS (SELECT 1 FROM {tables["lever_actions"]} a
                  WHERE a.person_id = k.person_id AND a.week_index = k.week_index)
              AND NOT EXISTS (SELECT 1 FROM {tables["lever_meetings"]} m
                  WHERE m.person_id = k.person_id AND m.week_index = k.week_index)
            RETURNING pw.tenant_id::text, pw.team_id::text, pw.week_index""",
            ([p for _, p, _ in keys], [w for _, _, w in keys]),
        )
    }

"""Rebuild: the log folded a chunk of people at a time by the per-event transitions
catch-up runs too (:class:`~.transitions.LeverFacts`), each chunk resolved in memory and
appended with COPY (shared/projections/chunked.py builds the keys after the last chunk);
the team-weeks, sums over people, are computed at the end from the stored rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from shared.copy_format import CopyBuffer, copy_lines, copy_rows, escape
from shared.database import as_psycopg
from shared.domain import levers as model
from shared.eventlog import RecordedEvent
from shared.gc_pause import collector_paused
from shared.projections.levers.calendar import (
    CalendarLoad,
    MeetingPlacer,
    WorkingHoursHistory,
    away_spans,
    calendar_load,
)
from shared.projections.levers.facts import PulseSums
from shared.projections.levers.incremental import LASTS, team_weeks_sql
from shared.projections.levers.membership import (
    Interval,
    MembershipFold,
    PersonState,
    backfill,
    by_person,
    kept,
)
from shared.projections.levers.schema import PERSON_WEEK_COLUMNS
from shared.projections.levers.transitions import (
    LeverFacts,
    answer_output_only,
    rewarded,
)
from shared.projections.levers.week_rows import PersonWeeks


class LeversFold:
    """A rebuild's fold (``LeversProjection.begin_rebuild``): what the incremental path
    writes when handed a chunk of people's events as one batch, computed in memory and
    appended to each table with COPY.

    Parameters:
        version: the model version stored in each team-week.

    Each chunk of people (with the events of other streams that name them, such as their
    teams' manager assignments: shared/projections/chunked.py) is resolved at its flush,
    memberships first, as catch-up does for a batch. The pulse sums (in the chunks of no
    person, which come first) are held until those are all folded (:meth:`end_shared`); the
    team-weeks, which sum over people of every chunk, are computed from the stored rows at
    :meth:`finish`.
    """

    def __init__(self, version: int) -> None:
        self.version = version
        self.facts = LeverFacts()
        self.pulses: dict[tuple[str, str, int], list[int]] = {}
        """(tenant, team, week) -> the pulse sums so far, flat (``_flat``): the events of no
        person come in several chunks, and a team-week's answers may span two."""
        self.names: dict[str, str] = {}  # one string per tenant and team id
        self.unresolved: set[str] = set()
        """Requests answered in a chunk that did not hold them: another person's, if any
        chunk does (their order decides, see :meth:`finish`), or never asked."""

    @collector_paused()  # many small records kept, no cycles (pauses are counted)
    def fold(self, events: Sequence[RecordedEvent]) -> None:
        """Fold a chunk's events (in log order).

        Parameters:
            events: the chunk's events.
        """
        self.facts.add(events)

    @collector_paused()
    def flush(self, copies: CopyBuffer, tables: Mapping[str, str]) -> None:
        """Resolve the chunk's people and encode their rows; keep what spans chunks.

        Parameters:
            copies: where the COPY text goes.
            tables: base table name -> physical name of the new generation.
        """
        facts, self.facts = self.facts, LeverFacts()
        names = self.names
        for (tenant, team, week), sums in facts.pulses.items():  # events of no person
            key = (names.setdefault(tenant, tenant), names.setdefault(team, team), week)
            held = self.pulses.get(key)
            if held is None:
                self.pulses[key] = _flat(sums)
            else:
                for i, value in enumerate(_flat(sums)):
                    held[i] += value
        memberships = MembershipFold()
        for change in facts.membership:
            memberships.apply(change)
        people = memberships.people
        intervals = kept(memberships.opened())
        intervals_of = by_person(intervals)
        backfill(intervals_of, facts.first_seen)
        weeks = PersonWeeks(intervals_of)
        action_lines = _actions(facts, people, weeks)
        for (tenant, person, week), count in facts.asked.items():
            weeks.ensure(tenant, person, week).asked += count
        for answer in facts.answers:
            row = weeks.ensure(answer.tenant, answer.person, answer.week)
            row.feedback += 1
            row.output_only += answer_output_only(answer, {})
        meeting_rows = _meetings(facts, people, weeks)
        self.unresolved.update(a.request for a in facts.answers if a.request not in facts.requests)
        _copy_people(copies, tables, facts, people, intervals, action_lines)
        _copy_weeks(copies, tables, facts, meeting_rows, weeks)

    def end_shared(self, copies: CopyBuffer, tables: Mapping[str, str]) -> None:
        """Encode the pulse sums, complete once the events of no person are folded, and let
        go of them.

        Parameters:
            copies: where the COPY text goes.
            tables: base table name -> physical name of the new generation.
        """
        pulses, self.pulses, self.names = self.pulses, {}, {}
        items = len(model.ITEMS)
        copy_rows(
            copies,
            tables["lever_pulses"],
            "tenant_id, team_id, week_index, responses, safety_n, safety_points, item_sum, item_n",
            (
                (*key, *sums[:3], sums[3 : 3 + items], sums[3 + items :])
                for key, sums in pulses.items()
            ),
        )

    def finish(self, conn: Connection, tables: Mapping[str, str]) -> bool:
        """Write every team-week from the stored person-weeks, memberships and pulses, in
        one statement (the one catch-up runs for a batch's team-weeks:
        :func:`.incremental.team_weeks_sql`).

        Parameters:
            conn: the transaction that finishes the pass (keys and indexes are built).
            tables: base table name -> physical name of the new generation.

        Returns:
            False if an answer named a request of another chunk's (another person's): its
            output-only flag depends on the order of the two events, which only a rebuild
            in log order sees.
        """
        pg = as_psycopg(conn)
        if self.unresolved:
            found = pg.execute(
                f"SELECT 1 FROM {tables['lever_feedback_requests']} "
                "WHERE request_id = ANY(%s::uuid[]) LIMIT 1",
                (list(self.unresolved),),
            ).fetchone()
            if found is not None:
                return False
        keys = f"({team_week_keys_sql(tables)}) AS k"
        pg.execute(team_weeks_sql(tables, keys), (self.version,))
        return True


def _flat(sums: PulseSums) -> list[int]:
    """A team-week's pulse sums as one list: responses, safety n and points, the item sums,
    the item counts (a third of the memory of a :class:`PulseSums`)."""
    return [sums.responses, sums.safety_n, sums.safety_points, *sums.item_sum, *sums.item_n]


def team_week_keys_sql(tables: Mapping[str, str]) -> str:
    """The team-weeks a rebuild writes: those someone's week counts in, with pulse answers,
    or where someone's membership of the team that holds a week starts or ends (what
    catch-up keeps, whatever the batches); each with one tenant (a membership's first, then
    a person-week's, then a pulse's).

    Parameters:
        tables: base table name -> physical name.

    Returns:
        A statement yielding (tenant_id, team_id, week_index), one row per team-week.
    """
    mem = tables["lever_memberships"]
    return f"""SELECT DISTINCT ON (team_id, week_index) tenant_id, team_id, week_index
        FROM (SELECT tenant_id, team_id, from_week AS week_index, 0 AS source FROM {mem} m
              WHERE {LASTS}
              UNION ALL SELECT tenant_id, team_id, to_week, 0 FROM {mem} m
              WHERE m.to_week IS NOT NULL AND {LASTS}
              UNION ALL SELECT tenant_id, team_id, week_index, 1
              FROM {tables["lever_person_weeks"]}
              UNION ALL SELECT tenant_id, team_id, week_index, 2
              FROM {tables["lever_pulses"]}) AS k
        ORDER BY team_id, week_index, source, tenant_id"""


def _copy_people(
    pg: Any,
    tables: Mapping[str, str],
    facts: LeverFacts,
    people: Mapping[str, PersonState],
    intervals: list[Interval],
    action_lines: list[str],
) -> None:
    """Append a chunk's people, memberships, actions, rewards and feedback requests."""
    copy_rows(
        pg,
        tables["lever_people"],
        "person_id, tenant_id, team_id, time_zone, active",
        ((k, p.tenant, p.team, p.time_zone, p.active) for k, p in people.items()),
    )
    copy_rows(
        pg,
        tables["lever_memberships"],
        "person_id, tenant_id, team_id, from_week, to_week",
        (interval.row() for interval in intervals),
    )
    copy_lines(
        pg,
        tables["lever_actions"],
        "action_id, person_id, week_index, occurred_at, stretch, visible, rewarded, retracted, "
        "declined, reward_confirmed",
        action_lines,
    )
    copy_rows(
        pg,
        tables["lever_rewards"],
        "outcome_id, person_id, occurred_at, named, confirmed",
        ((k, r.person, r.occurred_at, r.named, r.confirmed) for k, r in facts.rewards.items()),
        plain=True,
    )
    copy_rows(
        pg,
        tables["lever_feedback_requests"],
        "request_id, output_only",
        facts.requests.items(),
        plain=True,
    )


def _copy_weeks(
    pg: Any,
    tables: Mapping[str, str],
    facts: LeverFacts,
    meeting_rows: list[tuple[Any, ...]],
    weeks: PersonWeeks,
) -> None:
    """Append a chunk's working hours, meetings and person-weeks."""
    copy_rows(
        pg,
        tables["lever_working_hours"],
        "person_id, from_week, start_minute, end_minute, working_days, time_zone",
        (setting.row() for setting in facts.hours.values()),
    )
    copy_rows(
        pg,
        tables["lever_meetings"],
        "person_id, meeting_key, week_index, starts_at, ends_at, counted, away",
        meeting_rows,
        plain=True,
    )
    copy_lines(
        pg,
        tables["lever_person_weeks"],
        PERSON_WEEK_COLUMNS,
        [row.line(person, week) for (person, week), row in weeks.rows.items()],
    )


def _actions(facts: LeverFacts, people: Mapping[str, PersonState], weeks: PersonWeeks) -> list[str]:
    """The ``lever_actions`` rows as COPY lines (rewarded: a reward that counts 0 to 14 days
    after a visible action; reward confirmed: a confirmed one), and each action not retracted
    counted in its person-week (a stretch task its counterpart declined not as one)."""
    times: dict[bool, dict[str, list[datetime]]] = {
        True: defaultdict(list),
        False: defaultdict(list),
    }
    for reward in facts.rewards.values():
        if reward.counts:
            times[False][reward.person].append(reward.occurred_at)
        if reward.confirmed and reward.named:
            times[True][reward.person].append(reward.occurred_at)
    for found in times.values():
        for person_times in found.values():
            person_times.sort()
    for (person, week), tenant in facts.action_weeks.items():
        weeks.ensure(tenant, person, week)
    lines: list[str] = []
    append = lines.append
    retracted_ids, week_rows = facts.retracted, weeks.rows
    for action_id, a in facts.actions.items():
        known = a.person in people  # the incremental path marks only people it stores
        retracted = known and (a.person, action_id) in retracted_ids
        judged = a.visible and known
        is_rewarded = judged and rewarded(a.occurred_at, times[False].get(a.person, ()))
        confirmed = judged and rewarded(a.occurred_at, times[True].get(a.person, ()))
        # the COPY line itself (ids, a number, the time's text, booleans): a tuple encoded
        # later cost twice as much, the largest part of a levers flush
        append(
            f"{action_id}\t{a.person}\t{a.week}\t{a.at_text}\t{a.stretch}\t{a.visible}\t"
            f"{is_rewarded}\t{retracted}\t{a.declined}\t{confirmed}\n"
        )
        if not retracted:
            row = week_rows[(a.person, a.week)]
            row.actions += 1
            row.stretch += a.stretch and not a.declined
            row.visible += a.visible
            row.rewarded += is_rewarded
            row.confirmed_rewarded += confirmed
    return lines


def _meetings(
    facts: LeverFacts, people: Mapping[str, PersonState], weeks: PersonWeeks
) -> list[tuple[Any, ...]]:
    """The ``lever_meetings`` rows (each meeting's, or out-of-office block's, last
    observation in its person's local week), and each person-week's calendar load from its
    counted meetings, less the time its counted blocks cover."""
    history = WorkingHoursHistory(
        facts.hours.values(), {person: p.time_zone for person, p in people.items()}
    )
    placer = MeetingPlacer()
    rows: list[tuple[Any, ...]] = []
    spans: dict[tuple[str, int], list[tuple[float, float]]] = defaultdict(list)
    blocks: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for (person, key), fact in facts.meetings.items():
        p = people.get(person)
        if p is None or fact is None:
            continue
        zone = p.time_zone
        if history.has_changes(person):
            zone = history.zone_at(person, placer.utc_week(fact.start))
        week, starts, ends = placer.place(zone, fact.start, fact.end)
        counted = fact.counted
        rows.append(
            (
                person,
                escape(key),
                week,
                fact.start,
                fact.end,
                "t" if counted else "f",
                "t" if fact.away else "f",
            )
        )
        if (person, week) not in weeks.rows:
            weeks.ensure(p.tenant, person, week)
        if counted and fact.away:
            blocks[person].append((fact.start, fact.end))
        elif counted:
            spans[(person, week)].append((starts, ends))
    # One load per distinct week of meetings (and working hours, when not the default).
    loads: dict[tuple[Any, ...], CalendarLoad] = {}
    for (person, week), found in spans.items():
        found.sort()
        away: tuple[tuple[float, float], ...] = ()
        if person in blocks:
            away = away_spans(placer, history.zone_at(person, week), week, blocks[person])
        if history.has_changes(person):
            hours = history.hours_at(person, week)
            shape: tuple[Any, ...] = (hours, away, *found)
        else:
            hours, shape = model.DEFAULT_WORKING_HOURS, (away, *found)
        load = loads.get(shape)
        if load is None:
            load = loads[shape] = calendar_load(found, hours, away)
        weeks.rows[(person, week)].load = load
    return rows

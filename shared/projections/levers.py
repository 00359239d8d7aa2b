"""Team levers per ISO week (model version 1): the read model behind manager dashboards.

The projection keeps, per person and week, the numbers the levers need (actions, stretch
tasks, feedback, calendar load), the anonymous pulse sums per team and week, and from those
one row of additive sums per team and week (``lever_team_weeks``). Each person belongs to
one *lever team* per week (the team they were invited or moved into; a manager does not
count in the team they manage; people without one count in the organisation only), so the
sums of sub-teams add up to their parent's and the organisation's.

Membership is taken from the events themselves (event time), never from the live directory,
so an incremental run and a rebuild produce the same rows. Only the shape of the hierarchy
(which team is below which) is read from the directory at read time.

Reads (:func:`read_team_levers`, :func:`read_org_levers`) return cells already suppressed by
:func:`shared.domain.privacy.protect_tree`: pages and the API share this one privacy path.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Connection, text

from shared.database import as_psycopg
from shared.domain import levers as model
from shared.domain.nudges import manager_nudges
from shared.domain.privacy import Cell, effective_k, protect_tree
from shared.domain.weeks import week_start
from shared.domain.working_hours import DAYS, Schedule, default_schedule, schedule_in_week
from shared.eventlog import RecordedEvent
from shared.eventlog.store import copy_text
from shared.projections.bulk import load_tables
from shared.projections.capital import EPOCH_MONDAY, week_index, week_label
from shared.projections.runtime import Projection, collector_paused

MILLI = 1000  # hours and pressure are kept in integer thousandths: sums are exact
MEMBERSHIP_EVENTS = frozenset(
    {
        "PersonInvited",
        "PersonJoined",
        "PersonMovedTeam",
        "PersonLeft",
        "PersonErased",
        "TeamManagerAssigned",
    }
)
JOURNAL_EVENTS = frozenset(
    {
        "MicroActionLogged",
        "MicroActionRetracted",
        "OutcomeRecorded",
        "FeedbackRequested",
        "FeedbackGiven",
    }
)
CALENDAR_EVENTS = frozenset({"MeetingObserved", "MeetingCancelled"})

SUM_COLUMNS = (
    "members",
    "active",
    "actions",
    "stretchers",
    "askers",
    "visible_people",
    "visible_actions",
    "rewarded_actions",
    "feedback_people",
    "feedback",
    "output_only",
    "calendar_people",
    "pressure",
    "meeting_hours",
    "working_hours",
    "focus_hours",
    "after_hours",
    "back_to_back",
    "responses",
    "safety_n",
    "safety_points",
    "item_sum",
    "item_n",
)
MILLI_COLUMNS = frozenset(
    {"pressure", "meeting_hours", "working_hours", "focus_hours", "after_hours", "safety_points"}
)

# The lever team of a person in week k.week_index (their pseudo-team, the tenant, if none).
_TEAM_AT = """coalesce((SELECT m.team_id FROM {mem} m WHERE m.person_id = k.person_id
    AND m.from_week <= k.week_index AND (m.to_week IS NULL OR m.to_week >= k.week_index)
    ORDER BY m.from_week DESC LIMIT 1), k.tenant_id)"""


def _schedule(start: int, end: int, days: Iterable[int], zone: str) -> Schedule:
    """A ``lever_working_hours`` row as the domain's schedule (minutes, weekday numbers)."""
    return Schedule(model.WorkingHours(start / 60, end / 60, frozenset(days)), zone)


def _hours_row(e: RecordedEvent, week: int) -> list[Any] | None:
    """A ``WorkingHoursSet`` as a ``lever_working_hours`` row (from its ISO week on); None
    for a window that ends before it starts (which the command never writes)."""
    data = e.data
    if data["start_minute"] >= data["end_minute"]:
        return None
    days = sorted({DAYS.index(day) for day in data["working_days"]})
    return [
        data["person_id"],
        week,
        data["start_minute"],
        data["end_minute"],
        days,
        data["time_zone"],
    ]


def _utc_week(moment: datetime) -> int:
    return week_index(moment.astimezone(UTC).date())


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


class _Person:
    __slots__ = ("active", "db_from", "fresh", "team", "tenant", "time_zone")

    def __init__(self, tenant: str, team: str | None, time_zone: str, active: bool) -> None:
        self.tenant, self.team, self.time_zone, self.active = tenant, team, time_zone, active
        self.db_from: int | None = None  # from_week of the interval open in the table
        self.fresh: list[list[Any]] = []  # intervals opened in this batch


class LeversProjection(Projection):
    name = "levers"
    version = model.MODEL_VERSION
    handles = (
        MEMBERSHIP_EVENTS
        | JOURNAL_EVENTS
        | CALENDAR_EVENTS
        | {"PulseResponseSubmitted", "WorkingHoursSet"}
    )
    # Team-week aggregates: a wake-up a second folds the appends of that second in one batch
    # (each batch costs a dozen statements whatever its size), and keeps a busy gateway's
    # wake-ups from starving the per-person projections on the same worker.
    wake_throttle_seconds = 1.0
    tables = {
        "lever_people": """person_id uuid PRIMARY KEY, tenant_id uuid NOT NULL,
            team_id uuid, time_zone text NOT NULL DEFAULT 'UTC',
            active boolean NOT NULL DEFAULT true""",
        "lever_memberships": """person_id uuid NOT NULL, tenant_id uuid NOT NULL,
            team_id uuid NOT NULL, from_week integer NOT NULL, to_week integer""",
        "lever_actions": """action_id uuid PRIMARY KEY, person_id uuid NOT NULL,
            week_index integer NOT NULL, occurred_at timestamptz NOT NULL,
            stretch boolean NOT NULL, visible boolean NOT NULL,
            rewarded boolean NOT NULL DEFAULT false, retracted boolean NOT NULL DEFAULT false""",
        "lever_rewards": """outcome_id uuid PRIMARY KEY, person_id uuid NOT NULL,
            occurred_at timestamptz NOT NULL""",
        "lever_feedback_requests": "request_id uuid PRIMARY KEY, output_only boolean NOT NULL",
        "lever_working_hours": """person_id uuid NOT NULL, from_week integer NOT NULL,
            start_minute integer NOT NULL, end_minute integer NOT NULL,
            working_days integer[] NOT NULL, time_zone text NOT NULL,
            PRIMARY KEY (person_id, from_week)""",
        "lever_meetings": """person_id uuid NOT NULL, meeting_key text NOT NULL,
            week_index integer NOT NULL, starts_at timestamptz NOT NULL,
            ends_at timestamptz NOT NULL, counted boolean NOT NULL,
            PRIMARY KEY (person_id, meeting_key)""",
        "lever_person_weeks": """tenant_id uuid NOT NULL, person_id uuid NOT NULL,
            week_index integer NOT NULL, team_id uuid NOT NULL,
            actions integer NOT NULL DEFAULT 0, stretch integer NOT NULL DEFAULT 0,
            visible integer NOT NULL DEFAULT 0, rewarded integer NOT NULL DEFAULT 0,
            asked integer NOT NULL DEFAULT 0, feedback integer NOT NULL DEFAULT 0,
            output_only integer NOT NULL DEFAULT 0, calendar boolean NOT NULL DEFAULT false,
            pressure bigint NOT NULL DEFAULT 0, meeting_hours bigint NOT NULL DEFAULT 0,
            working_hours bigint NOT NULL DEFAULT 0, focus_hours bigint NOT NULL DEFAULT 0,
            after_hours bigint NOT NULL DEFAULT 0, back_to_back integer NOT NULL DEFAULT 0,
            PRIMARY KEY (person_id, week_index)""",
        "lever_pulses": """tenant_id uuid NOT NULL, team_id uuid NOT NULL,
            week_index integer NOT NULL, responses integer NOT NULL, safety_n integer NOT NULL,
            safety_points bigint NOT NULL, item_sum integer[] NOT NULL,
            item_n integer[] NOT NULL, PRIMARY KEY (team_id, week_index)""",
        "lever_team_weeks": """tenant_id uuid NOT NULL, team_id uuid NOT NULL,
            week_index integer NOT NULL, members integer NOT NULL, active integer NOT NULL,
            actions integer NOT NULL, stretchers integer NOT NULL, askers integer NOT NULL,
            visible_people integer NOT NULL, visible_actions integer NOT NULL,
            rewarded_actions integer NOT NULL, feedback_people integer NOT NULL,
            feedback integer NOT NULL, output_only integer NOT NULL,
            calendar_people integer NOT NULL, pressure bigint NOT NULL,
            meeting_hours bigint NOT NULL, working_hours bigint NOT NULL,
            focus_hours bigint NOT NULL, after_hours bigint NOT NULL,
            back_to_back integer NOT NULL, responses integer NOT NULL,
            safety_n integer NOT NULL, safety_points bigint NOT NULL,
            item_sum integer[], item_n integer[], model_version integer NOT NULL,
            PRIMARY KEY (team_id, week_index)""",
    }
    indexes = {
        "lever_memberships": ["person_id", "team_id"],
        "lever_actions": ["person_id, week_index"],
        "lever_rewards": ["person_id, occurred_at"],
        "lever_meetings": ["person_id, week_index"],
        "lever_person_weeks": ["team_id, week_index"],
        "lever_team_weeks": ["tenant_id, week_index"],
    }

    def begin_rebuild(self) -> LeversFold:
        """A rebuild folds the whole log in memory and writes each table once
        (:class:`LeversFold`); catch-up applies batches with :meth:`apply`."""
        return LeversFold(self.version)

    def apply(
        self, conn: Connection, events: Sequence[RecordedEvent], tables: Mapping[str, str]
    ) -> None:
        pg = as_psycopg(conn)
        touched_teams: set[tuple[str, str, int]] = set()  # (tenant, team, week)
        touched_people: set[tuple[str, str, int]] = set()  # (tenant, person, week)
        # Membership events name their person; one that does not (written around the
        # store's validation) says nothing about a team and is passed over.
        membership = [e for e in events if e.type in MEMBERSHIP_EVENTS and "person_id" in e.data]
        if membership:
            touched_teams |= self._memberships(pg, tables, membership)
        actions: list[list[Any]] = []
        retracted: list[str] = []
        rewards: list[list[Any]] = []
        reward_people: dict[str, datetime] = {}
        requests: dict[str, bool] = {}
        given: list[tuple[str, str, int, str]] = []
        given_known: list[bool | None] = []  # the request's flag when answered, if in this batch
        asked: dict[tuple[str, str, int], int] = defaultdict(int)
        meetings: dict[tuple[str, str], tuple[RecordedEvent | None, bool]] = {}
        pulses: dict[tuple[str, str, int], list[Any]] = {}
        observed_starts: list[tuple[str, str]] = []
        hours: dict[tuple[str, int], list[Any]] = {}  # (person, from week) -> row, last wins
        rezoned: dict[str, int | None] = {}  # person -> first week whose meetings move (None: all)
        for e in events:
            data, kind = e.data, e.type
            if kind == "WorkingHoursSet":
                week = week_index(e.occurred_at.date())
                row = _hours_row(e, week)
                if row is None:
                    continue
                hours[(data["person_id"], week)] = row
                moved_from = rezoned.get(data["person_id"], week)
                rezoned[data["person_id"]] = None if moved_from is None else min(moved_from, week)
                continue
            if kind == "PersonJoined" and "person_id" in data:
                rezoned[data["person_id"]] = None  # the zone of weeks before any setting
                continue
            if kind == "MicroActionLogged":
                person = data["person_id"]
                week = week_index(e.occurred_at.date())
                actions.append(
                    [
                        data["action_id"],
                        person,
                        week,
                        e.occurred_at,
                        data["tactic"] in model.STRETCH_TACTICS,
                        data["audience"] != "private",
                    ]
                )
                touched_people.add((e.tenant_id_text, person, week))
                first = reward_people.get(person)
                if first is None or e.occurred_at < first:
                    reward_people[person] = e.occurred_at
            elif kind == "MicroActionRetracted":
                retracted.append(data["action_id"])
            elif kind == "OutcomeRecorded":
                if data["kind"] in model.REWARD_KINDS:
                    person = data["person_id"]
                    rewards.append([data["outcome_id"], person, e.occurred_at])
                    since = e.occurred_at - timedelta(days=model.INCENTIVE_WINDOW_DAYS)
                    first = reward_people.get(person)
                    if first is None or since < first:
                        reward_people[person] = since
            elif kind == "FeedbackRequested":
                # Feedback on a logged micro-action speaks to behaviour; without one it can
                # only judge an output (the "output-only" share of ambiguous evaluation).
                # The first request of an id counts (a repeated id changes nothing).
                requests.setdefault(data["request_id"], data.get("action_id") is None)
                asked[(e.tenant_id_text, data["person_id"], week_index(e.occurred_at.date()))] += 1
            elif kind == "FeedbackGiven":
                week = week_index(e.occurred_at.date())
                given.append((e.tenant_id_text, data["person_id"], week, data["request_id"]))
                # Judged by the request as known when the answer came, in log order: an
                # answer appended before its request (an import) is not output-only.
                given_known.append(requests.get(data["request_id"]))
            elif kind == "MeetingObserved":
                meetings[(data["person_id"], data["meeting_key"])] = (e, False)
                observed_starts.append((data["person_id"], data["start"]))
            elif kind == "MeetingCancelled":
                key = (data["person_id"], data["meeting_key"])
                meetings[key] = (meetings.get(key, (None, False))[0], True)
            elif kind == "PulseResponseSubmitted":
                self._pulse(pulses, e)
        first_seen: dict[str, int] = {}
        for _, person, week in [
            *((None, a[1], a[2]) for a in actions),
            *asked,
            *given_weeks(given),
        ]:
            first_seen[person] = min(week, first_seen.get(person, week))
        for person, start_text in observed_starts:  # every observation, moved ones too
            start = datetime.fromisoformat(start_text)
            week = week_index(start.date()) - 1  # its local week may start a day early
            first_seen[person] = min(week, first_seen.get(person, week))
        if first_seen:
            touched_teams |= self._backfill(pg, tables, first_seen)
        if actions:
            # An id seen twice (a replayed import, a duplicate written around the store's
            # checks) counts once, the first time: the same in every batching.
            unique = list({row[0]: row for row in reversed(actions)}.values())[::-1]
            pg.execute(
                f"""INSERT INTO {tables["lever_actions"]} (action_id, person_id, week_index,
                    occurred_at, stretch, visible)
                SELECT * FROM unnest(%s::uuid[], %s::uuid[], %s::int[], %s::timestamptz[],
                    %s::bool[], %s::bool[])
                ON CONFLICT (action_id) DO NOTHING""",
                [list(c) for c in zip(*unique, strict=True)],
            )
        if retracted:
            for tenant, person, week in pg.execute(
                f"UPDATE {tables['lever_actions']} a SET retracted = true "
                f"FROM {tables['lever_people']} p WHERE a.action_id = ANY(%s::uuid[]) "
                "AND p.person_id = a.person_id "
                "RETURNING p.tenant_id::text, a.person_id::text, a.week_index",
                (retracted,),
            ):
                touched_people.add((tenant, person, week))
        if rewards:
            unique = list({row[0]: row for row in reversed(rewards)}.values())[::-1]
            pg.execute(
                f"INSERT INTO {tables['lever_rewards']} (outcome_id, person_id, occurred_at) "
                "SELECT * FROM unnest(%s::uuid[], %s::uuid[], %s::timestamptz[]) "
                "ON CONFLICT (outcome_id) DO NOTHING",
                [list(c) for c in zip(*unique, strict=True)],
            )
        if reward_people and rewards:
            for tenant, person, week in pg.execute(
                f"""UPDATE {tables["lever_actions"]} a SET rewarded = true
                FROM unnest(%s::uuid[], %s::timestamptz[]) AS k(person_id, since),
                    {tables["lever_people"]} p
                WHERE a.person_id = k.person_id AND a.occurred_at >= k.since
                  AND p.person_id = a.person_id AND a.visible AND NOT a.rewarded
                  AND EXISTS (SELECT 1 FROM {tables["lever_rewards"]} r
                      WHERE r.person_id = a.person_id AND r.occurred_at >= a.occurred_at
                        AND r.occurred_at <= a.occurred_at + interval '14 days')
                RETURNING p.tenant_id::text, a.person_id::text, a.week_index""",
                (list(reward_people), list(reward_people.values())),
            ):
                touched_people.add((tenant, person, week))
        if touched_people:
            self._action_stats(pg, tables, touched_people)
        if requests or given:
            self._feedback(pg, tables, requests, given, given_known, asked)
            touched_people |= set(asked) | {(t, p, w) for t, p, w, _ in given}
        if hours:
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
                    [r[0] for r in hours.values()],
                    [r[1] for r in hours.values()],
                    [r[2] for r in hours.values()],
                    [r[3] for r in hours.values()],
                    [",".join(map(str, r[4])) for r in hours.values()],
                    [r[5] for r in hours.values()],
                ],
            )
        if meetings or rezoned:
            met, left = self._meetings(pg, tables, meetings, rezoned)
            touched_people |= met
            touched_teams |= self._drop_empty_weeks(pg, tables, left)
        if pulses:
            self._write_pulses(pg, tables, pulses)
            touched_teams |= {(tenant, team, week) for tenant, team, week in pulses}
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
            self._team_weeks(pg, tables, touched_teams)

    # -- membership ------------------------------------------------------------------------

    def _memberships(
        self, pg: Any, tables: Mapping[str, str], events: Sequence[RecordedEvent]
    ) -> set[tuple[str, str, int]]:
        """Fold membership events in log order; returns the team-weeks whose members changed."""
        ids = list({e.data["person_id"] for e in events})
        state: dict[str, _Person] = {}
        for person, tenant, team, zone, active, db_from in pg.execute(
            f"SELECT p.person_id::text, p.tenant_id::text, p.team_id::text, p.time_zone, "
            f"p.active, (SELECT max(m.from_week) FROM {tables['lever_memberships']} m "
            "WHERE m.person_id = p.person_id AND m.to_week IS NULL) "
            f"FROM {tables['lever_people']} p WHERE p.person_id = ANY(%s::uuid[])",
            (ids,),
        ):
            state[person] = _Person(tenant, team, zone, active)
            state[person].db_from = db_from
        closes: dict[str, int] = {}  # person -> to_week of the interval open in the table
        changed: dict[tuple[str, str], int] = {}  # (tenant, team) -> first changed week
        boundaries: set[tuple[str, str, int]] = set()  # weeks an interval starts or ends
        reattribute: dict[str, int] = {}

        def close(person: str, p: _Person, week: int) -> None:
            if p.team is None:
                return
            if p.fresh:
                p.fresh[-1][4] = week
            elif p.db_from is not None:
                closes[person] = week
            changed[(p.tenant, p.team)] = min(week, changed.get((p.tenant, p.team), week))
            boundaries.add((p.tenant, p.team, week))
            reattribute[person] = min(week, reattribute.get(person, week))
            p.team = None

        def open_(person: str, p: _Person, team: str, week: int) -> None:
            p.team = team
            p.fresh.append([person, p.tenant, team, week, None])
            changed[(p.tenant, team)] = min(week, changed.get((p.tenant, team), week))
            boundaries.add((p.tenant, team, week))
            reattribute[person] = min(week, reattribute.get(person, week))

        for e in events:
            data, person = e.data, e.data["person_id"]
            week = week_index(e.occurred_at.date())
            p = state.get(person)
            if e.type == "PersonInvited":
                if p is None:
                    p = state[person] = _Person(e.tenant_id_text, None, "UTC", True)
                    open_(person, p, data["team_id"] or e.tenant_id_text, week)
                continue
            if p is None:
                continue  # not a person this projection has seen invited
            if e.type == "PersonJoined":
                p.time_zone = data["time_zone"]
            elif e.type == "PersonMovedTeam" and p.active:
                if p.team != data["to_team_id"]:
                    close(person, p, week - 1)
                    open_(person, p, data["to_team_id"], week)
            elif e.type in ("PersonLeft", "PersonErased") and p.active:
                close(person, p, week)
                p.active = False
            elif e.type == "TeamManagerAssigned" and p.active and p.team == data["team_id"]:
                close(person, p, week - 1)  # a manager is not counted in the team they lead
                open_(person, p, p.tenant, week)
        mem = tables["lever_memberships"]
        if closes:
            people, weeks = zip(*closes.items(), strict=True)
            pg.execute(
                f"UPDATE {mem} m SET to_week = k.to_week FROM unnest(%s::uuid[], %s::int[]) "
                "AS k(person_id, to_week) WHERE m.person_id = k.person_id AND m.to_week IS NULL",
                (list(people), list(weeks)),
            )
        fresh = [row for p in state.values() for row in p.fresh]
        if fresh:
            with (
                pg.cursor() as cur,
                cur.copy(
                    f"COPY {mem} (person_id, tenant_id, team_id, from_week, to_week) FROM STDIN"
                ) as copy,
            ):
                for row in fresh:
                    copy.write_row(row)
        pg.execute(
            f"DELETE FROM {mem} WHERE to_week < from_week AND person_id = ANY(%s::uuid[])", (ids,)
        )
        rows = [(k, p.tenant, p.team, p.time_zone, p.active) for k, p in state.items()]
        if not rows:  # membership events of people this projection never saw invited
            return set()
        pg.execute(
            f"""INSERT INTO {tables["lever_people"]} AS t
                (person_id, tenant_id, team_id, time_zone, active)
            SELECT * FROM unnest(%s::uuid[], %s::uuid[], %s::uuid[], %s::text[], %s::bool[])
            ON CONFLICT (person_id) DO UPDATE SET team_id = excluded.team_id,
                time_zone = excluded.time_zone, active = excluded.active""",
            [list(c) for c in zip(*rows, strict=True)],
        )
        touched = boundaries | {(tenant, team, week) for (tenant, team), week in changed.items()}
        if reattribute:
            people, weeks = zip(*reattribute.items(), strict=True)
            for tenant, team, week in pg.execute(
                f"""UPDATE {tables["lever_person_weeks"]} AS k
                SET team_id = {_TEAM_AT.format(mem=mem)}
                FROM unnest(%s::uuid[], %s::int[]) AS c(person_id, since)
                WHERE k.person_id = c.person_id AND k.week_index >= c.since
                RETURNING k.tenant_id::text, k.team_id::text, k.week_index""",
                (list(people), list(weeks)),
            ):
                touched.add((tenant, team, week))
        if changed:
            (tenants_teams, weeks) = zip(*changed.items(), strict=True)
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

    def _backfill(
        self, pg: Any, tables: Mapping[str, str], first_seen: dict[str, int]
    ) -> set[tuple[str, str, int]]:
        """History logged or imported from before a person's first team: it counts in that
        team, from the week of their first activity on (their first membership starts then)."""
        mem, pw = tables["lever_memberships"], tables["lever_person_weeks"]
        moved = pg.execute(
            f"""WITH k(person_id, week) AS (SELECT * FROM unnest(%s::uuid[], %s::int[])),
            first AS (SELECT DISTINCT ON (m.person_id) m.ctid AS row_id, m.person_id,
                    m.from_week FROM {mem} m JOIN k USING (person_id)
                ORDER BY m.person_id, m.from_week)
            UPDATE {mem} m SET from_week = k.week FROM first f JOIN k USING (person_id)
            WHERE m.ctid = f.row_id AND k.week < f.from_week
            RETURNING m.person_id::text, m.tenant_id::text, m.team_id::text, k.week,
                f.from_week""",
            (list(first_seen), list(first_seen.values())),
        ).fetchall()
        touched: set[tuple[str, str, int]] = set()
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

    # -- journal ---------------------------------------------------------------------------

    def _ensure_person_weeks(
        self, pg: Any, tables: Mapping[str, str], keys: Sequence[tuple[str, str, int]]
    ) -> None:
        tenants, people, weeks = (list(c) for c in zip(*keys, strict=True))
        pg.execute(
            f"""INSERT INTO {tables["lever_person_weeks"]} (tenant_id, person_id, week_index,
                team_id)
            SELECT k.tenant_id, k.person_id, k.week_index,
                {_TEAM_AT.format(mem=tables["lever_memberships"])}
            FROM unnest(%s::uuid[], %s::uuid[], %s::int[]) AS k(tenant_id, person_id, week_index)
            ON CONFLICT (person_id, week_index) DO NOTHING""",
            (tenants, people, weeks),
        )

    def _action_stats(
        self, pg: Any, tables: Mapping[str, str], keys: set[tuple[str, str, int]]
    ) -> None:
        """Recount the actions of each touched person-week (retractions and rewards included)."""
        ordered = sorted(keys)
        self._ensure_person_weeks(pg, tables, ordered)
        _, people, weeks = (list(c) for c in zip(*ordered, strict=True))
        pg.execute(
            f"""UPDATE {tables["lever_person_weeks"]} pw SET actions = s.actions,
                stretch = s.stretch, visible = s.visible, rewarded = s.rewarded
            FROM (SELECT k.person_id, k.week_index, count(a.*) AS actions,
                    count(a.*) FILTER (WHERE a.stretch) AS stretch,
                    count(a.*) FILTER (WHERE a.visible) AS visible,
                    count(a.*) FILTER (WHERE a.visible AND a.rewarded) AS rewarded
                FROM unnest(%s::uuid[], %s::int[]) AS k(person_id, week_index)
                LEFT JOIN {tables["lever_actions"]} a ON a.person_id = k.person_id
                    AND a.week_index = k.week_index AND NOT a.retracted
                GROUP BY k.person_id, k.week_index) s
            WHERE pw.person_id = s.person_id AND pw.week_index = s.week_index""",
            (people, weeks),
        )

    def _feedback(
        self,
        pg: Any,
        tables: Mapping[str, str],
        requests: dict[str, bool],
        given: list[tuple[str, str, int, str]],
        given_known: list[bool | None],
        asked: dict[tuple[str, str, int], int],
    ) -> None:
        # A request already stored came in an earlier batch, before anything of this one
        # (read before this batch's requests are stored).
        stored: dict[str, bool] = {}
        if given:
            for request, flag in pg.execute(
                f"SELECT request_id::text, output_only FROM {tables['lever_feedback_requests']} "
                "WHERE request_id = ANY(%s::uuid[])",
                (list({r for *_, r in given}),),
            ):
                stored[request] = flag
        if requests:
            ids, flags = zip(*requests.items(), strict=True)
            pg.execute(
                f"INSERT INTO {tables['lever_feedback_requests']} (request_id, output_only) "
                "SELECT * FROM unnest(%s::uuid[], %s::bool[]) ON CONFLICT DO NOTHING",
                (list(ids), list(flags)),
            )
        totals: dict[tuple[str, str, int], list[int]] = defaultdict(lambda: [0, 0, 0])
        for key, count in asked.items():
            totals[key][0] += count
        for (tenant, person, week, request), known in zip(given, given_known, strict=True):
            flag = stored[request] if request in stored else bool(known)
            totals[(tenant, person, week)][1] += 1
            totals[(tenant, person, week)][2] += int(flag)
        ordered = sorted(totals)
        self._ensure_person_weeks(pg, tables, ordered)
        columns = [[key[1] for key in ordered], [key[2] for key in ordered]]
        columns += [[totals[key][i] for key in ordered] for i in range(3)]
        pg.execute(
            f"""UPDATE {tables["lever_person_weeks"]} pw SET asked = pw.asked + k.asked,
                feedback = pw.feedback + k.feedback, output_only = pw.output_only + k.output_only
            FROM unnest(%s::uuid[], %s::int[], %s::int[], %s::int[], %s::int[])
                AS k(person_id, week_index, asked, feedback, output_only)
            WHERE pw.person_id = k.person_id AND pw.week_index = k.week_index""",
            columns,
        )

    # -- calendars -------------------------------------------------------------------------

    def _meetings(
        self,
        pg: Any,
        tables: Mapping[str, str],
        meetings: dict[tuple[str, str], tuple[RecordedEvent | None, bool]],
        rezoned: Mapping[str, int | None],
    ) -> tuple[set[tuple[str, str, int]], set[tuple[str, str, int]]]:
        """Upsert the meetings seen, place again the meetings of people whose working hours
        or zone changed (from the week they changed, ``None``: all), then recompute the load
        of every week they touch. Returns those person-weeks, and the ones a meeting may
        have left (its week before)."""
        people = list({person for person, _ in meetings} | set(rezoned))
        info: dict[str, tuple[str, str]] = {}
        for person, tenant, zone in pg.execute(
            f"SELECT person_id::text, tenant_id::text, time_zone FROM {tables['lever_people']} "
            "WHERE person_id = ANY(%s::uuid[])",
            (people,),
        ):
            info[person] = (tenant, zone)
        changes: dict[str, list[tuple[int, Schedule]]] = defaultdict(list)
        for person, week, lo, hi, days, zone in pg.execute(
            f"SELECT person_id::text, from_week, start_minute, end_minute, working_days, "
            f"time_zone FROM {tables['lever_working_hours']} WHERE person_id = ANY(%s::uuid[]) "
            "ORDER BY from_week",
            (people,),
        ):
            changes[person].append((week, _schedule(lo, hi, days, zone)))
        bases = {person: default_schedule(zone) for person, (_, zone) in info.items()}

        def schedule_at(person: str, week: int) -> Schedule:
            return schedule_in_week(changes.get(person, ()), week, bases[person])

        def zone_at(person: str, moment: datetime) -> ZoneInfo:
            """The zone of a meeting: the one holding in the (UTC) ISO week it starts in."""
            return _zone(schedule_at(person, _utc_week(moment)).time_zone)

        touched: set[tuple[str, str, int]] = set()
        left: set[tuple[str, str, int]] = set()
        meet = tables["lever_meetings"]
        if meetings:
            persons, keys = zip(*meetings, strict=True)
            for person, week in pg.execute(
                f"SELECT m.person_id::text, m.week_index FROM {meet} m "
                "JOIN unnest(%s::uuid[], %s::text[]) AS k(person_id, meeting_key) "
                "USING (person_id, meeting_key)",
                (list(persons), list(keys)),
            ):
                if person in info:
                    left.add((info[person][0], person, week))
        moved = [p for p in rezoned if p in info]
        if moved:
            since = [
                None
                if rezoned[p] is None
                else datetime.combine(
                    EPOCH_MONDAY + timedelta(weeks=rezoned[p] or 0), datetime.min.time(), UTC
                )
                for p in moved
            ]
            placed: list[tuple[str, str, int]] = []
            for person, key, week, start in pg.execute(
                f"SELECT m.person_id::text, m.meeting_key, m.week_index, m.starts_at FROM {meet} m "
                "JOIN unnest(%s::uuid[], %s::timestamptz[]) AS k(person_id, since) "
                "ON m.person_id = k.person_id AND (k.since IS NULL OR m.starts_at >= k.since)",
                (moved, since),
            ):
                local = week_index(start.astimezone(zone_at(person, start)).date())
                touched.add((info[person][0], person, local))
                if local != week:
                    left.add((info[person][0], person, week))
                    placed.append((person, key, local))
            if placed:
                pg.execute(
                    f"UPDATE {meet} m SET week_index = k.week_index FROM unnest(%s::uuid[], "
                    "%s::text[], %s::int[]) AS k(person_id, meeting_key, week_index) "
                    "WHERE m.person_id = k.person_id AND m.meeting_key = k.meeting_key",
                    [list(c) for c in zip(*placed, strict=True)],
                )
        observed: list[list[Any]] = []
        cancelled: list[tuple[str, str]] = []
        for (person, key), (e, cancel) in meetings.items():
            if person not in info:
                continue
            if e is None:
                cancelled.append((person, key))
                continue
            start = datetime.fromisoformat(e.data["start"])
            end = datetime.fromisoformat(e.data["end"])
            week = week_index(start.astimezone(zone_at(person, start)).date())
            counted = not cancel and e.data["response_status"] != "declined"
            observed.append([person, key, week, start, end, counted])
            touched.add((info[person][0], person, week))
        if observed:
            pg.execute(
                f"""INSERT INTO {meet} (person_id, meeting_key, week_index, starts_at, ends_at,
                    counted)
                SELECT * FROM unnest(%s::uuid[], %s::text[], %s::int[], %s::timestamptz[],
                    %s::timestamptz[], %s::bool[])
                ON CONFLICT (person_id, meeting_key) DO UPDATE SET
                    week_index = excluded.week_index, starts_at = excluded.starts_at,
                    ends_at = excluded.ends_at, counted = excluded.counted""",
                [list(c) for c in zip(*observed, strict=True)],
            )
        if cancelled:
            a, b = zip(*cancelled, strict=True)
            pg.execute(
                f"UPDATE {meet} m SET counted = false FROM unnest(%s::uuid[], %s::text[]) "
                "AS k(person_id, meeting_key) WHERE m.person_id = k.person_id "
                "AND m.meeting_key = k.meeting_key",
                (list(a), list(b)),
            )
        touched |= left
        if not touched:
            return touched, left
        ordered = sorted(touched)
        spans: dict[tuple[str, int], list[tuple[float, float]]] = defaultdict(list)
        for person, week, start, end in pg.execute(
            f"SELECT m.person_id::text, m.week_index, m.starts_at, m.ends_at FROM {meet} m "
            "JOIN unnest(%s::uuid[], %s::int[]) AS k(person_id, week_index) "
            "USING (person_id, week_index) WHERE m.counted",
            ([p for _, p, _ in ordered], [w for _, _, w in ordered]),
        ):
            zone = zone_at(person, start)
            monday = datetime.combine(EPOCH_MONDAY + timedelta(weeks=week), datetime.min.time())
            s = (start.astimezone(zone).replace(tzinfo=None) - monday).total_seconds() / 3600
            e = (end.astimezone(zone).replace(tzinfo=None) - monday).total_seconds() / 3600
            spans[(person, week)].append((s, e))
        self._ensure_person_weeks(pg, tables, ordered)
        rows: list[list[Any]] = []
        for _, person, week in ordered:
            found = spans.get((person, week))
            if not found:
                rows.append([person, week, False, 0, 0, 0, 0, 0, 0])
                continue
            load = model.meeting_load(found, schedule_at(person, week).hours)
            rows.append(
                [
                    person,
                    week,
                    True,
                    round((model.calendar_pressure(load) or 0.0) * MILLI),
                    round(load.meeting_hours * MILLI),
                    round(load.working_hours * MILLI),
                    round(load.focus_hours * MILLI),
                    round(load.after_hours_meeting_hours * MILLI),
                    load.back_to_back,
                ]
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
        return touched, left

    @staticmethod
    def _drop_empty_weeks(
        pg: Any, tables: Mapping[str, str], keys: set[tuple[str, str, int]]
    ) -> set[tuple[str, str, int]]:
        """Delete the person-weeks among ``keys`` (weeks a meeting may have left, moved by a
        new time or zone) left with nothing in them: a person-week exists while an action, a
        feedback request or answer, or a meeting falls in it, as in the rebuild's fold.
        Returns the team-weeks they counted in."""
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

    # -- pulses and team weeks -------------------------------------------------------------

    @staticmethod
    def _pulse(pulses: dict[tuple[str, str, int], list[Any]], e: RecordedEvent) -> None:
        answers = e.data["answers"]
        key = (e.tenant_id_text, e.data["team_id"], week_index(week_start(e.data["week"])))
        sums = pulses.setdefault(key, [0, 0, 0, [0] * len(model.ITEMS), [0] * len(model.ITEMS)])
        sums[0] += 1
        scale = model.safety_scale(answers)
        if scale is not None:
            sums[1] += 1
            sums[2] += round(model.likert_to_100(scale) * MILLI)
        for i, item in enumerate(model.ITEMS):
            if item in answers:
                sums[3][i] += answers[item]
                sums[4][i] += 1

    @staticmethod
    def _write_pulses(
        pg: Any, tables: Mapping[str, str], pulses: dict[tuple[str, str, int], list[Any]]
    ) -> None:
        table = tables["lever_pulses"]
        with pg.cursor() as cur:
            cur.executemany(
                f"""INSERT INTO {table} AS t (tenant_id, team_id, week_index, responses,
                    safety_n, safety_points, item_sum, item_n)
                VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
                ON CONFLICT (team_id, week_index) DO UPDATE SET
                    responses = t.responses + excluded.responses,
                    safety_n = t.safety_n + excluded.safety_n,
                    safety_points = t.safety_points + excluded.safety_points,
                    item_sum = ARRAY(SELECT a + b FROM unnest(t.item_sum, excluded.item_sum)
                        AS x(a, b)),
                    item_n = ARRAY(SELECT a + b FROM unnest(t.item_n, excluded.item_n)
                        AS x(a, b))""",
                [(*key, *sums) for key, sums in pulses.items()],
            )

    def _team_weeks(
        self, pg: Any, tables: Mapping[str, str], keys: set[tuple[str, str, int]]
    ) -> None:
        """Recompute the sums of each touched team-week from its people and pulses."""
        ordered = sorted(keys)
        tenants, teams, weeks = (list(c) for c in zip(*ordered, strict=True))
        names, mem = ", ".join(SUM_COLUMNS), tables["lever_memberships"]
        pg.execute(
            f"""INSERT INTO {tables["lever_team_weeks"]} (tenant_id, team_id, week_index,
                {names}, model_version)
            SELECT k.tenant_id, k.team_id, k.week_index,
                (SELECT count(*) FROM {tables["lever_memberships"]} m
                 WHERE m.team_id = k.team_id AND m.from_week <= k.week_index
                   AND (m.to_week IS NULL OR m.to_week >= k.week_index)),
                coalesce(p.active, 0), coalesce(p.actions, 0), coalesce(p.stretchers, 0),
                coalesce(p.askers, 0), coalesce(p.visible_people, 0),
                coalesce(p.visible_actions, 0), coalesce(p.rewarded_actions, 0),
                coalesce(p.feedback_people, 0), coalesce(p.feedback, 0),
                coalesce(p.output_only, 0), coalesce(p.calendar_people, 0),
                coalesce(p.pressure, 0), coalesce(p.meeting_hours, 0),
                coalesce(p.working_hours, 0), coalesce(p.focus_hours, 0),
                coalesce(p.after_hours, 0), coalesce(p.back_to_back, 0),
                coalesce(q.responses, 0), coalesce(q.safety_n, 0),
                coalesce(q.safety_points, 0), q.item_sum, q.item_n, %s
            FROM unnest(%s::uuid[], %s::uuid[], %s::int[]) AS k(tenant_id, team_id, week_index)
            LEFT JOIN LATERAL (
                SELECT count(*) AS people, count(*) FILTER (WHERE actions > 0) AS active,
                    sum(actions) AS actions, count(*) FILTER (WHERE stretch > 0) AS stretchers,
                    count(*) FILTER (WHERE asked > 0) AS askers,
                    count(*) FILTER (WHERE visible > 0) AS visible_people,
                    sum(visible) AS visible_actions, sum(rewarded) AS rewarded_actions,
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
                WHERE m.team_id = k.team_id AND k.week_index IN (m.from_week, m.to_week))
            ON CONFLICT (team_id, week_index) DO UPDATE SET
                {", ".join(f"{c} = excluded.{c}" for c in SUM_COLUMNS)}""",
            (self.version, tenants, teams, weeks),
        )
        # A team-week has a row while someone's week counts in it, it has pulse answers, or
        # someone's membership of the team starts or ends in it (what the rebuild's fold
        # creates, whatever the batches): one left behind by a move or a backfill goes.
        pg.execute(
            f"""DELETE FROM {tables["lever_team_weeks"]} tw
            USING unnest(%s::uuid[], %s::int[]) AS k(team_id, week_index)
            WHERE tw.team_id = k.team_id AND tw.week_index = k.week_index
              AND NOT EXISTS (SELECT 1 FROM {tables["lever_person_weeks"]} pw
                  WHERE pw.team_id = k.team_id AND pw.week_index = k.week_index)
              AND NOT EXISTS (SELECT 1 FROM {tables["lever_pulses"]} q
                  WHERE q.team_id = k.team_id AND q.week_index = k.week_index)
              AND NOT EXISTS (SELECT 1 FROM {mem} m
                  WHERE m.team_id = k.team_id AND k.week_index IN (m.from_week, m.to_week))""",
            (teams, weeks),
        )


def given_weeks(given: Sequence[tuple[str, str, int, str]]) -> list[tuple[str, str, int]]:
    return [(t, p, w) for t, p, w, _ in given]


# -- rebuild: the whole log folded in memory, each table written once with COPY -------------


class LeversFold:
    """A rebuild's fold (``LeversProjection.begin_rebuild``): what :meth:`LeversProjection.apply`
    writes when handed the whole log as one batch, computed in memory and written once per
    table with COPY (secondary indexes built after the rows are in).

    ``fold`` keeps only small tuples per event (no event is retained); ``flush`` resolves
    memberships first (as ``apply`` does for a batch), then everything that depends on them.
    """

    def __init__(self, version: int) -> None:
        self.version = version
        self.membership: list[tuple[str, str, str, int, dict[str, Any]]] = []
        self.actions: dict[str, tuple[str, int, datetime, bool, bool, str]] = {}
        self.action_keys: dict[tuple[str, int], str] = {}  # every action's person-week
        self.retracted: set[str] = set()
        self.rewards: dict[str, tuple[str, datetime]] = {}
        self.first_seen: dict[str, int] = {}
        self.start_weeks: dict[str, int] = {}  # a meeting start's UTC-date week, minus one
        self.requests: dict[str, bool] = {}
        self.asked: dict[tuple[str, str, int], int] = defaultdict(int)
        self.given: list[tuple[str, str, int, str]] = []
        self.given_output_only: list[bool] = []  # each answer's request flag when it came
        self.meetings: dict[tuple[str, str], list[Any]] = {}  # [start, end, declined, cancel]
        self.pulses: dict[tuple[str, str, int], list[Any]] = {}
        self.hours: dict[tuple[str, int], list[Any]] = {}  # (person, from week) -> last row

    def _seen(self, person: str, week: int) -> None:
        first = self.first_seen.get(person)
        if first is None or week < first:
            self.first_seen[person] = week

    @collector_paused  # millions of small tuples kept, no cycles among them
    def fold(self, events: Sequence[RecordedEvent]) -> None:
        weeks: dict[date, int] = {}
        start_weeks, first_seen = self.start_weeks, self.first_seen
        actions, action_keys, stretch = self.actions, self.action_keys, model.STRETCH_TACTICS
        for e in events:
            data, kind = e.data, e.type
            day = e.occurred_at.date()
            week = weeks.get(day)
            if week is None:
                week = weeks[day] = week_index(day)
            if kind == "MicroActionLogged":
                person, action = data["person_id"], data["action_id"]
                tenant = action_keys.get((person, week))
                if tenant is None:
                    tenant = action_keys[(person, week)] = e.tenant_id_text
                if action not in actions:
                    actions[action] = (
                        person,
                        week,
                        e.occurred_at,
                        data["tactic"] in stretch,
                        data["audience"] != "private",
                        tenant,
                    )
                first = first_seen.get(person)
                if first is None or week < first:
                    first_seen[person] = week
            elif kind == "MeetingObserved":
                key = (data["person_id"], data["meeting_key"])
                # every observation (a moved meeting's earlier ones too); its local week may
                # start a day before its UTC date's
                start = data["start"]
                seen = start_weeks.get(start)
                if seen is None:
                    seen = start_weeks[start] = week_index(date.fromisoformat(start[:10])) - 1
                first = first_seen.get(key[0])
                if first is None or seen < first:
                    first_seen[key[0]] = seen
                self.meetings[key] = [
                    data["start"],
                    data["end"],
                    data["response_status"] == "declined",
                    False,
                ]
            elif kind == "MeetingCancelled":
                found = self.meetings.get((data["person_id"], data["meeting_key"]))
                if found is not None:
                    found[3] = True
            elif kind == "FeedbackRequested":
                self.requests.setdefault(data["request_id"], data.get("action_id") is None)
                self.asked[(e.tenant_id_text, data["person_id"], week)] += 1
                self._seen(data["person_id"], week)
            elif kind == "FeedbackGiven":
                self.given.append((e.tenant_id_text, data["person_id"], week, data["request_id"]))
                self.given_output_only.append(self.requests.get(data["request_id"], False))
                self._seen(data["person_id"], week)
            elif kind == "MicroActionRetracted":
                self.retracted.add(data["action_id"])
            elif kind == "OutcomeRecorded":
                if data["kind"] in model.REWARD_KINDS and data["outcome_id"] not in self.rewards:
                    self.rewards[data["outcome_id"]] = (data["person_id"], e.occurred_at)
            elif kind == "PulseResponseSubmitted":
                LeversProjection._pulse(self.pulses, e)
            elif kind == "WorkingHoursSet":
                row = _hours_row(e, week)
                if row is not None:
                    self.hours[(data["person_id"], week)] = row
            elif kind in MEMBERSHIP_EVENTS and "person_id" in data:
                self.membership.append((kind, e.tenant_id_text, data["person_id"], week, data))

    # -- flush ---------------------------------------------------------------------------------

    def _people(self) -> tuple[dict[str, _Person], list[list[Any]]]:
        """Memberships folded in log order (``_memberships`` on empty tables)."""
        state: dict[str, _Person] = {}

        def close(p: _Person, week: int) -> None:
            if p.team is None:
                return
            if p.fresh:
                p.fresh[-1][4] = week
            p.team = None

        def open_(person: str, p: _Person, team: str, week: int) -> None:
            p.team = team
            p.fresh.append([person, p.tenant, team, week, None])

        for kind, tenant, person, week, data in self.membership:
            p = state.get(person)
            if kind == "PersonInvited":
                if p is None:
                    p = state[person] = _Person(tenant, None, "UTC", True)
                    open_(person, p, data["team_id"] or tenant, week)
                continue
            if p is None:
                continue
            if kind == "PersonJoined":
                p.time_zone = data["time_zone"]
            elif kind == "PersonMovedTeam" and p.active:
                if p.team != data["to_team_id"]:
                    close(p, week - 1)
                    open_(person, p, data["to_team_id"], week)
            elif kind in ("PersonLeft", "PersonErased") and p.active:
                close(p, week)
                p.active = False
            elif kind == "TeamManagerAssigned" and p.active and p.team == data["team_id"]:
                close(p, week - 1)
                open_(person, p, p.tenant, week)
        intervals = [
            row
            for p in state.values()
            for row in p.fresh
            if row[4] is None or row[4] >= row[3]  # to_week < from_week: deleted
        ]
        return state, intervals

    @collector_paused
    def flush(self, conn: Connection, tables: Mapping[str, str]) -> None:
        pg = as_psycopg(conn)
        state, intervals = self._people()
        by_person: dict[str, list[list[Any]]] = defaultdict(list)
        for row in intervals:
            by_person[row[0]].append(row)
        # Backfill: activity before a person's first team counts in that team from then on.
        for person, week in self.first_seen.items():
            rows = by_person.get(person)
            if not rows:
                continue
            first = min(rows, key=lambda r: r[3])
            if week < first[3]:
                first[3] = week

        def team_at(tenant: str, person: str, week: int) -> str:
            best = None
            for row in by_person.get(person, ()):
                covers = row[3] <= week and (row[4] is None or row[4] >= week)
                if covers and (best is None or row[3] >= best[3]):
                    best = row
            return best[2] if best is not None else tenant

        # person-weeks: (tenant, team, 17 sums) per (person, week), first creator's tenant
        weeks: dict[tuple[str, int], list[Any]] = {}

        def ensure(tenant: str, person: str, week: int) -> list[Any]:
            row = weeks.get((person, week))
            if row is None:
                row = weeks[(person, week)] = [tenant, team_at(tenant, person, week)]
                row += [0] * 7 + [False] + [0] * 6
            return row

        # actions: counts of the week (retracted ones left out), rewards within 14 days
        reward_times: dict[str, list[datetime]] = defaultdict(list)
        for person, at in self.rewards.values():
            reward_times[person].append(at)
        for times in reward_times.values():
            times.sort()
        window = timedelta(days=model.INCENTIVE_WINDOW_DAYS)
        action_rows: list[tuple[Any, ...]] = []
        for (person, week), tenant in self.action_keys.items():
            ensure(tenant, person, week)
        for action_id, (person, week, at, stretch, visible, _) in self.actions.items():
            retracted = action_id in self.retracted and person in state
            rewarded = False
            if visible and person in state:
                times = reward_times.get(person, [])
                i = bisect_left(times, at)
                rewarded = i < len(times) and times[i] <= at + window
            action_rows.append((action_id, person, week, at, stretch, visible, rewarded, retracted))
            if not retracted:
                row = weeks[(person, week)]
                row[2] += 1
                row[3] += stretch
                row[4] += visible
                row[5] += visible and rewarded
        # feedback asked and given
        for (tenant, person, week), count in self.asked.items():
            ensure(tenant, person, week)[6] += count
        for (tenant, person, week, _), output_only in zip(
            self.given, self.given_output_only, strict=True
        ):
            row = ensure(tenant, person, week)
            row[7] += 1
            row[8] += int(output_only)
        # meetings: the last observation of each, in its person's local week. Calendars
        # repeat the same few thousand start and end times: each is converted once per zone.
        zones: dict[str, ZoneInfo] = {}
        local: dict[tuple[str, str], datetime] = {}  # (zone, ISO text) -> local, naive
        hours: dict[tuple[str, str, int], float] = {}  # (zone, text, week) -> since Monday
        meeting_rows: list[tuple[Any, ...]] = []
        spans: dict[tuple[str, int], list[tuple[float, float]]] = defaultdict(list)

        def since_monday(zone_name: str, moment: str, week: int) -> float:
            found = hours.get((zone_name, moment, week))
            if found is None:
                monday = datetime.combine(EPOCH_MONDAY + timedelta(weeks=week), datetime.min.time())
                found = (local[(zone_name, moment)] - monday).total_seconds() / 3600
                hours[(zone_name, moment, week)] = found
            return found

        # (zone, start, end) -> (local week, hours since its Monday at start and at end)
        placed: dict[tuple[str, str, str], tuple[int, float, float]] = {}
        # Working hours set: each person's changes by week. A meeting is placed in the zone
        # holding in the (UTC) ISO week it starts in, as ``apply`` does.
        changes: dict[str, list[tuple[int, Schedule]]] = defaultdict(list)
        for person, week, lo, hi, days, zone_name in sorted(
            self.hours.values(), key=lambda r: (r[0], r[1])
        ):
            changes[person].append((week, _schedule(lo, hi, days, zone_name)))
        utc_weeks: dict[str, int] = {}
        for (person, key), (start_text, end_text, declined, cancel) in self.meetings.items():
            p = state.get(person)
            if p is None:
                continue
            name = p.time_zone
            personal = changes.get(person)
            if personal:
                utc = utc_weeks.get(start_text)
                if utc is None:
                    utc = utc_weeks[start_text] = _utc_week(datetime.fromisoformat(start_text))
                name = schedule_in_week(personal, utc, default_schedule(name)).time_zone
            where = placed.get((name, start_text, end_text))
            if where is None:
                for moment in (start_text, end_text):
                    if (name, moment) not in local:
                        zone = zones.get(name)
                        if zone is None:
                            zone = zones[name] = _zone(name)
                        converted = datetime.fromisoformat(moment).astimezone(zone)
                        local[(name, moment)] = converted.replace(tzinfo=None)
                at_week = week_index(local[(name, start_text)].date())
                where = placed[(name, start_text, end_text)] = (
                    at_week,
                    since_monday(name, start_text, at_week),
                    since_monday(name, end_text, at_week),
                )
            week = where[0]
            counted = not cancel and not declined
            meeting_rows.append(
                (person, _copy_text(key), week, start_text, end_text, "t" if counted else "f")
            )
            if (person, week) not in weeks:
                ensure(p.tenant, person, week)
            if counted:
                spans[(person, week)].append(where[1:])
        # One load per distinct week of meetings (and working hours, when not the default).
        loads: dict[tuple[Any, ...], list[Any]] = {}
        for (person, week), found in spans.items():
            personal = changes.get(person)
            found.sort()
            if personal:
                week_hours = schedule_in_week(personal, week, default_schedule("UTC")).hours
                shape: tuple[Any, ...] = (week_hours, *found)
            else:
                week_hours, shape = model.DEFAULT_WORKING_HOURS, tuple(found)
            values = loads.get(shape)
            if values is None:
                load = model.meeting_load(found, week_hours)
                values = loads[shape] = [
                    True,
                    round((model.calendar_pressure(load) or 0.0) * MILLI),
                    round(load.meeting_hours * MILLI),
                    round(load.working_hours * MILLI),
                    round(load.focus_hours * MILLI),
                    round(load.after_hours_meeting_hours * MILLI),
                    load.back_to_back,
                ]
            weeks[(person, week)][9:16] = values
        # team-weeks: those someone's week counts in, with pulse answers, or where someone's
        # membership starts or ends (what ``apply`` keeps); members from the intervals, sums
        # from person-weeks
        team_rows: dict[tuple[str, int], list[Any]] = {}
        for _, tenant, team, lo, hi in intervals:
            for week in (lo, hi) if hi is not None else (lo,):
                team_rows.setdefault((team, week), [tenant, team, week] + [0] * 21)
        for (_, week), row in weeks.items():
            team_rows.setdefault((row[1], week), [row[0], row[1], week] + [0] * 21)
        for tenant, team, week in self.pulses:
            team_rows.setdefault((team, week), [tenant, team, week] + [0] * 21)
        for (_, week), row in weeks.items():
            t = team_rows[(row[1], week)]  # [tenant, team, week, members, active, ...]
            t[4] += row[2] > 0
            t[5] += row[2]
            t[6] += row[3] > 0
            t[7] += row[6] > 0
            t[8] += row[4] > 0
            t[9] += row[4]
            t[10] += row[5]
            t[11] += row[7] > 0
            t[12] += row[7]
            t[13] += row[8]
            t[14] += row[9]
            for i in range(6):
                t[15 + i] += row[10 + i]
        by_team: dict[str, list[tuple[int, int | None]]] = defaultdict(list)
        for row in intervals:
            by_team[row[2]].append((row[3], row[4]))
        for (team, week), t in team_rows.items():
            t[3] = sum(
                1 for lo, hi in by_team.get(team, ()) if lo <= week and (hi is None or hi >= week)
            )
            pulse = self.pulses.get((t[0], team, week))
            if pulse is None:
                t += [None, None]
            else:
                t[21:24] = pulse[:3]
                t += [pulse[3], pulse[4]]
        # Each table once, with COPY; keys and secondary indexes dropped first and built last
        # (one sort of the loaded rows beats a b-tree insert per row).
        rows = list(team_rows.values())
        load_tables(
            pg,
            tables,
            LeversProjection.indexes,
            lambda: self._copy_all(
                pg, tables, state, intervals, action_rows, meeting_rows, weeks, rows
            ),
        )

    def _copy_all(
        self,
        pg: Any,
        tables: Mapping[str, str],
        state: dict[str, _Person],
        intervals: list[list[Any]],
        action_rows: list[tuple[Any, ...]],
        meeting_rows: list[tuple[Any, ...]],
        weeks: dict[tuple[str, int], list[Any]],
        team_rows: list[list[Any]],
    ) -> None:
        _copy(
            pg,
            tables["lever_people"],
            "person_id, tenant_id, team_id, time_zone, active",
            ((k, p.tenant, p.team, p.time_zone, p.active) for k, p in state.items()),
        )
        _copy(
            pg,
            tables["lever_memberships"],
            "person_id, tenant_id, team_id, from_week, to_week",
            intervals,
        )
        _copy(
            pg,
            tables["lever_actions"],
            "action_id, person_id, week_index, occurred_at, stretch, visible, rewarded, retracted",
            action_rows,
            plain=True,
        )
        _copy(
            pg,
            tables["lever_rewards"],
            "outcome_id, person_id, occurred_at",
            ((k, person, at) for k, (person, at) in self.rewards.items()),
            plain=True,
        )
        _copy(
            pg,
            tables["lever_feedback_requests"],
            "request_id, output_only",
            self.requests.items(),
            plain=True,
        )
        _copy(
            pg,
            tables["lever_working_hours"],
            "person_id, from_week, start_minute, end_minute, working_days, time_zone",
            self.hours.values(),
        )
        _copy(
            pg,
            tables["lever_meetings"],
            "person_id, meeting_key, week_index, starts_at, ends_at, counted",
            meeting_rows,
            plain=True,
        )
        _copy(
            pg,
            tables["lever_person_weeks"],
            "tenant_id, person_id, week_index, team_id, actions, stretch, visible, rewarded, "
            "asked, feedback, output_only, calendar, pressure, meeting_hours, working_hours, "
            "focus_hours, after_hours, back_to_back",
            ((row[0], person, week, *row[1:]) for (person, week), row in weeks.items()),
            plain=True,
        )
        _copy(
            pg,
            tables["lever_pulses"],
            "tenant_id, team_id, week_index, responses, safety_n, safety_points, item_sum, item_n",
            ((*key, *sums) for key, sums in self.pulses.items()),
        )
        _copy(
            pg,
            tables["lever_team_weeks"],
            f"tenant_id, team_id, week_index, {', '.join(SUM_COLUMNS)}, model_version",
            ((*row, self.version) for row in team_rows),
        )


def _copy_text(value: Any) -> str:
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, list):
        return "{" + ",".join(str(v) for v in value) + "}"
    if isinstance(value, str):
        return copy_text(value)
    return str(value)


def _copy(
    pg: Any, table: str, columns: str, rows: Iterable[Sequence[Any]], plain: bool = False
) -> None:
    """COPY ``rows`` into ``table`` in PostgreSQL's text format, a few MB per write.

    ``plain`` rows hold only ids, numbers, booleans and timestamps (never None, a list or
    text to escape): their ``str`` is already COPY text, the fast path of the big tables."""
    fmt = (lambda row: "\t".join(map(str, row))) if plain else _copy_line
    with pg.cursor() as cur, cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        lines: list[str] = []
        for row in rows:
            lines.append(fmt(row))
            if len(lines) >= 20_000:
                lines.append("")
                copy.write("\n".join(lines))
                lines = []
        if lines:
            lines.append("")
            copy.write("\n".join(lines))


def _copy_line(row: Sequence[Any]) -> str:
    return "\t".join([_copy_text(v) for v in row])


# -- reads: suppressed cells for a team, its sub-teams and the organisation -------------------


def week_sums(row: Any) -> model.WeekSums:
    values = {}
    for name in SUM_COLUMNS:
        value = getattr(row, name)
        values[name] = value / MILLI if name in MILLI_COLUMNS else value
    return model.WeekSums(**values)


_MILLI_AT = tuple(i for i, name in enumerate(SUM_COLUMNS) if name in MILLI_COLUMNS)
_SCALARS = len(SUM_COLUMNS) - 2  # then item_sum and item_n
_SUMS_SQL = ", ".join(SUM_COLUMNS)


def _sums_list(row: Sequence[Any]) -> list[Any]:
    """A ``lever_team_weeks`` row's sums (``SUM_COLUMNS`` order), thousandths as units."""
    values = list(row)
    for i in _MILLI_AT:
        values[i] = values[i] / MILLI
    return values


def _add_sums(a: list[Any], b: list[Any]) -> list[Any]:
    total = [x + y for x, y in zip(a[:_SCALARS], b[:_SCALARS], strict=True)]
    for i in (_SCALARS, _SCALARS + 1):
        x, y = a[i], b[i]
        total.append(
            y if x is None else x if y is None else [p + q for p, q in zip(x, y, strict=True)]
        )
    return total


_ZERO = [0] * _SCALARS + [None, None]


def week_range(first: str, last: str) -> tuple[int, int]:
    return week_index(week_start(first)), week_index(week_start(last))


def week_of(day: date) -> int:
    return week_index(day)


def _series(
    root: Any,
    children: Mapping[Any, list[Any]],
    own: Mapping[tuple[Any, int], list[Any]],
    first: int,
    last: int,
    k: int,
) -> dict[tuple[Any, int], dict[str, Any]]:
    """Every node's rollup per week from the first week with data to ``last``, protected
    (for ``root`` and its children: the nodes a view shows)."""
    # Nodes as small ints while computing: a UUID's hash is computed in Python, each time.
    ids: dict[Any, int] = {}
    for node in (root, *children, *(c for kids in children.values() for c in kids)):
        ids.setdefault(node, len(ids))
    nodes = list(ids)
    result = _series_of(
        ids[root],
        {ids[parent]: [ids[c] for c in kids] for parent, kids in children.items()},
        {(ids[node], week): sums for (node, week), sums in own.items() if node in ids},
        first,
        last,
        k,
    )
    return {(nodes[node], week): out for (node, week), out in result.items()}


def _series_of(
    root: int,
    children: Mapping[int, list[int]],
    own: Mapping[tuple[int, int], list[Any]],
    first: int,
    last: int,
    k: int,
) -> dict[tuple[int, int], dict[str, Any]]:
    start = min([w for _, w in own] + [first])
    weeks = list(range(start, last + 1))
    order: list[Any] = []

    def visit(node: Any) -> None:
        for child in children.get(node, ()):
            visit(child)
        order.append(node)

    visit(root)
    wanted = {root, *children.get(root, ())}  # the nodes a view shows
    rollup: dict[tuple[Any, int], list[Any]] = {}
    computed: dict[tuple[Any, int], dict[str, model.Lever]] = {}
    own_levers: dict[tuple[Any, int], dict[str, model.Lever]] = {}
    for key, sums in own.items():
        own_levers[key] = model.levers_of(model.WeekSums(*sums))
    for week in weeks:
        for node in order:
            key = (node, week)
            total = own.get(key, _ZERO)
            for child in children.get(node, ()):
                total = _add_sums(total, rollup[(child, week)])
            rollup[key] = total
            computed[key] = model.levers_of(model.WeekSums(*total))
    protected: dict[str, dict[tuple[Any, int], Cell]] = {}
    for lever in model.LEVER_NAMES:
        lever_cells = {key: Cell(v[lever].value, v[lever].n) for key, v in computed.items()}
        own_n = {key: v[lever].n for key, v in own_levers.items()}
        protected[lever] = protect_tree(root, children, weeks, lever_cells, own_n, k)
    result: dict[tuple[Any, int], dict[str, Any]] = {}
    for node in order:
        if node not in wanted:
            continue
        previous: dict[str, Cell] = {}
        for week in weeks:
            key = (node, week)
            cells = {lever: protected[lever][key] for lever in model.LEVER_NAMES}
            if week >= first:
                result[key] = _week_out(week, cells, previous, model.WeekSums(*rollup[key]), k)
            previous = cells
    return result


def _week_out(
    week: int,
    cells: Mapping[str, Cell],
    previous: Mapping[str, Cell],
    sums: model.WeekSums,
    k: int,
) -> dict[str, Any]:
    levers: dict[str, Any] = {}
    for lever, cell in cells.items():
        out = cell.public()
        before = previous.get(lever)
        out["trend"] = (
            round(cell.value - before.value, 1)
            if not cell.suppressed
            and before is not None
            and not before.suppressed
            and cell.value is not None
            and before.value is not None
            else None
        )
        levers[lever] = out
    safety, pressure = cells["psychological_safety"], cells["time_pressure"]
    items: dict[str, Any] = {}
    for item in model.ITEMS:
        value, n = sums.item(item)
        show = not safety.suppressed and n >= k and value is not None
        items[item] = {
            "value": value if show else None,
            "n": n if show else None,
            "suppressed": not show,
        }
    show_calendar = not pressure.suppressed and sums.calendar_people >= k
    people = sums.calendar_people or 1
    calendar = {
        "people": sums.calendar_people if show_calendar else None,
        "meeting_share": round(100 * sums.meeting_hours / sums.working_hours, 1)
        if show_calendar and sums.working_hours
        else None,
        "focus_hours_per_person": round(sums.focus_hours / people, 1) if show_calendar else None,
        "after_hours_per_person": round(sums.after_hours / people, 2) if show_calendar else None,
        "back_to_back_per_person": round(sums.back_to_back / people, 2) if show_calendar else None,
        "suppressed": not show_calendar,
    }
    participation = cells["participation"]
    return {
        "week": week_label(week),
        "members": None if participation.suppressed else participation.n,
        "levers": levers,
        "pulse_items": items,
        "time_pressure_components": calendar,
        "nudges": manager_nudges(levers, calendar),
    }


def team_ancestry(conn: Connection, tenant_id: Any, team_id: Any) -> list[Any] | None:
    """The team and every team above it (nearest first), or None if the tenant has no such
    team."""
    rows = conn.execute(
        text(
            "WITH RECURSIVE up(id, parent_team_id, depth) AS ("
            " SELECT id, parent_team_id, 0 FROM teams WHERE id = :team AND tenant_id = :tenant"
            " UNION ALL SELECT t.id, t.parent_team_id, up.depth + 1 FROM teams t"
            " JOIN up ON t.id = up.parent_team_id WHERE up.depth < 100)"
            " SELECT id FROM up ORDER BY depth"
        ),
        {"team": team_id, "tenant": tenant_id},
    ).all()
    return [row.id for row in rows] or None


def _subtree_of(
    conn: Connection, tenant_id: Any, team_id: Any
) -> tuple[dict[Any, list[Any]], dict[Any, str]]:
    """children and names of a team and the teams below it."""
    rows = conn.execute(
        text(
            "WITH RECURSIVE down(id, name, parent_team_id, depth) AS ("
            " SELECT id, name, parent_team_id, 0 FROM teams WHERE id = :team AND tenant_id = :t"
            " UNION ALL SELECT c.id, c.name, c.parent_team_id, down.depth + 1 FROM teams c"
            " JOIN down ON c.parent_team_id = down.id WHERE down.depth < 100)"
            " SELECT id, name, parent_team_id FROM down"
        ),
        {"team": team_id, "t": tenant_id},
    ).all()
    children: dict[Any, list[Any]] = defaultdict(list)
    names = {}
    for row in rows:
        names[row.id] = row.name
        if row.id != team_id:
            children[row.parent_team_id].append(row.id)
    for kids in children.values():
        kids.sort(key=lambda t: (names[t], str(t)))
    return children, names


def _own_rows(
    conn: Connection, tenant_id: Any, teams: list[Any], last: int
) -> dict[tuple[Any, int], list[Any]]:
    rows = conn.execute(
        text(
            f"SELECT team_id, week_index, {_SUMS_SQL} FROM lever_team_weeks "
            "WHERE tenant_id = :tenant AND team_id = ANY(:teams) AND week_index <= :last"
        ),
        {"tenant": tenant_id, "teams": teams, "last": last},
    ).all()
    return {(row[0], row[1]): _sums_list(row[2:]) for row in rows}


def _subtree(children: Mapping[Any, list[Any]], root: Any) -> list[Any]:
    found, stack = [], [root]
    while stack:
        node = stack.pop()
        found.append(node)
        stack.extend(children.get(node, ()))
    return found


def read_team_levers(
    conn: Connection, tenant_id: Any, team_id: Any, first: int, last: int, k: int
) -> dict[str, Any]:
    """A team's levers (its members and every sub-team's, rolled up) and each direct
    sub-team's, per ISO week from ``first`` to ``last`` (week indexes), suppressed."""
    k = effective_k(k)
    children, names = _subtree_of(conn, tenant_id, team_id)
    members = _subtree(children, team_id)
    own = _own_rows(conn, tenant_id, members, last)
    series = _series(team_id, children, own, first, last, k)
    weeks = range(first, last + 1)
    return {
        "team_id": str(team_id),
        "name": names.get(team_id),
        "k": k,
        "model_version": model.MODEL_VERSION,
        "weeks": [series[(team_id, w)] for w in weeks],
        "sub_teams": [
            {"team_id": str(c), "name": names[c], "weeks": [series[(c, w)] for w in weeks]}
            for c in children.get(team_id, ())
        ],
    }


# The organisation's read side lives in lever_views (imported by its old names too).
from shared.projections.lever_views import (  # noqa: E402
    CHEAP_ORG_VIEW_MS as CHEAP_ORG_VIEW_MS,
)
from shared.projections.lever_views import ORG as ORG  # noqa: E402
from shared.projections.lever_views import _read_org_levers as _read_org_levers  # noqa: E402
from shared.projections.lever_views import read_org_levers as read_org_levers  # noqa: E402
from shared.projections.lever_views import refresh_org_views as refresh_org_views  # noqa: E402

"""Journal read models: experiments, the feedback loop and weekly plan progress.

Three projections, each with tables of its own. None of them stores personal text: a
hypothesis, a reflection, a feedback question or comment and a plan's labels stay encrypted in
the log (a read may fetch them from there by the stored position). The rows hold ids, dates,
tactics and counts only, so ``PersonErased`` has nothing to remove and aggregates keep their
history; the projections do not even handle it.

Every row is the same whether the events arrive in one batch or many, because each column is
one of: an integer sum (additions commute); a value chosen by event position (the first
start, end or answer wins, the latest plan wins), kept with its position so a later batch can
compare; or a value recomputed after each batch from those two kinds. Days and ISO weeks are
those of ``occurred_at`` in UTC: event time, never the wall clock.

A batch is folded in memory first, then written with one statement per table (``INSERT ...
SELECT FROM unnest(...) ON CONFLICT``, through psycopg); derived values are recomputed only for
the keys the batch touched, in set-based SQL.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
from sqlalchemy import Connection, text

from shared.database import as_psycopg
from shared.domain.weeks import iso_week_of
from shared.eventlog import RecordedEvent
from shared.eventlog.store import copy_text
from shared.projections.bulk import NULL, copy_lines
from shared.projections.bulk import load_tables as _load_tables
from shared.projections.runtime import LIST_SQL as _LIST
from shared.projections.runtime import Projection
from shared.projections.runtime import collector_paused as _collector_paused
from shared.projections.runtime import joined as _joined

MODEL_VERSION = 1
BEFORE_WEEKS = 4
"""An experiment is compared with the 4 weeks before it (the seed's time box)."""
SIGNALS = ("invitations", "useful_feedback", "assignments")
OUTCOME_SIGNALS = {
    "invitation": "invitations",
    "useful_feedback": "useful_feedback",
    "assignment": "assignments",
}


def utc_day(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


def utc_week(moment: datetime) -> str:
    return iso_week_of(moment.astimezone(UTC))


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_DAY = _EPOCH.date()


class _UtcDays(dict[int, date]):
    """``utc_day`` by day number since the epoch, ``(moment - _EPOCH).days`` (exact integer
    arithmetic, cheaper than ``astimezone``): each day is made once."""

    def __missing__(self, n: int) -> date:
        day = self[n] = _EPOCH_DAY + timedelta(days=n)
        return day


class _UtcWeeks(dict[int, str]):
    """``utc_week`` by day number since the epoch: each day's ISO week is computed once."""

    def __missing__(self, n: int) -> str:
        week = self[n] = iso_week_of(_EPOCH_DAY + timedelta(days=n))
        return week


def _text_array(values: Sequence[str]) -> str:
    """A PostgreSQL array literal of ``values`` (rows of a text[] column pass through
    ``unnest`` as their literals: unnest cannot yield arrays of a two-dimensional array)."""
    if not values:
        return "{}"
    raw = "".join(values)
    if '"' in raw or "\\" in raw:
        values = [v.replace("\\", "\\\\").replace('"', '\\"') for v in values]
    return '{"' + '","'.join(values) + '"}'


def signal_of(event: RecordedEvent) -> str | None:
    """Which experiment signal an event is: an invitation, useful feedback, an assignment."""
    if event.type == "OutcomeRecorded":
        return OUTCOME_SIGNALS.get(event.data["kind"])
    if event.type == "FeedbackGiven" and event.data["useful"] is True:
        return "useful_feedback"
    return None


def direction(before: int, during: int) -> str:
    return "up" if during > before else "down" if during < before else "same"


def plan_progress(tactics: Sequence[str], actions: Mapping[str, int]) -> list[bool]:
    """Which planned items are done, given the week's action count per tactic.

    Each action of a tactic completes one planned item of that tactic, in plan order: a
    tactic planned twice needs two actions.
    """
    seen: dict[str, int] = {}
    done = []
    for tactic in tactics:
        nth = seen[tactic] = seen.get(tactic, 0) + 1
        done.append(nth <= actions.get(tactic, 0))
    return done


def _comparison_columns() -> str:
    columns = []
    for s in SIGNALS:
        columns += [
            f"before_{s} integer NOT NULL DEFAULT 0",
            f"during_{s} integer NOT NULL DEFAULT 0",
            f"{s}_difference integer GENERATED ALWAYS AS (during_{s} - before_{s}) STORED",
            f"{s}_direction text GENERATED ALWAYS AS (CASE WHEN during_{s} > before_{s} "
            f"THEN 'up' WHEN during_{s} < before_{s} THEN 'down' ELSE 'same' END) STORED",
        ]
    return ", ".join(columns)


class ExperimentsProjection(Projection):
    """One row per experiment, with its signals during the experiment and the 4 weeks before.

    ``experiment_signals`` counts each person's signals per day (additive); after each batch
    the comparison of each experiment started in it, and of each experiment whose windows
    meet the span of a person's new signals, is recomputed from it. The experiment runs
    ``[starts_on, ends_on)`` with ``ends_on = starts_on + weeks``, and the window before it is
    ``[starts_on - 4 weeks, starts_on)``, whenever its events are appended and whether or not
    it was ended early.
    """

    name = "experiments"
    version = MODEL_VERSION
    handles = frozenset(
        {"ExperimentStarted", "ExperimentEnded", "OutcomeRecorded", "FeedbackGiven"}
    )
    tables = {
        "experiments": f"""
            experiment_id uuid PRIMARY KEY, tenant_id uuid NOT NULL, person_id uuid NOT NULL,
            tactic text, starts_on date, weeks integer, ends_on date, started_position bigint,
            ended_at timestamptz, ended_position bigint,
            status text GENERATED ALWAYS AS
                (CASE WHEN ended_position IS NULL THEN 'running' ELSE 'ended' END) STORED,
            {_comparison_columns()}, model_version integer NOT NULL""",
        "experiment_signals": """
            tenant_id uuid NOT NULL, person_id uuid NOT NULL, day date NOT NULL,
            invitations integer NOT NULL DEFAULT 0, useful_feedback integer NOT NULL DEFAULT 0,
            assignments integer NOT NULL DEFAULT 0, model_version integer NOT NULL,
            PRIMARY KEY (person_id, day)""",
    }
    indexes = {"experiments": ["person_id, starts_on"]}

    def begin_rebuild(self) -> ExperimentsFold:
        """A rebuild folds the whole log in memory and writes each table once
        (:class:`ExperimentsFold`); catch-up applies batches with :meth:`apply`."""
        return ExperimentsFold(self.version)

    @_collector_paused
    def apply(
        self, conn: Connection, events: Sequence[RecordedEvent], tables: Mapping[str, str]
    ) -> None:
        started: dict[str, RecordedEvent] = {}
        ended: dict[str, RecordedEvent] = {}
        signals: defaultdict[tuple[str, date], list[int]] = defaultdict(lambda: [0] * len(SIGNALS))
        latest: dict[str, RecordedEvent] = {}  # per person: the last signal (its tenant)
        days_of = _UtcDays()
        for e in events:  # in position order: setdefault keeps the first of each
            data = e.data
            if e.type == "ExperimentStarted":
                started.setdefault(data["experiment_id"], e)
            elif e.type == "ExperimentEnded":
                ended.setdefault(data["experiment_id"], e)
            elif (signal := signal_of(e)) is not None:
                person = data["person_id"]
                latest[person] = e
                day = days_of[(e.occurred_at - _EPOCH).days]
                signals[(person, day)][SIGNALS.index(signal)] += 1
        experiments, daily = tables["experiments"], tables["experiment_signals"]
        pg = as_psycopg(conn)
        if signals:
            tenants = {p: e.tenant_id_text for p, e in latest.items()}
            counts = list(zip(*signals.values(), strict=True))
            pg.execute(
                f"""
                INSERT INTO {daily} AS t (tenant_id, person_id, day, invitations,
                    useful_feedback, assignments, model_version)
                SELECT u.*, %b FROM unnest({_LIST}::uuid[], {_LIST}::uuid[], {_LIST}::date[],
                    {_LIST}::int[], {_LIST}::int[], {_LIST}::int[]) AS u
                ON CONFLICT (person_id, day) DO UPDATE SET
                    invitations = t.invitations + excluded.invitations,
                    useful_feedback = t.useful_feedback + excluded.useful_feedback,
                    assignments = t.assignments + excluded.assignments""",
                [
                    self.version,
                    _joined([tenants[p] for p, _ in signals]),
                    _joined([p for p, _ in signals]),
                    _joined([d.isoformat() for _, d in signals]),
                    *(_joined(map(str, c)) for c in counts),
                ],
            )
        if started:  # a row may exist already, made by an end appended before its start
            starts_on = [date.fromisoformat(e.data["starts_on"]) for e in started.values()]
            weeks = [e.data["weeks"] for e in started.values()]
            pg.execute(
                f"""
                INSERT INTO {experiments} AS t (experiment_id, tenant_id, person_id, tactic,
                    starts_on, weeks, ends_on, started_position, model_version)
                SELECT u.*, %b FROM unnest({_LIST}::uuid[], {_LIST}::uuid[], {_LIST}::uuid[],
                    {_LIST}, %b::date[], %b::int[], %b::date[], %b::bigint[]) AS u
                ON CONFLICT (experiment_id) DO UPDATE SET tenant_id = excluded.tenant_id,
                    person_id = excluded.person_id, tactic = excluded.tactic,
                    starts_on = excluded.starts_on, weeks = excluded.weeks,
                    ends_on = excluded.ends_on, started_position = excluded.started_position
                WHERE t.started_position IS NULL
                    OR excluded.started_position < t.started_position""",
                [
                    self.version,
                    _joined(started),
                    _joined([e.tenant_id_text for e in started.values()]),
                    _joined([e.data["person_id"] for e in started.values()]),
                    _joined([e.data["tactic"] for e in started.values()]),
                    starts_on,
                    weeks,
                    [s + timedelta(weeks=w) for s, w in zip(starts_on, weeks, strict=True)],
                    [e.position for e in started.values()],
                ],
            )
        if ended:
            pg.execute(
                f"""
                INSERT INTO {experiments} AS t (experiment_id, tenant_id, person_id, ended_at,
                    ended_position, model_version)
                SELECT u.*, %b FROM unnest({_LIST}::uuid[], {_LIST}::uuid[], {_LIST}::uuid[],
                    %b::timestamptz[], %b::bigint[]) AS u
                ON CONFLICT (experiment_id) DO UPDATE SET ended_at = excluded.ended_at,
                    ended_position = excluded.ended_position
                WHERE t.ended_position IS NULL OR excluded.ended_position < t.ended_position""",
                [
                    self.version,
                    _joined(ended),
                    _joined([e.tenant_id_text for e in ended.values()]),
                    _joined([e.data["person_id"] for e in ended.values()]),
                    [e.occurred_at for e in ended.values()],
                    [e.position for e in ended.values()],
                ],
            )
        if signals or started:
            days: dict[str, tuple[date, date]] = {}  # per person: the first and last day
            for p, d in signals:
                first, last = days.get(p, (d, d))
                days[p] = (min(first, d), max(last, d))
            self._compare(pg, experiments, daily, days, started)

    @staticmethod
    def _compare(
        pg: psycopg.Connection[Any],
        experiments: str,
        daily: str,
        days: Mapping[str, tuple[date, date]],
        started: Iterable[str],
    ) -> None:
        """Recount both windows of the experiments ``started`` and of those whose windows
        meet a person's span of ``days`` with new signals, from the daily signals."""
        sums = ", ".join(
            f"coalesce(sum(s.{s}) FILTER (WHERE s.day < x.starts_on), 0) AS before_{s}, "
            f"coalesce(sum(s.{s}) FILTER (WHERE s.day >= x.starts_on), 0) AS during_{s}"
            for s in SIGNALS
        )
        columns = [f"{w}_{s}" for s in SIGNALS for w in ("before", "during")]
        assignments = ", ".join(f"{c} = c.{c}" for c in columns)
        changed = (
            f"({', '.join(f't.{c}' for c in columns)}) "
            f"IS DISTINCT FROM ({', '.join(f'c.{c}' for c in columns)})"
        )
        pg.execute(
            f"""
            UPDATE {experiments} AS t SET {assignments}
            FROM (
                SELECT x.experiment_id, {sums}
                FROM {experiments} AS x
                LEFT JOIN {daily} AS s ON s.person_id = x.person_id
                    AND s.day >= x.starts_on - {7 * BEFORE_WEEKS} AND s.day < x.ends_on
                WHERE x.starts_on IS NOT NULL AND x.experiment_id IN (
                    SELECT y.experiment_id
                    FROM unnest({_LIST}::uuid[], {_LIST}::date[], {_LIST}::date[])
                        AS k (person_id, first, last)
                    JOIN {experiments} AS y ON y.person_id = k.person_id
                        AND y.starts_on <= k.last + {7 * BEFORE_WEEKS} AND y.ends_on > k.first
                    UNION ALL
                    SELECT unnest({_LIST}::uuid[]))
                GROUP BY x.experiment_id
            ) AS c
            WHERE t.experiment_id = c.experiment_id AND {changed}""",
            [
                _joined(days),
                _joined([first.isoformat() for first, _ in days.values()]),
                _joined([last.isoformat() for _, last in days.values()]),
                _joined(started),
            ],
        )


_ASKED_COLUMNS = (
    "tenant_id",
    "person_id",
    "action_id",
    "asked_at",
    "expires_at",
    "asked_position",
)


class FeedbackLoopProjection(Projection):
    """Each feedback request and its answer, and per person: requests, answers, rates.

    A request's row is keyed by its id and filled from both sides (the request, the answer),
    whichever is appended first; the first answer wins. The numbers of each person owning a
    touched row are recounted from the rows after each batch: an answer counts once its
    request is known.
    """

    name = "feedback_loop"
    version = MODEL_VERSION
    handles = frozenset({"FeedbackRequested", "FeedbackGiven"})
    tables = {
        "feedback_requests": """
            request_id uuid PRIMARY KEY, tenant_id uuid NOT NULL, person_id uuid NOT NULL,
            action_id uuid, asked_at timestamptz, expires_at timestamptz, asked_position bigint,
            answered_at timestamptz, useful boolean, answer_position bigint,
            model_version integer NOT NULL""",
        "feedback_people": """
            tenant_id uuid NOT NULL, person_id uuid NOT NULL, requests integer NOT NULL,
            answers integer NOT NULL, useful integer NOT NULL,
            response_rate numeric GENERATED ALWAYS AS (CASE WHEN requests > 0
                THEN round(answers::numeric / requests, 4) END) STORED,
            usefulness_rate numeric GENERATED ALWAYS AS (CASE WHEN answers > 0
                THEN round(useful::numeric / answers, 4) END) STORED,
            model_version integer NOT NULL, PRIMARY KEY (tenant_id, person_id)""",
    }
    indexes = {"feedback_requests": ["person_id, asked_at"]}

    def begin_rebuild(self) -> FeedbackLoopFold:
        """A rebuild folds the whole log in memory and writes each table once
        (:class:`FeedbackLoopFold`); catch-up applies batches with :meth:`apply`."""
        return FeedbackLoopFold(self.version)

    @_collector_paused
    def apply(
        self, conn: Connection, events: Sequence[RecordedEvent], tables: Mapping[str, str]
    ) -> None:
        asked: dict[str, RecordedEvent] = {}
        answered: dict[str, RecordedEvent] = {}
        for e in events:  # in position order: setdefault keeps the first of each
            if e.type == "FeedbackRequested":
                asked.setdefault(e.data["request_id"], e)
            else:
                answered.setdefault(e.data["request_id"], e)
        if not (asked or answered):
            return
        # One row per request with both sides of this batch: the request's columns replace
        # those of a row without a request or with a later one, the answer's those of a row
        # without an answer or with a later one. A new row without its request takes tenant
        # and person from the answer.
        ids = list(asked.keys() | answered.keys())
        owners = [asked.get(r) or answered[r] for r in ids]
        requests = [asked.get(r) for r in ids]
        answers = [answered.get(r) for r in ids]
        table = tables["feedback_requests"]
        asked_wins = (
            "excluded.asked_position IS NOT NULL AND (t.asked_position IS NULL "
            "OR excluded.asked_position < t.asked_position)"
        )
        answer_wins = (
            "excluded.answer_position IS NOT NULL AND (t.answer_position IS NULL "
            "OR excluded.answer_position < t.answer_position)"
        )
        sets = ", ".join(
            f"{c} = CASE WHEN {wins} THEN excluded.{c} ELSE t.{c} END"
            for wins, columns in (
                (asked_wins, _ASKED_COLUMNS),
                (answer_wins, ("answered_at", "useful", "answer_position")),
            )
            for c in columns
        )
        pg = as_psycopg(conn)
        pg.execute(
            f"""
            INSERT INTO {table} AS t (request_id, {", ".join(_ASKED_COLUMNS)}, answered_at,
                useful, answer_position, model_version)
            SELECT u.*, %b FROM unnest({_LIST}::uuid[], {_LIST}::uuid[], {_LIST}::uuid[],
                %b::uuid[], %b::timestamptz[], %b::timestamptz[], %b::bigint[],
                %b::timestamptz[], %b::boolean[], %b::bigint[]) AS u
            ON CONFLICT (request_id) DO UPDATE SET {sets}
            WHERE ({asked_wins}) OR ({answer_wins})""",
            [
                self.version,
                _joined(ids),
                _joined([e.tenant_id_text for e in owners]),
                _joined([e.data["person_id"] for e in owners]),
                [e and e.data["action_id"] for e in requests],
                [e and e.occurred_at for e in requests],
                [e and datetime.fromisoformat(e.data["expires_at"]) for e in requests],
                [e and e.position for e in requests],
                [e and e.occurred_at for e in answers],
                [e and e.data["useful"] for e in answers],
                [e and e.position for e in answers],
            ],
        )
        # Recount the owners of every request row touched.
        pg.execute(
            f"""
            INSERT INTO {tables["feedback_people"]} AS t (tenant_id, person_id, requests,
                answers, useful, model_version)
            SELECT r.tenant_id, r.person_id, count(*),
                count(*) FILTER (WHERE r.answer_position IS NOT NULL),
                count(*) FILTER (WHERE r.answer_position IS NOT NULL AND r.useful), %b
            FROM {table} AS r
            WHERE r.asked_position IS NOT NULL AND r.person_id IN (
                SELECT person_id FROM {table} WHERE request_id = ANY({_LIST}::uuid[]))
            GROUP BY r.tenant_id, r.person_id
            ON CONFLICT (tenant_id, person_id) DO UPDATE SET requests = excluded.requests,
                answers = excluded.answers, useful = excluded.useful""",
            [self.version, _joined(ids)],
        )


class PlanProgressProjection(Projection):
    """Per person and ISO week: the planned tactics (the latest plan by position) and which
    are done, from the week's actions per tactic (counted whenever they were logged, before
    the plan was set included)."""

    name = "plan_progress"
    version = MODEL_VERSION
    handles = frozenset({"WeeklyPlanSet", "MicroActionLogged", "MicroActionRetracted"})
    tables = {
        "plan_weeks": """
            tenant_id uuid NOT NULL, person_id uuid NOT NULL, week text NOT NULL,
            tactics text[] NOT NULL, plan_position bigint NOT NULL, done boolean[] NOT NULL,
            planned integer NOT NULL, done_count integer NOT NULL,
            model_version integer NOT NULL, PRIMARY KEY (person_id, week)""",
        "plan_actions": """
            tenant_id uuid NOT NULL, person_id uuid NOT NULL, week text NOT NULL,
            tactic text NOT NULL, actions integer NOT NULL, model_version integer NOT NULL,
            PRIMARY KEY (person_id, week, tactic)""",
    }

    def begin_rebuild(self) -> PlanProgressFold:
        """A rebuild folds the whole log in memory and writes each table once
        (:class:`PlanProgressFold`); catch-up applies batches with :meth:`apply`."""
        return PlanProgressFold(self.version)

    @_collector_paused
    def apply(
        self, conn: Connection, events: Sequence[RecordedEvent], tables: Mapping[str, str]
    ) -> None:
        plans: dict[tuple[str, str], RecordedEvent] = {}
        actions: defaultdict[tuple[str, str, str], int] = defaultdict(int)
        latest: dict[str, RecordedEvent] = {}  # per person: the last event (its tenant)
        weeks_of = _UtcWeeks()
        for e in events:
            data = e.data
            person = data["person_id"]
            latest[person] = e
            if e.type == "WeeklyPlanSet":  # in position order: the last one wins
                plans[(person, data["week"])] = e
            else:  # an undone action counts -1 in its own week (it carries the action's time)
                step = -1 if e.type == "MicroActionRetracted" else 1
                actions[(person, weeks_of[(e.occurred_at - _EPOCH).days], data["tactic"])] += step
        weeks, counts = tables["plan_weeks"], tables["plan_actions"]
        pg = as_psycopg(conn)
        stale: set[tuple[str, str]] = set()  # the weeks with actions in this batch
        if actions:
            tenants = {p: e.tenant_id_text for p, e in latest.items()}
            people, iso_weeks, tactics = zip(*actions, strict=True)
            stale.update(zip(people, iso_weeks, strict=True))
            pg.execute(
                f"""
                INSERT INTO {counts} AS t (tenant_id, person_id, week, tactic, actions,
                    model_version)
                SELECT u.*, %b FROM unnest({_LIST}::uuid[], {_LIST}::uuid[], {_LIST},
                    {_LIST}, {_LIST}::int[]) AS u
                ON CONFLICT (person_id, week, tactic) DO UPDATE SET
                    actions = t.actions + excluded.actions""",
                [
                    self.version,
                    _joined([tenants[p] for p in people]),
                    _joined(people),
                    _joined(iso_weeks),
                    _joined(tactics),
                    _joined(map(str, actions.values())),
                ],
            )
        # The weeks whose plan this batch sets (when it is the latest) get their progress with
        # it, from the counts above; the others the batch has actions for are recomputed.
        if plans:
            accepted = pg.execute(
                f"""
                INSERT INTO {weeks} AS t (tenant_id, person_id, week, tactics, plan_position,
                    done, planned, done_count, model_version)
                SELECT u.tenant, u.person, u.week, u.tactics, u.position, d.done,
                    cardinality(d.done), d.done_count, %b
                FROM (SELECT tenant, person, week, tactics::text[] AS tactics, position
                    FROM unnest({_LIST}::uuid[], {_LIST}::uuid[], {_LIST}, %b::text[],
                        {_LIST}::bigint[]) AS u (tenant, person, week, tactics, position)) AS u
                CROSS JOIN LATERAL ({_progress_of(counts, "u.person", "u.week", "u.tactics")})
                    AS d
                ON CONFLICT (person_id, week) DO UPDATE SET tactics = excluded.tactics,
                    plan_position = excluded.plan_position, done = excluded.done,
                    planned = excluded.planned, done_count = excluded.done_count
                WHERE excluded.plan_position > t.plan_position
                RETURNING person_id::text, week""",
                [
                    self.version,
                    _joined([e.tenant_id_text for e in plans.values()]),
                    _joined([p for p, _ in plans]),
                    _joined([w for _, w in plans]),
                    [_text_array(e.data["tactics"]) for e in plans.values()],
                    _joined([str(e.position) for e in plans.values()]),
                ],
            ).fetchall()
            stale.difference_update(accepted)
        if stale:  # LIMIT 1: one index lookup per week, never a scan of the growing table
            keys = list(zip(*stale, strict=True))
            progress = _progress_of(counts, "x.person_id", "x.week", "x.tactics")
            pg.execute(
                f"""
                UPDATE {weeks} AS w SET done = p.done, planned = cardinality(p.done),
                    done_count = p.done_count
                FROM (
                    SELECT x.person_id, x.week, d.done, d.done_count
                    FROM unnest({_LIST}::uuid[], {_LIST}) AS k (person_id, week)
                    CROSS JOIN LATERAL (SELECT * FROM {weeks} AS x
                        WHERE x.person_id = k.person_id AND x.week = k.week LIMIT 1) AS x
                    CROSS JOIN LATERAL ({progress}) AS d
                    WHERE (x.done, x.done_count) IS DISTINCT FROM (d.done, d.done_count)
                ) AS p
                WHERE w.person_id = p.person_id AND w.week = p.week""",
                [_joined(keys[0]), _joined(keys[1])],
            )


def _progress_of(counts: str, person: str, week: str, tactics: str) -> str:
    """SQL of one row (``done``, ``done_count``): the progress of a plan of ``tactics`` for
    ``person`` and ``week`` from their action counts, as :func:`plan_progress` computes it
    (the n-th planned item of a tactic is done once the week has n actions of it)."""
    return f"""
        SELECT coalesce(array_agg(i.nth <= coalesce(c.actions, 0) ORDER BY i.ord),
            '{{}}') AS done, count(*) FILTER (WHERE i.nth <= c.actions) AS done_count
        FROM (
            SELECT item.tactic, item.ord,
                row_number() OVER (PARTITION BY item.tactic ORDER BY item.ord) AS nth
            FROM unnest({tactics}) WITH ORDINALITY AS item (tactic, ord)
        ) AS i
        LEFT JOIN {counts} AS c ON c.person_id = {person} AND c.week = {week}
            AND c.tactic = i.tactic"""


# -- rebuilds: the whole log folded in memory, each table written once with COPY ------------
#
# Each fold computes what its projection's ``apply`` writes when handed the whole log as one
# batch into empty tables (tests/integration/test_journal_projections.py compares them with
# incremental batches), keeping small tuples per key rather than the events.


def _copy_value(value: Any) -> str:
    """A value in COPY's text format: None, booleans, dates and timestamps, ids, numbers."""
    if value is None:
        return NULL
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, date):  # datetimes too
        return value.isoformat()
    if isinstance(value, str):
        return copy_text(value)
    return str(value)


def _copy_line(row: Iterable[Any]) -> str:
    return "\t".join([_copy_value(v) for v in row]) + "\n"


_COMPARISON = tuple(f"{w}_{s}" for s in SIGNALS for w in ("before", "during"))


class ExperimentsFold:
    """A rebuild's fold of :class:`ExperimentsProjection`: the first start and the first end
    of each experiment, each person's signals per day; ``flush`` compares each started
    experiment's windows in memory, as ``_compare`` does in SQL."""

    def __init__(self, version: int) -> None:
        self.version = version
        # experiment -> (tenant, person, tactic, starts_on, weeks, position)
        self.started: dict[str, tuple[str, str, str, str, int, int]] = {}
        self.ended: dict[str, tuple[str, str, datetime, int]] = {}  # (tenant, person, at, pos)
        self.signals: defaultdict[tuple[str, date], list[int]] = defaultdict(
            lambda: [0] * len(SIGNALS)
        )
        self.tenants: dict[str, str] = {}  # per person: the last signal's tenant
        self._days = _UtcDays()

    @_collector_paused
    def fold(self, events: Sequence[RecordedEvent]) -> None:
        started, ended, signals, tenants, days_of = (
            self.started, self.ended, self.signals, self.tenants, self._days
        )  # fmt: skip
        index = {s: i for i, s in enumerate(SIGNALS)}
        for e in events:  # in position order: the first of each is kept
            data = e.data
            if e.type == "ExperimentStarted":
                if data["experiment_id"] not in started:
                    started[data["experiment_id"]] = (
                        e.tenant_id_text, data["person_id"], data["tactic"], data["starts_on"],
                        data["weeks"], e.position,
                    )  # fmt: skip
            elif e.type == "ExperimentEnded":
                if data["experiment_id"] not in ended:
                    ended[data["experiment_id"]] = (
                        e.tenant_id_text,
                        data["person_id"],
                        e.occurred_at,
                        e.position,
                    )
            elif (signal := signal_of(e)) is not None:
                person = data["person_id"]
                tenants[person] = e.tenant_id_text
                signals[(person, days_of[(e.occurred_at - _EPOCH).days])][index[signal]] += 1

    @_collector_paused
    def flush(self, conn: Connection, tables: Mapping[str, str]) -> None:
        by_person: defaultdict[str, list[tuple[date, list[int]]]] = defaultdict(list)
        for (person, day), counts in self.signals.items():
            by_person[person].append((day, counts))
        rows: list[tuple[Any, ...]] = []
        for experiment in self.started.keys() | self.ended.keys():
            start = self.started.get(experiment)
            end = self.ended.get(experiment)
            ended_at, ended_position = (end[2], end[3]) if end else (None, None)
            if start is None:
                assert end is not None
                rows.append(
                    (experiment, end[0], end[1], None, None, None, None, None, ended_at,
                     ended_position, *[0] * len(_COMPARISON))
                )  # fmt: skip
                continue
            tenant, person, tactic, starts_text, weeks, position = start
            starts_on = date.fromisoformat(starts_text)
            ends_on = starts_on + timedelta(weeks=weeks)
            before_from = starts_on - timedelta(days=7 * BEFORE_WEEKS)
            sums = [0] * len(_COMPARISON)  # before_s, during_s for each signal
            for day, counts in by_person.get(person, ()):
                if before_from <= day < ends_on:
                    offset = 0 if day < starts_on else 1
                    for i, count in enumerate(counts):
                        sums[2 * i + offset] += count
            rows.append(
                (experiment, tenant, person, tactic, starts_on, weeks, ends_on, position,
                 ended_at, ended_position, *sums)
            )  # fmt: skip
        version = self.version
        tenants = self.tenants

        def write() -> None:
            copy_lines(
                pg,
                tables["experiment_signals"],
                "tenant_id, person_id, day, invitations, useful_feedback, assignments, "
                "model_version",
                (
                    f"{tenants[person]}\t{person}\t{day.isoformat()}\t"
                    + "\t".join(map(str, counts))
                    + f"\t{version}\n"
                    for (person, day), counts in self.signals.items()
                ),
            )
            copy_lines(
                pg,
                tables["experiments"],
                "experiment_id, tenant_id, person_id, tactic, starts_on, weeks, ends_on, "
                f"started_position, ended_at, ended_position, {', '.join(_COMPARISON)}, "
                "model_version",
                (_copy_line((*row, version)) for row in rows),
            )

        pg = as_psycopg(conn)
        _load_tables(pg, tables, ExperimentsProjection.indexes, write)


class FeedbackLoopFold:
    """A rebuild's fold of :class:`FeedbackLoopProjection`: the first request and the first
    answer of each request id; ``flush`` counts each person's numbers from those rows."""

    def __init__(self, version: int) -> None:
        self.version = version
        # request -> (tenant, person, action, asked_at, expires_at, position)
        self.asked: dict[str, tuple[str, str, str | None, datetime, str, int]] = {}
        # request -> (tenant, person, answered_at, useful, position)
        self.answered: dict[str, tuple[str, str, datetime, bool | None, int]] = {}

    @_collector_paused
    def fold(self, events: Sequence[RecordedEvent]) -> None:
        asked, answered = self.asked, self.answered
        for e in events:  # in position order: the first of each is kept
            data = e.data
            request = data["request_id"]
            if e.type == "FeedbackRequested":
                if request not in asked:
                    asked[request] = (
                        e.tenant_id_text, data["person_id"], data["action_id"], e.occurred_at,
                        data["expires_at"], e.position,
                    )  # fmt: skip
            elif request not in answered:
                answered[request] = (
                    e.tenant_id_text, data["person_id"], e.occurred_at, data["useful"], e.position
                )  # fmt: skip

    @_collector_paused
    def flush(self, conn: Connection, tables: Mapping[str, str]) -> None:
        rows = []
        people: dict[tuple[str, str], list[int]] = {}  # (tenant, person) -> [requests, ...]
        for request in self.asked.keys() | self.answered.keys():
            ask = self.asked.get(request)
            answer = self.answered.get(request)
            tenant, person = (ask or answer)[:2]  # type: ignore[index]
            row: list[Any] = [request, tenant, person]
            if ask is None:
                row += [None, None, None, None]
            else:
                row += [ask[2], ask[3], datetime.fromisoformat(ask[4]), ask[5]]
                counts = people.get((tenant, person))
                if counts is None:
                    counts = people[(tenant, person)] = [0, 0, 0]
                counts[0] += 1
                if answer is not None:
                    counts[1] += 1
                    counts[2] += answer[3] is True
            row += [None, None, None] if answer is None else [answer[2], answer[3], answer[4]]
            rows.append(row)
        version = self.version

        def write() -> None:
            copy_lines(
                pg,
                tables["feedback_requests"],
                f"request_id, {', '.join(_ASKED_COLUMNS)}, answered_at, useful, "
                "answer_position, model_version",
                (_copy_line((*row, version)) for row in rows),
            )
            copy_lines(
                pg,
                tables["feedback_people"],
                "tenant_id, person_id, requests, answers, useful, model_version",
                (
                    f"{tenant}\t{person}\t{n[0]}\t{n[1]}\t{n[2]}\t{version}\n"
                    for (tenant, person), n in people.items()
                ),
            )

        pg = as_psycopg(conn)
        _load_tables(pg, tables, FeedbackLoopProjection.indexes, write)


class PlanProgressFold:
    """A rebuild's fold of :class:`PlanProgressProjection`: the latest plan of each person's
    week and the week's action counts per tactic; ``flush`` computes each plan's progress
    with :func:`plan_progress` (what ``_progress_of`` computes in SQL)."""

    def __init__(self, version: int) -> None:
        self.version = version
        self.plans: dict[tuple[str, str], tuple[str, list[str], int]] = {}  # tenant, tactics, pos
        self.actions: defaultdict[tuple[str, str, str], int] = defaultdict(int)
        self.tenants: dict[str, str] = {}  # per person: the last event's tenant
        self._weeks = _UtcWeeks()

    @_collector_paused
    def fold(self, events: Sequence[RecordedEvent]) -> None:
        plans, actions, tenants, weeks_of = self.plans, self.actions, self.tenants, self._weeks
        for e in events:
            data = e.data
            person = data["person_id"]
            tenant = tenants[person] = e.tenant_id_text
            if e.type == "WeeklyPlanSet":  # in position order: the last one wins
                plans[(person, data["week"])] = (tenant, data["tactics"], e.position)
            else:  # an undone action counts -1 in its own week (it carries the action's time)
                step = -1 if e.type == "MicroActionRetracted" else 1
                actions[(person, weeks_of[(e.occurred_at - _EPOCH).days], data["tactic"])] += step

    @_collector_paused
    def flush(self, conn: Connection, tables: Mapping[str, str]) -> None:
        version, tenants, actions = self.version, self.tenants, self.actions

        def plan_lines() -> Iterable[str]:
            for (person, week), (tenant, tactics, position) in self.plans.items():
                counts = {t: actions.get((person, week, t), 0) for t in tactics}
                done = plan_progress(tactics, counts)
                flags = ",".join(["t" if d else "f" for d in done])
                yield (  # ISO weeks and tactics hold no tab, newline or backslash (schemas)
                    f"{tenant}\t{person}\t{week}\t{_text_array(tactics)}\t"
                    f"{position}\t{{{flags}}}\t{len(done)}\t{sum(done)}\t{version}\n"
                )

        def write() -> None:
            copy_lines(
                pg,
                tables["plan_actions"],
                "tenant_id, person_id, week, tactic, actions, model_version",
                (
                    f"{tenants[person]}\t{person}\t{week}\t{tactic}\t{count}\t{version}\n"
                    for (person, week, tactic), count in actions.items()
                ),
            )
            copy_lines(
                pg,
                tables["plan_weeks"],
                "tenant_id, person_id, week, tactics, plan_position, done, planned, done_count, "
                "model_version",
                plan_lines(),
            )

        pg = as_psycopg(conn)
        _load_tables(pg, tables, PlanProgressProjection.indexes, write)


# -- reads ---------------------------------------------------------------------------------------


def read_experiments(conn: Connection, tenant_id: Any, person_id: Any) -> list[dict[str, Any]]:
    """The person's experiments, the latest start first, each compared with the 4 weeks
    before it."""
    rows = conn.execute(
        text(
            "SELECT * FROM experiments WHERE tenant_id = :t AND person_id = :p "
            "AND starts_on IS NOT NULL ORDER BY starts_on DESC, started_position DESC"
        ),
        {"t": tenant_id, "p": person_id},
    ).mappings()
    return [
        {
            "experiment_id": row["experiment_id"],
            "tactic": row["tactic"],
            "starts_on": row["starts_on"],
            "weeks": row["weeks"],
            "ends_on": row["ends_on"],
            "ended_at": row["ended_at"],
            "status": row["status"],
            "comparison": {
                "before": {
                    "starts_on": row["starts_on"] - timedelta(weeks=BEFORE_WEEKS),
                    "ends_on": row["starts_on"],
                },
                "during": {"starts_on": row["starts_on"], "ends_on": row["ends_on"]},
                **{
                    s: {
                        "before": row[f"before_{s}"],
                        "during": row[f"during_{s}"],
                        "difference": row[f"{s}_difference"],
                        "direction": row[f"{s}_direction"],
                    }
                    for s in SIGNALS
                },
            },
        }
        for row in rows
    ]


def read_feedback(
    conn: Connection, tenant_id: Any, person_id: Any, limit: int = 100
) -> dict[str, Any]:
    """The person's feedback loop: totals, rates and the latest ``limit`` requests (with the
    position of each request's event, to fetch its question from the log)."""
    summary = conn.execute(
        text(
            "SELECT requests, answers, useful, response_rate, usefulness_rate "
            "FROM feedback_people WHERE tenant_id = :t AND person_id = :p"
        ),
        {"t": tenant_id, "p": person_id},
    ).first()
    rows = conn.execute(
        text(
            "SELECT request_id, action_id, asked_at, expires_at, answered_at, useful, "
            "asked_position FROM feedback_requests WHERE tenant_id = :t AND person_id = :p "
            "AND asked_position IS NOT NULL ORDER BY asked_at DESC, asked_position DESC "
            "LIMIT :limit"
        ),
        {"t": tenant_id, "p": person_id, "limit": limit},
    ).mappings()

    def rate(value: Any) -> float | None:
        return None if value is None else float(value)

    return {
        "requests": summary.requests if summary else 0,
        "answers": summary.answers if summary else 0,
        "useful": summary.useful if summary else 0,
        "response_rate": rate(summary.response_rate) if summary else None,
        "usefulness_rate": rate(summary.usefulness_rate) if summary else None,
        "items": [dict(row) for row in rows],
    }


def read_plan(conn: Connection, tenant_id: Any, person_id: Any, week: str) -> dict[str, Any]:
    """The person's plan for an ISO week and its progress; an empty plan when none was set.

    ``plan_position`` is the plan's event (for its labels, in the log), ``actions`` the
    week's actions per tactic, planned or not.
    """
    params = {"t": tenant_id, "p": person_id, "w": week}
    plan = conn.execute(
        text(
            "SELECT tactics, done, planned, done_count, plan_position FROM plan_weeks "
            "WHERE tenant_id = :t AND person_id = :p AND week = :w"
        ),
        params,
    ).first()
    actions = {
        row.tactic: row.actions
        for row in conn.execute(
            text(
                "SELECT tactic, actions FROM plan_actions WHERE tenant_id = :t "
                "AND person_id = :p AND week = :w ORDER BY tactic"
            ),
            params,
        )
    }
    items = (
        [{"tactic": t, "done": d} for t, d in zip(plan.tactics, plan.done, strict=True)]
        if plan
        else []
    )
    return {
        "week": week,
        "planned": plan.planned if plan else 0,
        "done": plan.done_count if plan else 0,
        "items": items,
        "actions": actions,
        "plan_position": plan.plan_position if plan else None,
    }

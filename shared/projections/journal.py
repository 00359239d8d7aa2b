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
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
from sqlalchemy import Connection, text

from shared.database import as_psycopg
from shared.domain.weeks import iso_week_of
from shared.eventlog import RecordedEvent
from shared.projections.runtime import Projection

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


class _UtcDays:
    """``utc_day`` for many moments: the day number since the epoch is exact integer
    arithmetic, and each day's date is made once."""

    def __init__(self) -> None:
        self.days: dict[int, date] = {}

    def __call__(self, moment: datetime) -> date:
        n = (moment - _EPOCH).days
        day = self.days.get(n)
        if day is None:
            day = self.days[n] = _EPOCH_DAY + timedelta(days=n)
        return day


class _UtcWeeks:
    """``utc_week`` for many moments, each day's ISO week computed once."""

    def __init__(self) -> None:
        self.weeks: dict[int, str] = {}

    def __call__(self, moment: datetime) -> str:
        n = (moment - _EPOCH).days
        week = self.weeks.get(n)
        if week is None:
            week = self.weeks[n] = iso_week_of(_EPOCH_DAY + timedelta(days=n))
        return week


def _text_array(values: Iterable[str]) -> str:
    """A PostgreSQL array literal of ``values`` (rows of a text[] column pass through
    ``unnest`` as their literals: unnest cannot yield arrays of a two-dimensional array)."""
    quoted = (v.replace("\\", "\\\\").replace('"', '\\"') for v in values)
    return "{" + ",".join(f'"{v}"' for v in quoted) + "}"


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
    seen: Counter[str] = Counter()
    done = []
    for tactic in tactics:
        seen[tactic] += 1
        done.append(seen[tactic] <= actions.get(tactic, 0))
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
    the comparison of every experiment of a person with new signals (or of a new experiment)
    is recomputed from it. The experiment runs ``[starts_on, ends_on)`` with
    ``ends_on = starts_on + weeks``, and the window before it is ``[starts_on - 4 weeks,
    starts_on)``, whenever its events are appended and whether or not it was ended early.
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

    def apply(
        self, conn: Connection, events: Sequence[RecordedEvent], tables: Mapping[str, str]
    ) -> None:
        started: dict[str, dict[str, Any]] = {}
        ended: dict[str, dict[str, Any]] = {}
        signals: dict[tuple[str, date], list[int]] = defaultdict(lambda: [0] * len(SIGNALS))
        tenants: dict[str, Any] = {}
        for e in events:  # in position order: setdefault keeps the first of each
            data = e.data
            if e.type == "ExperimentStarted":
                starts_on = date.fromisoformat(data["starts_on"])
                started.setdefault(
                    data["experiment_id"],
                    dict(
                        id=data["experiment_id"],
                        tenant=e.tenant_id,
                        person=data["person_id"],
                        tactic=data["tactic"],
                        starts_on=starts_on,
                        weeks=data["weeks"],
                        ends_on=starts_on + timedelta(weeks=data["weeks"]),
                        position=e.position,
                        mv=self.version,
                    ),
                )
            elif e.type == "ExperimentEnded":
                ended.setdefault(
                    data["experiment_id"],
                    dict(
                        id=data["experiment_id"],
                        tenant=e.tenant_id,
                        person=data["person_id"],
                        at=e.occurred_at,
                        position=e.position,
                        mv=self.version,
                    ),
                )
            elif (signal := signal_of(e)) is not None:
                person = data["person_id"]
                tenants[person] = e.tenant_id
                signals[(person, utc_day(e.occurred_at))][SIGNALS.index(signal)] += 1
        experiments, daily = tables["experiments"], tables["experiment_signals"]
        if signals:
            conn.execute(
                text(f"""
                INSERT INTO {daily} AS t (tenant_id, person_id, day, invitations,
                    useful_feedback, assignments, model_version)
                VALUES (:tenant, :person, :day, :i, :f, :a, :mv)
                ON CONFLICT (person_id, day) DO UPDATE SET
                    invitations = t.invitations + excluded.invitations,
                    useful_feedback = t.useful_feedback + excluded.useful_feedback,
                    assignments = t.assignments + excluded.assignments"""),
                [
                    dict(
                        tenant=tenants[p], person=p, day=d, i=c[0], f=c[1], a=c[2], mv=self.version
                    )
                    for (p, d), c in signals.items()
                ],
            )
        if started:  # a row may exist already, made by an end appended before its start
            conn.execute(
                text(f"""
                INSERT INTO {experiments} AS t (experiment_id, tenant_id, person_id, tactic,
                    starts_on, weeks, ends_on, started_position, model_version)
                VALUES (:id, :tenant, :person, :tactic, :starts_on, :weeks, :ends_on, :position,
                    :mv)
                ON CONFLICT (experiment_id) DO UPDATE SET tenant_id = excluded.tenant_id,
                    person_id = excluded.person_id, tactic = excluded.tactic,
                    starts_on = excluded.starts_on, weeks = excluded.weeks,
                    ends_on = excluded.ends_on, started_position = excluded.started_position
                WHERE t.started_position IS NULL
                    OR excluded.started_position < t.started_position"""),
                list(started.values()),
            )
        if ended:
            conn.execute(
                text(f"""
                INSERT INTO {experiments} AS t (experiment_id, tenant_id, person_id, ended_at,
                    ended_position, model_version)
                VALUES (:id, :tenant, :person, :at, :position, :mv)
                ON CONFLICT (experiment_id) DO UPDATE SET ended_at = excluded.ended_at,
                    ended_position = excluded.ended_position
                WHERE t.ended_position IS NULL OR excluded.ended_position < t.ended_position"""),
                list(ended.values()),
            )
        people = {p for p, _ in signals} | {row["person"] for row in started.values()}
        if people:
            self._compare(conn, experiments, daily, people)

    @staticmethod
    def _compare(conn: Connection, experiments: str, daily: str, people: Iterable[str]) -> None:
        """Recount both windows of every experiment of ``people`` from the daily signals."""
        sums = ", ".join(
            f"coalesce(sum(s.{s}) FILTER (WHERE s.day < x.starts_on), 0) AS before_{s}, "
            f"coalesce(sum(s.{s}) FILTER (WHERE s.day >= x.starts_on), 0) AS during_{s}"
            for s in SIGNALS
        )
        assignments = ", ".join(
            f"before_{s} = c.before_{s}, during_{s} = c.during_{s}" for s in SIGNALS
        )
        conn.execute(
            text(f"""
            UPDATE {experiments} AS t SET {assignments}
            FROM (
                SELECT x.experiment_id, {sums}
                FROM {experiments} AS x
                LEFT JOIN {daily} AS s ON s.person_id = x.person_id
                    AND s.day >= x.starts_on - {7 * BEFORE_WEEKS} AND s.day < x.ends_on
                WHERE x.person_id = ANY(CAST(:people AS uuid[])) AND x.starts_on IS NOT NULL
                GROUP BY x.experiment_id
            ) AS c
            WHERE t.experiment_id = c.experiment_id"""),
            {"people": sorted(people)},
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

    def apply(
        self, conn: Connection, events: Sequence[RecordedEvent], tables: Mapping[str, str]
    ) -> None:
        asked: dict[str, dict[str, Any]] = {}
        answered: dict[str, dict[str, Any]] = {}
        for e in events:
            data = e.data
            common = dict(
                id=data["request_id"],
                tenant=e.tenant_id,
                person=data["person_id"],
                position=e.position,
                mv=self.version,
            )
            if e.type == "FeedbackRequested":
                asked.setdefault(
                    data["request_id"],
                    dict(
                        common,
                        action=data["action_id"],
                        at=e.occurred_at,
                        expires=datetime.fromisoformat(data["expires_at"]),
                    ),
                )
            else:
                answered.setdefault(
                    data["request_id"], dict(common, at=e.occurred_at, useful=data["useful"])
                )
        requests = tables["feedback_requests"]
        if asked:
            conn.execute(
                text(f"""
                INSERT INTO {requests} AS t (request_id, tenant_id, person_id, action_id,
                    asked_at, expires_at, asked_position, model_version)
                VALUES (:id, :tenant, :person, :action, :at, :expires, :position, :mv)
                ON CONFLICT (request_id) DO UPDATE SET tenant_id = excluded.tenant_id,
                    person_id = excluded.person_id, action_id = excluded.action_id,
                    asked_at = excluded.asked_at, expires_at = excluded.expires_at,
                    asked_position = excluded.asked_position
                WHERE t.asked_position IS NULL OR excluded.asked_position < t.asked_position"""),
                list(asked.values()),
            )
        if answered:
            conn.execute(
                text(f"""
                INSERT INTO {requests} AS t (request_id, tenant_id, person_id, answered_at,
                    useful, answer_position, model_version)
                VALUES (:id, :tenant, :person, :at, :useful, :position, :mv)
                ON CONFLICT (request_id) DO UPDATE SET answered_at = excluded.answered_at,
                    useful = excluded.useful, answer_position = excluded.answer_position
                WHERE t.answer_position IS NULL
                    OR excluded.answer_position < t.answer_position"""),
                list(answered.values()),
            )
        if asked or answered:  # recount the owners of every request row touched
            conn.execute(
                text(f"""
                INSERT INTO {tables["feedback_people"]} AS t (tenant_id, person_id, requests,
                    answers, useful, model_version)
                SELECT tenant_id, person_id, count(*),
                    count(*) FILTER (WHERE answer_position IS NOT NULL),
                    count(*) FILTER (WHERE answer_position IS NOT NULL AND useful), :mv
                FROM {requests}
                WHERE asked_position IS NOT NULL AND person_id IN (
                    SELECT person_id FROM {requests} WHERE request_id = ANY(CAST(:ids AS uuid[])))
                GROUP BY tenant_id, person_id
                ON CONFLICT (tenant_id, person_id) DO UPDATE SET requests = excluded.requests,
                    answers = excluded.answers, useful = excluded.useful"""),
                {"ids": sorted(set(asked) | set(answered)), "mv": self.version},
            )


class PlanProgressProjection(Projection):
    """Per person and ISO week: the planned tactics (the latest plan by position) and which
    are done, from the week's actions per tactic (counted whenever they were logged, before
    the plan was set included)."""

    name = "plan_progress"
    version = MODEL_VERSION
    handles = frozenset({"WeeklyPlanSet", "MicroActionLogged"})
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

    def apply(
        self, conn: Connection, events: Sequence[RecordedEvent], tables: Mapping[str, str]
    ) -> None:
        plans: dict[tuple[str, str], RecordedEvent] = {}
        actions: Counter[tuple[str, str, str]] = Counter()
        latest: dict[str, RecordedEvent] = {}  # per person: the last event (its tenant)
        weeks_of = _UtcWeeks()
        for e in events:
            data = e.data
            person = data["person_id"]
            latest[person] = e
            if e.type == "WeeklyPlanSet":  # in position order: the last one wins
                plans[(person, data["week"])] = e
            else:
                actions[(person, weeks_of(e.occurred_at), data["tactic"])] += 1
        weeks, counts = tables["plan_weeks"], tables["plan_actions"]
        pg = as_psycopg(conn)
        if actions:
            tenants = {p: e.tenant_id for p, e in latest.items()}
            pg.execute(
                f"""
                INSERT INTO {counts} AS t (tenant_id, person_id, week, tactic, actions,
                    model_version)
                SELECT u.*, %s FROM unnest(%s::uuid[], %s::uuid[], %s::text[], %s::text[],
                    %s::int[]) AS u
                ON CONFLICT (person_id, week, tactic) DO UPDATE SET
                    actions = t.actions + excluded.actions""",
                [
                    self.version,
                    [tenants[p] for p, _, _ in actions],
                    [p for p, _, _ in actions],
                    [w for _, w, _ in actions],
                    [t for _, _, t in actions],
                    list(actions.values()),
                ],
            )
        if plans:
            pg.execute(
                f"""
                INSERT INTO {weeks} AS t (tenant_id, person_id, week, tactics, plan_position,
                    done, planned, done_count, model_version)
                SELECT u.tenant, u.person, u.week, u.tactics::text[], u.position, '{{}}', 0, 0,
                    %s
                FROM unnest(%s::uuid[], %s::uuid[], %s::text[], %s::text[], %s::bigint[])
                    AS u (tenant, person, week, tactics, position)
                ON CONFLICT (person_id, week) DO UPDATE SET tactics = excluded.tactics,
                    plan_position = excluded.plan_position
                WHERE excluded.plan_position > t.plan_position""",
                [
                    self.version,
                    [e.tenant_id for e in plans.values()],
                    [p for p, _ in plans],
                    [w for _, w in plans],
                    [_text_array(e.data["tactics"]) for e in plans.values()],
                    [e.position for e in plans.values()],
                ],
            )
        touched = set(plans)
        touched.update((p, w) for p, w, _ in actions)
        if touched:
            self._progress(pg, weeks, counts, touched)

    @staticmethod
    def _progress(
        pg: psycopg.Connection[Any], weeks: str, counts: str, touched: Iterable[tuple[str, str]]
    ) -> None:
        """Recompute which planned items are done in the ``touched`` (person, week) pairs, as
        :func:`plan_progress` does: the n-th planned item of a tactic is done once the week
        has n actions of it."""
        people, iso_weeks = zip(*touched, strict=True)
        pg.execute(
            f"""
            UPDATE {weeks} AS w SET done = p.done, planned = cardinality(p.done),
                done_count = p.done_count
            FROM (
                SELECT x.person_id, x.week,
                    coalesce(array_agg(i.nth <= coalesce(c.actions, 0) ORDER BY i.ord)
                        FILTER (WHERE i.ord IS NOT NULL), '{{}}') AS done,
                    count(*) FILTER (WHERE i.nth <= c.actions) AS done_count
                FROM unnest(%s::uuid[], %s::text[]) AS k (person_id, week)
                JOIN {weeks} AS x ON x.person_id = k.person_id AND x.week = k.week
                LEFT JOIN LATERAL (
                    SELECT u.tactic, u.ord,
                        row_number() OVER (PARTITION BY u.tactic ORDER BY u.ord) AS nth
                    FROM unnest(x.tactics) WITH ORDINALITY AS u (tactic, ord)
                ) AS i ON true
                LEFT JOIN {counts} AS c ON c.person_id = x.person_id AND c.week = x.week
                    AND c.tactic = i.tactic
                GROUP BY x.person_id, x.week
            ) AS p
            WHERE w.person_id = p.person_id AND w.week = p.week
                AND (w.done, w.done_count) IS DISTINCT FROM (p.done, p.done_count)""",
            [list(people), list(iso_weeks)],
        )


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

"""The plan progress read model: per person and ISO week, the planned tactics and which are
done, from the week's actions per tactic.

Its rows hold ids, weeks, tactics and counts only (a plan's labels stay encrypted in the
log), so ``PersonErased`` has nothing to remove. The action counts are integer sums
(additions commute), the plan is the latest by position (kept with it, so a later batch can
compare) and the progress is recomputed from those two: every batching gives the same rows.

:class:`PlanProgressState` holds the effect of each event, once: catch-up
(:meth:`PlanProgressProjection.apply`) folds a batch into a fresh state, writes it and
recomputes the progress of the weeks it touched in SQL (:func:`progress_sql`); a rebuild
(:class:`PlanProgressFold`) folds the whole log into one state, computes each plan's
progress in memory (:func:`plan_progress`) and COPYs each table once.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from sqlalchemy import Connection

from shared.copy_format import CopyBuffer, copy_lines
from shared.database import as_psycopg
from shared.eventlog import RecordedEvent
from shared.gc_pause import collector_paused
from shared.projections.journal.common import EPOCH, MODEL_VERSION, StateFold, UtcWeeks, text_array
from shared.projections.runtime import LIST_SQL, Projection, joined


def plan_progress(tactics: Sequence[str], actions: Mapping[str, int]) -> list[bool]:
    """Which planned items are done, given the week's action count per tactic.

    Each action of a tactic completes one planned item of that tactic, in plan order: a
    tactic planned twice needs two actions.

    Parameters:
        tactics: the plan's tactics, in plan order.
        actions: the week's action count per tactic.

    Returns:
        One flag per planned item: done or not.
    """
    seen: dict[str, int] = {}
    done = []
    for tactic in tactics:
        nth = seen[tactic] = seen.get(tactic, 0) + 1
        done.append(nth <= actions.get(tactic, 0))
    return done


@dataclass(slots=True)
class WeeklyPlan:
    """The latest ``WeeklyPlanSet`` of a person's week."""

    tenant: str
    tactics: list[str]
    position: int


@dataclass(slots=True)
class PlanProgressState:
    """Plan and action events folded in memory: one batch's or the whole log's.

    Attributes:
        plans: (person, ISO week) -> the week's latest plan.
        actions: (person, ISO week, tactic) -> the week's action count (an undone action
            counts -1 in its own week).
        tenants: person -> the tenant of their last event.
    """

    plans: dict[tuple[str, str], WeeklyPlan] = field(default_factory=dict)
    actions: dict[tuple[str, str, str], int] = field(default_factory=dict)
    tenants: dict[str, str] = field(default_factory=dict)
    weeks: UtcWeeks = field(default_factory=UtcWeeks)

    def add(self, events: Iterable[RecordedEvent]) -> None:
        """Fold ``events`` (in position order) in: each event's effect on the read model.

        Parameters:
            events: ``WeeklyPlanSet``, ``MicroActionLogged`` and ``MicroActionRetracted``
                events.
        """
        plans, actions, tenants, weeks_of = self.plans, self.actions, self.tenants, self.weeks
        for e in events:
            data = e.data
            person = data["person_id"]
            tenant = tenants[person] = e.tenant_id_text
            if e.type == "WeeklyPlanSet":  # in position order: the last one wins
                plans[(person, data["week"])] = WeeklyPlan(tenant, data["tactics"], e.position)
            else:  # an undone action counts -1 in its own week (it carries the action's time)
                step = -1 if e.type == "MicroActionRetracted" else 1
                key = (person, weeks_of[(e.occurred_at - EPOCH).days], data["tactic"])
                actions[key] = actions.get(key, 0) + step

    def plan_lines(self, version: int) -> Iterator[str]:
        """The ``plan_weeks`` rows in COPY text, each plan's progress from the week's
        action counts (:func:`plan_progress`)."""
        actions = self.actions
        for (person, week), plan in self.plans.items():
            tactics = plan.tactics
            done = plan_progress(tactics, {t: actions.get((person, week, t), 0) for t in tactics})
            flags = ",".join(["t" if d else "f" for d in done])
            yield (  # ISO weeks and tactics hold no tab, newline or backslash (schemas)
                f"{plan.tenant}\t{person}\t{week}\t{text_array(tactics)}\t"
                f"{plan.position}\t{{{flags}}}\t{len(done)}\t{sum(done)}\t{version}\n"
            )


def progress_sql(counts: str, person: str, week: str, tactics: str) -> str:
    """SQL of one row (``done``, ``done_count``): the progress of a plan of ``tactics`` for
    ``person`` and ``week`` from their action counts in table ``counts``, as
    :func:`plan_progress` computes it (the n-th planned item of a tactic is done once the
    week has n actions of it).

    Parameters:
        counts: the ``plan_actions`` table's physical name.
        person, week, tactics: SQL expressions of the plan's person, week and tactics.

    Returns:
        A SELECT for a ``CROSS JOIN LATERAL``.
    """
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
        """A rebuild's fold.

        Returns:
            A :class:`PlanProgressFold`: the whole log folded in memory, each table written
            once; catch-up applies batches with :meth:`apply`.
        """
        return PlanProgressFold(self.version)

    @collector_paused()
    def apply(
        self, conn: Connection, events: Sequence[RecordedEvent], tables: Mapping[str, str]
    ) -> None:
        """Fold a batch into the tables: its events' effects (:meth:`PlanProgressState.add`),
        the action counts added, the plans set with their progress, the other weeks with
        actions in the batch recomputed.

        Parameters:
            conn: the batch's transaction.
            events: the batch, in position order.
            tables: base table name -> physical name.
        """
        batch = PlanProgressState()
        batch.add(events)
        weeks, counts = tables["plan_weeks"], tables["plan_actions"]
        pg = as_psycopg(conn)
        stale: set[tuple[str, str]] = set()  # the weeks with actions in this batch
        if batch.actions:
            add_actions(pg, counts, batch, self.version)
            stale.update((person, week) for person, week, _ in batch.actions)
        # The weeks whose plan this batch sets (when it is the latest) get their progress with
        # it, from the counts above; the others the batch has actions for are recomputed.
        if batch.plans:
            stale.difference_update(set_plans(pg, weeks, counts, batch.plans, self.version))
        if stale:
            recompute_progress(pg, weeks, counts, stale)


def add_actions(
    pg: psycopg.Connection[Any], table: str, batch: PlanProgressState, version: int
) -> None:
    """Add a batch's action counts to ``plan_actions`` (additions commute)."""
    people, iso_weeks, tactics = zip(*batch.actions, strict=True)
    pg.execute(
        f"""
        INSERT INTO {table} AS t (tenant_id, person_id, week, tactic, actions, model_version)
        SELECT u.*, %b FROM unnest({LIST_SQL}::uuid[], {LIST_SQL}::uuid[], {LIST_SQL},
            {LIST_SQL}, {LIST_SQL}::int[]) AS u
        ON CONFLICT (person_id, week, tactic) DO UPDATE SET
            actions = t.actions + excluded.actions""",
        [
            version,
            joined([batch.tenants[p] for p in people]),
            joined(people),
            joined(iso_weeks),
            joined(tactics),
            joined(map(str, batch.actions.values())),
        ],
    )


def set_plans(
    pg: psycopg.Connection[Any],
    weeks: str,
    counts: str,
    plans: Mapping[tuple[str, str], WeeklyPlan],
    version: int,
) -> list[tuple[str, str]]:
    """Set a batch's plans with their progress where each is the week's latest.

    Returns:
        The (person, week) of the plans set.
    """
    return pg.execute(
        f"""
        INSERT INTO {weeks} AS t (tenant_id, person_id, week, tactics, plan_position,
            done, planned, done_count, model_version)
        SELECT u.tenant, u.person, u.week, u.tactics, u.position, d.done,
            cardinality(d.done), d.done_count, %b
        FROM (SELECT tenant, person, week, tactics::text[] AS tactics, position
            FROM unnest({LIST_SQL}::uuid[], {LIST_SQL}::uuid[], {LIST_SQL}, %b::text[],
                {LIST_SQL}::bigint[]) AS u (tenant, person, week, tactics, position)) AS u
        CROSS JOIN LATERAL ({progress_sql(counts, "u.person", "u.week", "u.tactics")}) AS d
        ON CONFLICT (person_id, week) DO UPDATE SET tactics = excluded.tactics,
            plan_position = excluded.plan_position, done = excluded.done,
            planned = excluded.planned, done_count = excluded.done_count
        WHERE excluded.plan_position > t.plan_position
        RETURNING person_id::text, week""",
        [
            version,
            joined([p.tenant for p in plans.values()]),
            joined([person for person, _ in plans]),
            joined([week for _, week in plans]),
            [text_array(p.tactics) for p in plans.values()],
            joined([str(p.position) for p in plans.values()]),
        ],
    ).fetchall()


def recompute_progress(
    pg: psycopg.Connection[Any], weeks: str, counts: str, stale: Iterable[tuple[str, str]]
) -> None:
    """Recompute the progress of the planned weeks among ``stale`` (person, week) from their
    action counts; LIMIT 1: one index lookup per week, never a scan of the growing table."""
    people, iso_weeks = zip(*stale, strict=True)
    progress = progress_sql(counts, "x.person_id", "x.week", "x.tactics")
    pg.execute(
        f"""
        UPDATE {weeks} AS w SET done = p.done, planned = cardinality(p.done),
            done_count = p.done_count
        FROM (
            SELECT x.person_id, x.week, d.done, d.done_count
            FROM unnest({LIST_SQL}::uuid[], {LIST_SQL}) AS k (person_id, week)
            CROSS JOIN LATERAL (SELECT * FROM {weeks} AS x
                WHERE x.person_id = k.person_id AND x.week = k.week LIMIT 1) AS x
            CROSS JOIN LATERAL ({progress}) AS d
            WHERE (x.done, x.done_count) IS DISTINCT FROM (d.done, d.done_count)
        ) AS p
        WHERE w.person_id = p.person_id AND w.week = p.week""",
        [joined(people), joined(iso_weeks)],
    )


class PlanProgressFold(StateFold[PlanProgressState]):
    """A rebuild's fold of :class:`PlanProgressProjection`: the events of a chunk of people
    in one :class:`PlanProgressState`; ``flush`` computes each plan's progress in memory
    (:func:`plan_progress`, what :func:`progress_sql` computes in SQL) and COPYs the rows.

    Parameters:
        version: the model version written in every row.
    """

    def __init__(self, version: int) -> None:
        super().__init__(version, PlanProgressState)

    def write(self, pg: CopyBuffer, tables: Mapping[str, str]) -> None:
        """Encode the rows of a chunk's state for both tables.

        Parameters:
            pg: where the COPY text goes.
            tables: base table name -> physical name (shadow tables, no keys yet).
        """
        version, state = self.version, self.state
        tenants = state.tenants

        copy_lines(
            pg,
            tables["plan_actions"],
            "tenant_id, person_id, week, tactic, actions, model_version",
            (
                f"{tenants[person]}\t{person}\t{week}\t{tactic}\t{count}\t{version}\n"
                for (person, week, tactic), count in state.actions.items()
            ),
        )
        copy_lines(
            pg,
            tables["plan_weeks"],
            "tenant_id, person_id, week, tactics, plan_position, done, planned, done_count, "
            "model_version",
            state.plan_lines(version),
        )

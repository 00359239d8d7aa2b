"""The experiments read model: each experiment with its signals during it and the 4 weeks
before.

Its rows hold ids, dates, tactics and counts only (a hypothesis stays encrypted in the log),
so ``PersonErased`` has nothing to remove. Each column is an integer sum (additions
commute), a value chosen by event position (the first start and the first end win, kept with
their positions so a later batch can compare), or the comparison recomputed from those:
every batching gives the same rows.

:class:`ExperimentsState` holds the effect of each event, once: catch-up
(:meth:`ExperimentsProjection.apply`) folds a batch into a fresh state and writes it with
one statement per table, then recompares the experiments the batch touched in SQL; a
rebuild (:class:`ExperimentsFold`) folds the whole log into one state, compares in memory
and COPYs each table once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date
from typing import Any

import psycopg
from sqlalchemy import Connection

from shared.copy_format import CopyBuffer, copy_lines, encode_row
from shared.database import as_psycopg
from shared.eventlog import RecordedEvent
from shared.gc_pause import collector_paused
from shared.projections.journal.common import MODEL_VERSION, StateFold
from shared.projections.journal.experiment_state import (
    BEFORE_WEEKS,
    COMPARISON,
    SIGNALS,
    ExperimentEnd,
    ExperimentsState,
    ExperimentStart,
    SignalCounts,
    compare,
)
from shared.projections.runtime import LIST_SQL, Projection, joined


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
        """A rebuild's fold.

        Returns:
            An :class:`ExperimentsFold`: the whole log folded in memory, each table written
            once; catch-up applies batches with :meth:`apply`.
        """
        return ExperimentsFold(self.version)

    @collector_paused()
    def apply(
        self, conn: Connection, events: Sequence[RecordedEvent], tables: Mapping[str, str]
    ) -> None:
        """Fold a batch into the tables: its events' effects (:meth:`ExperimentsState.add`),
        written with one statement per table, then the touched comparisons recounted.

        Parameters:
            conn: the batch's transaction.
            events: the batch, in position order.
            tables: base table name -> physical name.
        """
        batch = ExperimentsState()
        batch.add(events)
        experiments, daily = tables["experiments"], tables["experiment_signals"]
        pg = as_psycopg(conn)
        if batch.signals:
            write_signals(pg, daily, batch.signals, batch.tenants, self.version)
        if batch.started:  # a row may exist already, made by an end appended before its start
            write_starts(pg, experiments, batch.started, self.version)
        if batch.ended:
            write_ends(pg, experiments, batch.ended, self.version)
        if batch.signals or batch.started:
            compare_touched(pg, experiments, daily, batch.signal_spans(), batch.started)


# -- catch-up: a batch's state written with one statement per table ------------------------


def write_signals(
    pg: psycopg.Connection[Any],
    table: str,
    signals: Mapping[tuple[str, date], SignalCounts],
    tenants: Mapping[str, str],
    version: int,
) -> None:
    """Add a batch's daily signals to ``experiment_signals`` (additions commute)."""
    keys = list(signals)
    counts = [c.values() for c in signals.values()]
    pg.execute(
        f"""
        INSERT INTO {table} AS t (tenant_id, person_id, day, invitations,
            useful_feedback, assignments, model_version)
        SELECT u.*, %b FROM unnest({LIST_SQL}::uuid[], {LIST_SQL}::uuid[], {LIST_SQL}::date[],
            {LIST_SQL}::int[], {LIST_SQL}::int[], {LIST_SQL}::int[]) AS u
        ON CONFLICT (person_id, day) DO UPDATE SET
            invitations = t.invitations + excluded.invitations,
            useful_feedback = t.useful_feedback + excluded.useful_feedback,
            assignments = t.assignments + excluded.assignments""",
        [
            version,
            joined([tenants[p] for p, _ in keys]),
            joined([p for p, _ in keys]),
            joined([d.isoformat() for _, d in keys]),
            *(joined(map(str, column)) for column in zip(*counts, strict=True)),
        ],
    )


def write_starts(
    pg: psycopg.Connection[Any], table: str, started: Mapping[str, ExperimentStart], version: int
) -> None:
    """Insert a batch's starts, or set them on rows without a start or with a later one."""
    starts = list(started.values())
    pg.execute(
        f"""
        INSERT INTO {table} AS t (experiment_id, tenant_id, person_id, tactic,
            starts_on, weeks, ends_on, started_position, model_version)
        SELECT u.*, %b FROM unnest({LIST_SQL}::uuid[], {LIST_SQL}::uuid[], {LIST_SQL}::uuid[],
            {LIST_SQL}, %b::date[], %b::int[], %b::date[], %b::bigint[]) AS u
        ON CONFLICT (experiment_id) DO UPDATE SET tenant_id = excluded.tenant_id,
            person_id = excluded.person_id, tactic = excluded.tactic,
            starts_on = excluded.starts_on, weeks = excluded.weeks,
            ends_on = excluded.ends_on, started_position = excluded.started_position
        WHERE t.started_position IS NULL
            OR excluded.started_position < t.started_position""",
        [
            version,
            joined(started),
            joined([s.tenant for s in starts]),
            joined([s.person for s in starts]),
            joined([s.tactic for s in starts]),
            [s.starts_on for s in starts],
            [s.weeks for s in starts],
            [s.ends_on for s in starts],
            [s.position for s in starts],
        ],
    )


def write_ends(
    pg: psycopg.Connection[Any], table: str, ended: Mapping[str, ExperimentEnd], version: int
) -> None:
    """Insert a batch's ends, or set them on rows without an end or with a later one."""
    ends = list(ended.values())
    pg.execute(
        f"""
        INSERT INTO {table} AS t (experiment_id, tenant_id, person_id, ended_at,
            ended_position, model_version)
        SELECT u.*, %b FROM unnest({LIST_SQL}::uuid[], {LIST_SQL}::uuid[], {LIST_SQL}::uuid[],
            %b::timestamptz[], %b::bigint[]) AS u
        ON CONFLICT (experiment_id) DO UPDATE SET ended_at = excluded.ended_at,
            ended_position = excluded.ended_position
        WHERE t.ended_position IS NULL OR excluded.ended_position < t.ended_position""",
        [
            version,
            joined(ended),
            joined([e.tenant for e in ends]),
            joined([e.person for e in ends]),
            [e.ended_at for e in ends],
            [e.position for e in ends],
        ],
    )


def compare_touched(
    pg: psycopg.Connection[Any],
    experiments: str,
    daily: str,
    spans: Mapping[str, tuple[date, date]],
    started: Iterable[str],
) -> None:
    """Recount both windows of the experiments ``started`` and of those whose windows
    meet a person's span of days with new signals (``spans``), from the daily signals:
    what :func:`compare` computes in memory."""
    sums = ", ".join(
        f"coalesce(sum(s.{s}) FILTER (WHERE s.day < x.starts_on), 0) AS before_{s}, "
        f"coalesce(sum(s.{s}) FILTER (WHERE s.day >= x.starts_on), 0) AS during_{s}"
        for s in SIGNALS
    )
    assignments = ", ".join(f"{c} = c.{c}" for c in COMPARISON)
    changed = (
        f"({', '.join(f't.{c}' for c in COMPARISON)}) "
        f"IS DISTINCT FROM ({', '.join(f'c.{c}' for c in COMPARISON)})"
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
                FROM unnest({LIST_SQL}::uuid[], {LIST_SQL}::date[], {LIST_SQL}::date[])
                    AS k (person_id, first, last)
                JOIN {experiments} AS y ON y.person_id = k.person_id
                    AND y.starts_on <= k.last + {7 * BEFORE_WEEKS} AND y.ends_on > k.first
                UNION ALL
                SELECT unnest({LIST_SQL}::uuid[]))
            GROUP BY x.experiment_id
        ) AS c
        WHERE t.experiment_id = c.experiment_id AND {changed}""",
        [
            joined(spans),
            joined([first.isoformat() for first, _ in spans.values()]),
            joined([last.isoformat() for _, last in spans.values()]),
            joined(started),
        ],
    )


class ExperimentsFold(StateFold[ExperimentsState]):
    """A rebuild's fold of :class:`ExperimentsProjection`: the events of a chunk of people
    in one :class:`ExperimentsState`; ``flush`` compares each started experiment's windows in
    memory (:func:`compare`, what :func:`compare_touched` does in SQL) and COPYs the rows.

    Parameters:
        version: the model version written in every row.
    """

    def __init__(self, version: int) -> None:
        super().__init__(version, ExperimentsState)

    def experiment_rows(self) -> Iterator[tuple[object, ...]]:
        """The ``experiments`` rows (without the model version), in no particular order."""
        state = self.state
        by_person: defaultdict[str, list[tuple[date, SignalCounts]]] = defaultdict(list)
        for (person, day), counts in state.signals.items():
            by_person[person].append((day, counts))
        for experiment in state.started.keys() | state.ended.keys():
            start = state.started.get(experiment)
            end = state.ended.get(experiment)
            ended_at, ended_position = (end.ended_at, end.position) if end else (None, None)
            if start is None:
                assert end is not None
                yield (experiment, end.tenant, end.person, None, None, None, None, None,
                       ended_at, ended_position, *[0] * len(COMPARISON))  # fmt: skip
                continue
            sums = compare(start, by_person.get(start.person, ()))
            yield (experiment, start.tenant, start.person, start.tactic, start.starts_on,
                   start.weeks, start.ends_on, start.position, ended_at, ended_position,
                   *sums)  # fmt: skip

    def write(self, pg: CopyBuffer, tables: Mapping[str, str]) -> None:
        """Encode the rows of a chunk's state for both tables.

        Parameters:
            pg: where the COPY text goes.
            tables: base table name -> physical name (shadow tables, no keys yet).
        """
        version, state = self.version, self.state
        rows = list(self.experiment_rows())

        copy_lines(
            pg,
            tables["experiment_signals"],
            "tenant_id, person_id, day, invitations, useful_feedback, assignments, model_version",
            (
                f"{state.tenants[person]}\t{person}\t{day.isoformat()}\t{c.invitations}\t"
                f"{c.useful_feedback}\t{c.assignments}\t{version}\n"
                for (person, day), c in state.signals.items()
            ),
        )
        copy_lines(
            pg,
            tables["experiments"],
            "experiment_id, tenant_id, person_id, tactic, starts_on, weeks, ends_on, "
            f"started_position, ended_at, ended_position, {', '.join(COMPARISON)}, "
            "model_version",
            (encode_row((*row, version)) for row in rows),
        )

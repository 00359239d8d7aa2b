"""The ``levers`` projection: team levers per ISO week (model version 1), the read model
behind manager dashboards.

The projection keeps, per person and week, the numbers the levers need (actions, stretch
tasks, feedback, calendar load), the anonymous pulse sums per team and week, and from those
one row of additive sums per team and week (``lever_team_weeks``). Each person belongs to one
*lever team* per week (:mod:`.membership`), so the sums of sub-teams add up to their
parent's and the organisation's. Membership is taken from the events themselves (event
time), never from the live directory, so catch-up and a rebuild produce the same rows: both
run the per-event transitions of :mod:`.transitions`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import Connection

from shared.database import as_psycopg
from shared.domain import levers as model
from shared.eventlog import RecordedEvent
from shared.projections.levers.incremental import apply_batch
from shared.projections.levers.rebuild import LeversFold
from shared.projections.levers.schema import HANDLED_EVENTS, INDEXES, TABLES
from shared.projections.levers.transitions import LeverFacts
from shared.projections.runtime import Projection


class LeversProjection(Projection):
    """The levers read model (tables: :data:`~.schema.TABLES`).

    Catch-up (:meth:`apply`) folds a batch with the per-event transitions and writes it
    against the stored tables (:func:`~.incremental.apply_batch`); a rebuild
    (:meth:`begin_rebuild`) folds the whole log with the same transitions and writes each
    table once (:class:`~.rebuild.LeversFold`).
    """

    name = "levers"
    version = model.MODEL_VERSION
    handles = HANDLED_EVENTS
    # Team-week aggregates: a wake-up a second folds the appends of that second in one batch
    # (each batch costs a dozen statements whatever its size), and keeps a busy gateway's
    # wake-ups from starving the per-person projections on the same worker.
    wake_throttle_seconds = 1.0
    tables = TABLES
    indexes = INDEXES

    def begin_rebuild(self) -> LeversFold:
        """A rebuild's fold.

        Returns:
            A :class:`~.rebuild.LeversFold` that folds the whole log in memory and writes
            each table once.
        """
        return LeversFold(self.version)

    def apply(
        self, conn: Connection, events: Sequence[RecordedEvent], tables: Mapping[str, str]
    ) -> None:
        """Apply one batch of events (in log order) to the tables.

        Parameters:
            conn: the runtime's connection (its transaction).
            events: the batch.
            tables: base table name -> physical name.
        """
        facts = LeverFacts()
        facts.add(events)
        apply_batch(as_psycopg(conn), tables, facts, self.version)

"""The projector runtime: runs a set of projections against the event store.

A :class:`Projection` (shared/projections/projection.py) has a name, a version, the event
types it handles, its tables, and ``apply(conn, events, tables)``. The runtime keeps one row
per projection in ``projections`` and one checkpoint per partition of it in
``projection_partitions`` (a projection's events are split into partitions by tenant:
shared/projections/partitions.py, docs/scaling.md). Its parts, one module each:

* registry and tables (shared/projections/tables.py): rows, generations, checkpoints;
* catch-up (shared/projections/catchup.py);
* poison events quarantined per tenant, and their release (shared/projections/quarantine.py,
  shared/projections/release.py);
* shadow rebuilds (shared/projections/rebuild.py);
* status and waits (shared/projections/status.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence

from sqlalchemy import Engine

from shared.eventlog import EventStore
from shared.projections import catchup
from shared.projections.partitions import lease_seconds_from_env, partitions_from_env
from shared.projections.projection import (
    LIST_SQL,
    Projection,
    RebuildFold,
    collector_paused,
    joined,
)
from shared.projections.quarantine import quarantined
from shared.projections.rebuild import Progress, rebuild_many
from shared.projections.release import Released, release
from shared.projections.status import Status, statuses, wait_for
from shared.projections.tables import physical, register
from shared.settings import rebuild_chunk_events

BATCH = 5000

__all__ = [
    "BATCH",
    "LIST_SQL",
    "Projection",
    "RebuildFold",
    "Runtime",
    "Status",
    "collector_paused",
    "joined",
    "physical",
]


class Runtime:
    """Runs projections against the event store.

    Parameters:
        store: the event store (its engine holds the read models too).
        projections: the projections run (their names must differ).
        batch: events read and applied per transaction.
        partitions: partitions of projections registered or rebuilt by this runtime
            (default ``COMPOUND_PROJECTION_PARTITIONS``); a projection's own number is in
            its ``projections`` row.
        lease_seconds: how long a catch-up's transaction may stay idle (default
            ``COMPOUND_PROJECTION_LEASE_SECONDS``).
        chunk_events: about how many events a rebuild folds at once (default
            ``COMPOUND_REBUILD_CHUNK_EVENTS``): a rebuild's memory follows it.
    """

    def __init__(
        self,
        store: EventStore,
        projections: Sequence[Projection],
        batch: int = BATCH,
        partitions: int | None = None,
        lease_seconds: float | None = None,
        chunk_events: int | None = None,
    ):
        self.store = store
        self.projections = {p.name: p for p in projections}
        self.batch = batch
        self.partitions = max(1, partitions or partitions_from_env())
        self.lease_seconds = lease_seconds or lease_seconds_from_env()
        self.chunk_events = max(1, chunk_events or rebuild_chunk_events())
        self.ensured = False
        """Whether :meth:`ensure` ran (catch-up and rebuilds run it first otherwise)."""

    @property
    def engine(self) -> Engine:
        """The store's engine."""
        return self.store.engine

    def ensure(self) -> None:
        """Register every projection and create generation 1 of its tables if missing; give
        each its checkpoint rows, split into :attr:`partitions` once they line up."""
        self.ensured = True
        for projection in self.projections.values():
            register(self.engine, projection, self.partitions)

    def backlog(self, name: str) -> tuple[int, int]:
        """Projection ``name``'s partitions, and how far its position is behind the head of
        the log.

        Returns:
            ``(partitions, positions behind)``: the second is an upper bound of the events
            it has to apply.

        Raises:
            NoResultFound: no projection ``name`` is registered.
        """
        if not self.ensured:
            self.ensure()
        return catchup.backlog(self.store, name)

    def catch_up(
        self, name: str, max_batches: int | None = None, partition: int | None = None
    ) -> int:
        """Apply every pending event of projection ``name``.

        Safe to call from several workers at once: only one applies a given batch of a
        partition.

        Parameters:
            name: the projection.
            max_batches: stop after this many batches (default: when caught up).
            partition: only that partition (a worker's share); default, all partitions,
                together in this one call.

        Returns:
            How many events were applied. A poison event quarantines its tenant's part of
            the projection (its later events are held back); the others go on.

        Raises:
            KeyError: ``name`` is not one of this runtime's projections.
        """
        projection = self.projections[name]
        if not self.ensured:
            self.ensure()
        return catchup.catch_up(
            self.store,
            projection,
            batch=self.batch,
            lease_seconds=self.lease_seconds,
            partition=partition,
            max_batches=max_batches,
        )

    def retry(
        self, name: str, tenant_id: uuid.UUID | None = None, *, skip_event: bool = False
    ) -> list[Released]:
        """Apply again what projection ``name`` held back after a poison event (after a
        fix): for ``tenant_id``, or for every quarantined tenant (and clear a failure of the
        whole projection left by an older version).

        Parameters:
            name: the projection.
            tenant_id: the quarantined tenant; default, every one.
            skip_event: skip each tenant's poison event (recorded: every rebuild skips it
                too), then apply the rest: the fix was a compensating event.

        Returns:
            What each retry did, in the order of the tenants' poison events.

        Raises:
            KeyError: ``name`` is not one of this runtime's projections.
            LookupError: ``tenant_id`` is not quarantined in ``name``.
        """
        projection = self.projections[name]
        if tenant_id is not None:
            return [release(self.store, projection, tenant_id, self.batch, skip_event=skip_event)]
        catchup.retry(self.store, name)
        with self.engine.connect() as conn:
            tenants = [q.tenant_id for q in quarantined(conn) if q.projection == name]
        return [
            release(self.store, projection, t, self.batch, skip_event=skip_event) for t in tenants
        ]

    def rebuild(
        self, name: str, progress: Progress | None = None, wanted: int | None = None
    ) -> int:
        """Build the next generation of ``name`` from position 0 beside the live one, then
        switch.

        Parameters:
            name: the projection.
            progress: called with (events done, head) as the rebuild goes.
            wanted: the generation that answers the request
                (:func:`shared.projections.rebuild.wanted_generation`): if it is live by
                this rebuild's turn, nothing is rebuilt.

        Returns:
            The generation live now.

        Raises:
            KeyError: ``name`` is not one of this runtime's projections.
        """
        want = None if wanted is None else {name: wanted}
        return self.rebuild_many([name], progress, want)[name]

    def rebuild_many(
        self,
        names: Sequence[str],
        progress: Progress | None = None,
        wanted: Mapping[str, int] | None = None,
    ) -> dict[str, int]:
        """Rebuild several projections in one pass over the log (each event read once).

        Each gets its next generation beside the live one; all switch together at the end,
        in one transaction that holds their checkpoint rows.

        Parameters:
            names: the projections.
            progress: called with (events done, head) as the rebuild goes.
            wanted: see :func:`shared.projections.rebuild.rebuild_many`.

        Returns:
            Name -> the generation live now (new for those rebuilt).

        Raises:
            KeyError: a name is not one of this runtime's projections.
        """
        projections = [self.projections[n] for n in sorted(set(names))]
        if not self.ensured:
            self.ensure()
        return rebuild_many(
            self.store,
            projections,
            batch=self.batch,
            partitions=self.partitions,
            chunk_events=self.chunk_events,
            progress=progress,
            wanted=wanted,
        )

    def status(self) -> list[Status]:
        """Position, lag and failure of every registered projection.

        Returns:
            One :class:`Status` each, in name order.
        """
        return statuses(self.engine)

    def wait_for(self, name: str, position: int, timeout: float) -> int:
        """Wait (bounded) until ``name`` has reached ``position``.

        Parameters:
            name: the projection.
            position: the position awaited.
            timeout: seconds to wait at most.

        Returns:
            Where the projection is (shared/projections/status.py, ``wait_for``).
        """
        return wait_for(self.engine, name, position, timeout)

"""Catch-up: apply a projection's pending events, batch by batch, with its checkpoints.

Catch-up of one partition (or of several together) reads their handled events after their
checkpoints in large batches and applies each batch in one transaction that also advances
their checkpoints. The checkpoint rows are locked ``FOR UPDATE``, so two workers never apply
the same batch, and a redelivered or duplicate wake-up finds nothing left to do; worker
processes apply different partitions at the same time. The transaction ends the session if
it stays idle longer than the lease (``COMPOUND_PROJECTION_LEASE_SECONDS``), so a frozen
worker's partitions pass to another and its late commit fails. ``projections.position``,
what readers wait for, is the lowest of the partitions' checkpoints, kept in the same
transactions.

A **poison event** (``apply`` raises on one event) quarantines its tenant's part of the
projection and nothing else (shared/projections/quarantine.py): the batch is applied again
tenant by tenant in savepoints, the event and the error are recorded in the batch's
transaction, that tenant's later events are held back, and every other tenant (every other
partition) goes on. ``compound projections retry NAME --tenant ID`` releases it
(shared/projections/release.py).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.exc import OperationalError

from shared.eventlog import EventStore, RecordedEvent
from shared.projections.partitions import partition_of, read_partitions
from shared.projections.projection import Projection, readable
from shared.projections.quarantine import (
    Isolated,
    Poison,
    apply_isolated,
    record,
    warn,
)
from shared.projections.tables import head_position, table_names

log = logging.getLogger("compound.projections")


def catch_up(
    store: EventStore,
    projection: Projection,
    *,
    batch: int,
    lease_seconds: float,
    partition: int | None = None,
    max_batches: int | None = None,
) -> int:
    """Apply every pending event of ``projection`` (of one partition, or of all together).

    Safe to call from several workers at once: only one applies a given batch of a partition.

    Parameters:
        store: the event store.
        projection: the projection, registered.
        batch: events read and applied per transaction.
        lease_seconds: how long a batch's transaction may stay idle before PostgreSQL ends
            its session (and frees its partitions).
        partition: only this partition (a worker's share); default, every partition.
        max_batches: stop after this many batches (default: when caught up).

    Returns:
        How many events were applied (a poison event's tenant is quarantined and its
        events held back; they are not counted).

    Raises:
        OperationalError: the database, or the connection, failed (the lease ran out).
    """
    applied = 0
    batches = 0
    while max_batches is None or batches < max_batches:
        batches += 1
        count, done = catch_up_once(store, projection, batch, lease_seconds, partition)
        applied += count
        if done:
            return applied
    return applied


def catch_up_once(
    store: EventStore,
    projection: Projection,
    limit: int,
    lease_seconds: float,
    partition: int | None = None,
) -> tuple[int, bool]:
    """Apply up to ``limit`` pending events of ``projection`` in one transaction; a poison
    event quarantines its tenant in the same transaction (logged once it commits).

    Parameters:
        store: the event store.
        projection: the projection.
        limit: events to read.
        lease_seconds: the transaction's idle limit.
        partition: one partition; default, all.

    Returns:
        Events applied, and whether the partitions are caught up (or there was nothing this
        call may do: a failed projection, a partition held by another worker for long).
    """
    with store.engine.begin() as conn:
        count, done, poisons = _batch(conn, store, projection, limit, lease_seconds, partition)
    warn(projection.name, poisons)
    return count, done


def _batch(
    conn: Connection,
    store: EventStore,
    projection: Projection,
    limit: int,
    lease_seconds: float,
    partition: int | None,
) -> tuple[int, bool, list[Poison]]:
    """:func:`catch_up_once` in ``conn``'s transaction; also the new poison events."""
    locked = _lock_checkpoints(conn, projection.name, partition, lease_seconds)
    if not locked:
        return 0, True, []  # no such partition (any more), or held for long: nothing to do
    row = conn.execute(
        text(
            "SELECT generation, position, status, partitions, ARRAY(SELECT q.tenant_id "
            "FROM projection_quarantine q WHERE q.projection = p.name "
            "AND q.generation = p.generation) AS held, ARRAY(SELECT s.event_id "
            "FROM projection_skipped_events s WHERE s.projection = p.name) AS skipped "
            "FROM projections p WHERE name = :n"
        ),
        {"n": projection.name},
    ).first()
    if row is None or row.status != "live":
        return 0, True, []
    count = int(row.partitions)
    # A projection's position is a floor for every partition (the lowest of them, or
    # a position it was moved to by hand).
    starts = {int(r.partition): max(int(r.position), int(row.position)) for r in locked}
    head = head_position(conn)
    events = read_partitions(
        store,
        min(starts.values()),
        limit,
        types=projection.handles,
        partitions=list(starts),
        count=count,
        decrypt=projection.needs_personal_data,
    )
    full = len(events) == limit
    mine = readable(_not_yet_applied(events, starts, count))
    outcome = Isolated()
    if mine:
        held = set(row.held)  # the tenants waiting at a poison event (read with the row)
        tables = table_names(projection, row.generation)
        skipped = frozenset(row.skipped)  # events an operator skipped (rarely any)
        outcome = apply_isolated(conn, projection, mine, tables, held, skipped)
        record(conn, projection.name, row.generation, outcome)
    last = events[-1].position if events else 0
    _advance(conn, projection.name, starts, last if full else max(head, last))
    return len(mine) - outcome.not_applied, not full, outcome.poisons


def _lock_checkpoints(
    conn: Connection, name: str, partition: int | None, lease_seconds: float
) -> Sequence[Any]:
    """Lock the checkpoint rows of ``partition`` (or all) of ``name`` for this transaction;
    none if another worker held them for over 10 s."""
    # A second worker waits for the first rather than skipping: whatever committed while
    # the first was busy is then applied by the second, so no wake-up is lost. A worker
    # that stops answering loses its session, and so its locks, after the lease: its
    # partitions pass on and its late commit fails.
    conn.execute(text("SET LOCAL lock_timeout = '10s'"))
    conn.execute(
        text("SELECT set_config('idle_in_transaction_session_timeout', :t, true)"),
        {"t": f"{int(lease_seconds * 1000)}ms"},
    )
    try:
        return conn.execute(
            text(
                "SELECT partition, position FROM projection_partitions "
                "WHERE projection = :n AND (CAST(:k AS integer) IS NULL OR partition = :k) "
                "ORDER BY partition FOR UPDATE"
            ),
            {"n": name, "k": partition},
        ).all()
    except OperationalError as err:
        if "lock timeout" in str(err):
            return []  # someone holds it for long: the scheduler will come back
        raise


def _not_yet_applied(
    events: list[RecordedEvent], starts: Mapping[int, int], count: int
) -> list[RecordedEvent]:
    """The events after their own partition's checkpoint (all of them when the partitions
    read are at one checkpoint)."""
    if len(set(starts.values())) <= 1:
        return events
    return [e for e in events if e.position > starts[partition_of(e.tenant_id, count)]]


def _advance(conn: Connection, name: str, starts: Mapping[int, int], reached: int) -> None:
    """Move the checkpoints in ``starts`` to ``reached`` and the projection's position to
    the lowest checkpoint."""
    conn.execute(
        text(
            "UPDATE projection_partitions SET position = :p, updated_at = now() "
            "WHERE projection = :n AND partition = :k AND position < :p"
        ),
        [{"p": max(reached, start), "n": name, "k": k} for k, start in starts.items()],
    )
    # The projection's position: the lowest checkpoint, read after taking its row so that
    # partitions committing meanwhile are seen (no stale minimum is written).
    conn.execute(text("SELECT 1 FROM projections WHERE name = :n FOR UPDATE"), {"n": name})
    conn.execute(
        text(
            "UPDATE projections SET position = greatest(position, "
            "(SELECT min(position) FROM projection_partitions WHERE projection = :n)), "
            "updated_at = now() WHERE name = :n"
        ),
        {"n": name},
    )


def retry(store: EventStore, name: str) -> None:
    """Clear a failure of the whole of projection ``name`` (status ``failed``, left by a
    version before poison events were quarantined per tenant) so catch-up goes on.

    Parameters:
        store: the event store.
        name: the projection.
    """
    with store.engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE projections SET status = 'live', last_error = NULL, "
                "error_position = NULL WHERE name = :n"
            ),
            {"n": name},
        )


def backlog(store: EventStore, name: str) -> tuple[int, int]:
    """How much projection ``name`` has to do.

    Parameters:
        store: the event store.
        name: the projection.

    Returns:
        Its number of partitions, and how far its position is behind the head of the log
        (in positions: an upper bound of the events it has to apply).

    Raises:
        NoResultFound: no projection ``name`` is registered.
    """
    with store.engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT partitions, (SELECT coalesce(max(position), 0) FROM events) "
                "- position AS behind FROM projections WHERE name = :n"
            ),
            {"n": name},
        ).one()
    return int(row.partitions), max(0, int(row.behind))

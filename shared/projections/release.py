"""Releasing a quarantined tenant: ``compound projections retry NAME --tenant ID``.

After a fix (an upcaster, a compensating event, a mended projection) :func:`release`
re-reads from the log every event of the tenant that the projection held back (its types,
from the poison event up to the tenant's partition checkpoint: later events are catch-up's
again), applies them in order through :func:`apply_isolated`, and deletes the tenant's row in
``projection_quarantine``; or, when an event still fails, records the new failure in it
(position, event, error, the events still held). One transaction, which holds the
projection's checkpoint rows: no catch-up of it runs meanwhile, nothing is applied twice.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import Connection, text

from shared.eventlog import EventStore, RecordedEvent
from shared.projections.partitions import partition_of, slot_of
from shared.projections.projection import Projection
from shared.projections.quarantine import Poison, apply_isolated, skip, skipped_events, warn
from shared.projections.tables import lock_partitions, table_names

log = logging.getLogger("compound.projections")


@dataclass(frozen=True)
class Released:
    """What a retry did.

    Parameters:
        applied: held events applied.
        waiting: the event that still fails (the tenant stays quarantined), or None when
            the tenant was released.
        held_events: events still held back (0 when released).
    """

    applied: int
    waiting: Poison | None
    held_events: int


def release(
    store: EventStore,
    projection: Projection,
    tenant_id: uuid.UUID,
    batch: int,
    *,
    skip_event: bool = False,
) -> Released:
    """Apply the events ``projection`` held back for ``tenant_id``, in order, and release the
    tenant; or record the event that still fails.

    Parameters:
        store: the event store.
        projection: the projection (registered).
        tenant_id: the quarantined tenant.
        batch: events read and applied at a time.
        skip_event: skip the poison event the tenant waits at (after a compensating
            event: :func:`shared.projections.quarantine.skip`), then apply the rest.

    Returns:
        What was applied, and what still waits.

    Raises:
        LookupError: the tenant is not quarantined in the projection's live generation.
    """
    with store.engine.begin() as conn:
        checkpoints = dict(lock_partitions(conn, projection.name))
        row = conn.execute(
            text("SELECT generation, position, partitions FROM projections WHERE name = :n"),
            {"n": projection.name},
        ).one()
        held = conn.execute(
            text(
                "SELECT position, held_events FROM projection_quarantine "
                "WHERE projection = :n AND generation = :g AND tenant_id = :t FOR UPDATE"
            ),
            {"n": projection.name, "g": row.generation, "t": tenant_id},
        ).first()
        if held is None:
            raise LookupError(f"tenant {tenant_id} is not quarantined in {projection.name}")
        partition = partition_of(tenant_id, int(row.partitions))
        upto = max(checkpoints.get(partition, 0), int(row.position))
        if skip_event:
            skip(conn, projection.name, row.generation, tenant_id)
        skipped = skipped_events(conn, projection.name)
        tables = table_names(projection, row.generation)
        applied, failed, rest = 0, None, 0
        for page in _held_events(store, projection, tenant_id, int(held.position) - 1, upto, batch):
            if failed is not None:
                rest += len(page)
                continue
            outcome = apply_isolated(conn, projection, page, tables, set(), skipped)
            applied += len(page) - outcome.not_applied
            if outcome.poisons:
                failed, rest = outcome.poisons[0], sum(outcome.held.values())
        _settle(conn, projection.name, row.generation, tenant_id, failed, rest)
    if failed is not None:
        warn(projection.name, [failed])
    else:
        log.info(
            "projection %s released tenant %s (%d events)", projection.name, tenant_id, applied
        )
    return Released(applied, failed, rest)


def _held_events(
    store: EventStore,
    projection: Projection,
    tenant_id: uuid.UUID,
    after: int,
    upto: int,
    batch: int,
) -> Iterator[list[RecordedEvent]]:
    """The tenant's events of the projection's types after ``after`` up to ``upto``, page by
    page in log order (read through the tenant's slot: one index range, not the log)."""
    while after < upto:
        events = store.read_partitions(
            [slot_of(tenant_id)],
            after,
            batch,
            types=projection.handles,
            decrypt=projection.needs_personal_data,
        )
        if not events:
            return
        after = events[-1].position
        page = [e for e in events if e.tenant_id == tenant_id and e.position <= upto]
        if page:
            yield page
        if len(events) < batch:
            return


def _settle(
    conn: Connection,
    name: str,
    generation: int,
    tenant_id: uuid.UUID,
    failed: Poison | None,
    held: int,
) -> None:
    """Delete the tenant's row (released), or store the event that still fails."""
    key = {"n": name, "g": generation, "t": tenant_id}
    if failed is None:
        conn.execute(
            text(
                "DELETE FROM projection_quarantine "
                "WHERE projection = :n AND generation = :g AND tenant_id = :t"
            ),
            key,
        )
        return
    conn.execute(
        text(
            "UPDATE projection_quarantine SET position = :p, event_id = :e, event_type = :y, "
            "error = :m, held_events = :h, retried_at = now() "
            "WHERE projection = :n AND generation = :g AND tenant_id = :t"
        ),
        {
            **key,
            "p": failed.event.position,
            "e": failed.event.event_id,
            "y": failed.event.type,
            "m": failed.message,
            "h": held,
        },
    )

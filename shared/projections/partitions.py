"""Partitions of a projection: which events belong to which, and how one is read.

Everything a projection folds is per tenant, so a projection's events are split into ``P``
partitions by their tenant id. A tenant id's last byte (random in version 4 and 7 UUIDs)
modulo 64 is its *slot* (:data:`SLOT_SQL`, indexed with the position by migration 0009);
partition ``k`` of ``P`` holds the slots ``s`` with ``s % P == k``. A tenant's events all fall
in one partition and stay in log order there; the function is plain arithmetic on the id's
bytes, the same in SQL and in Python (:func:`partition_of`), and never changes. ``P`` up to
64; a power of two spreads the slots evenly.

A partition is read by :meth:`EventStore.read_partitions` with its slots: one index range
per slot, merged in position order; it reads its own events only, not the whole log's.

``COMPOUND_PROJECTION_PARTITIONS`` (default 1: one host) sets ``P`` for projections registered or
rebuilt from now on; a projection keeps the ``P`` stored in its ``projections`` row until
its partitions line up (shared/projections/runtime.py). docs/scaling.md explains the design.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

from shared.eventlog import EventStore, RecordedEvent
from shared.eventlog.partitioned_reads import (
    PLANNER_SQL,
    SLOT_SQL,
    SLOTS,
    partition_read_params,
    partition_read_sql,
)
from shared.settings import projection_lease_seconds, projection_partitions

__all__ = [
    "PARTITION_SQL",
    "PLANNER_SQL",
    "SLOTS",
    "SLOT_SQL",
    "lease_seconds_from_env",
    "partition_of",
    "partition_read_params",
    "partition_read_sql",
    "partitions_from_env",
    "read_partitions",
    "slot_of",
    "slots_of",
]

PARTITION_SQL = "(" + SLOT_SQL + " % {count})"
"""SQL of an event's partition among ``count`` (format ``count`` in: an integer)."""


def slot_of(tenant_id: object) -> int:
    """The slot of tenant ``tenant_id``'s events.

    Parameters:
        tenant_id: a UUID or its text.

    Returns:
        Its last byte modulo :data:`SLOTS`, as :data:`SLOT_SQL` computes it.
    """
    tenant = tenant_id if isinstance(tenant_id, uuid.UUID) else uuid.UUID(str(tenant_id))
    return tenant.bytes[15] % SLOTS


def partition_of(tenant_id: object, count: int) -> int:
    """The partition, among ``count``, of the events of tenant ``tenant_id``.

    Parameters:
        tenant_id: a UUID or its text.
        count: how many partitions.

    Returns:
        The partition, from 0 to ``count - 1``.
    """
    return slot_of(tenant_id) % count


def slots_of(partitions: Sequence[int], count: int) -> list[int]:
    """The slots partitions ``partitions`` of ``count`` hold.

    Parameters:
        partitions: some partitions.
        count: how many partitions there are.

    Returns:
        Their slots, in increasing order.
    """
    wanted = set(partitions)
    return [slot for slot in range(SLOTS) if slot % count in wanted]


def partitions_from_env(env: dict[str, str] | None = None) -> int:
    """``COMPOUND_PROJECTION_PARTITIONS`` (at least 1; shared/settings.py)."""
    return projection_partitions(env)


def lease_seconds_from_env(env: dict[str, str] | None = None) -> float:
    """``COMPOUND_PROJECTION_LEASE_SECONDS``: how long a partition's checkpoint lock survives
    a worker that stopped answering (at least 1 s; shared/settings.py)."""
    return float(projection_lease_seconds(env))


def read_partitions(
    store: EventStore,
    after: int,
    limit: int,
    *,
    types: Iterable[str],
    partitions: Sequence[int],
    count: int,
    decrypt: bool,
) -> list[RecordedEvent]:
    """Up to ``limit`` events of ``types`` after ``after`` in ``partitions`` (of ``count``).

    Parameters:
        store: the event store.
        after: the position to read after.
        limit: the most events returned.
        types: only events of these types.
        partitions: the partitions read.
        count: how many partitions there are.
        decrypt: as for :meth:`EventStore.read_all`.

    Returns:
        The events, in position order (:meth:`EventStore.read_partitions`).
    """
    if len(partitions) >= count:
        return store.read_all(after, limit, types=types, decrypt=decrypt)
    return store.read_partitions(
        slots_of(partitions, count), after, limit, types=types, decrypt=decrypt
    )

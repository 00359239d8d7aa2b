"""Partitions of a projection: which events belong to which, and how one is read.

Everything a projection folds is per tenant, so a projection's events are split into ``P``
partitions by their tenant id. A tenant id's last byte (random in version 4 and 7 UUIDs)
modulo 64 is its *slot* (:data:`SLOT_SQL`, indexed with the position by migration 0009);
partition ``k`` of ``P`` holds the slots ``s`` with ``s % P == k``. A tenant's events all fall
in one partition and stay in log order there; the function is plain arithmetic on the id's
bytes, the same in SQL and in Python (:func:`partition_of`), and never changes. ``P`` up to
64; a power of two spreads the slots evenly.

A partition is read as one index range per slot, merged in position order (a Merge Append
of :data:`SLOTS` / ``P`` ordered index scans): it reads its own events only, not the whole
log's.

``COMPOUND_PROJECTION_PARTITIONS`` (default 1: one host) sets ``P`` for projections registered or
rebuilt from now on; a projection keeps the ``P`` stored in its ``projections`` row until
its partitions line up (shared/projections/runtime.py). docs/scaling.md explains the design.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from shared.eventlog import EventStore, RecordedEvent
from shared.eventlog.store import _COLUMNS, PREFETCH_MIN_PAGE, _collector_paused
from shared.settings import projection_lease_seconds, projection_partitions

SLOTS = 64
SLOT_SQL = "(get_byte(uuid_send(tenant_id), 15) % 64)"
"""SQL of an event's slot: its tenant id's last byte modulo :data:`SLOTS` (an index key)."""
PARTITION_SQL = "(" + SLOT_SQL + " % {count})"
"""SQL of an event's partition among ``count`` (format ``count`` in: an integer)."""


def partition_of(tenant_id: object, count: int) -> int:
    """The partition, among ``count``, of the events of tenant ``tenant_id``."""
    tenant = tenant_id if isinstance(tenant_id, uuid.UUID) else uuid.UUID(str(tenant_id))
    return (tenant.bytes[15] % SLOTS) % count


def slots_of(partitions: Sequence[int], count: int) -> list[int]:
    """The slots partitions ``partitions`` of ``count`` hold."""
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

    Like :meth:`EventStore.read_all` (a prefix of the log in position order, filtered; the
    next full page read ahead), with the partition filter added.
    """
    if len(partitions) >= count:
        return store.read_all(after, limit, types=types, decrypt=decrypt)
    type_list = list(types)
    # One ordered index range per slot, merged: PostgreSQL reads each slot's next events
    # from events_slot_position and stops at ``limit``, whatever the rest of the log holds.
    branch = (
        f"(SELECT {_COLUMNS} FROM events WHERE {SLOT_SQL.replace('%', '%%')} = %s "
        "AND position > %s "
        "AND type = ANY(%s) ORDER BY position LIMIT %s)"
    )
    slots = slots_of(partitions, count)
    sql = (
        "SELECT * FROM (" + " UNION ALL ".join([branch] * len(slots)) + ") AS e "
        "ORDER BY position LIMIT %s"
    )
    parts = sorted(partitions)

    def params_after(position: int) -> list[Any]:
        return [v for slot in slots for v in (slot, position, type_list, limit)] + [limit]

    params = params_after(after)
    filters = (limit, tuple(type_list), "partitions", count, tuple(parts))
    rows = store._prefetched(after, filters)
    if rows is None:
        rows = store._fetch(sql, params)
    if len(rows) == limit >= PREFETCH_MIN_PAGE:
        store._prefetch(rows[-1][0], filters, sql, params_after(rows[-1][0]))
    with store.engine.connect() as conn, _collector_paused():
        return store._decode(conn, rows, decrypt)

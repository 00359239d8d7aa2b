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
from shared.eventlog.store import _COLUMNS, PREFETCH_MIN_PAGE, _collector_paused, _prefetcher
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


def partition_read_sql(slots: Sequence[int], after: int) -> str:
    """The statement of a partitioned read of ``slots`` after position ``after`` (its
    parameters: :func:`partition_read_params`; run with :data:`PLANNER_SQL` first)."""
    slot_sql = SLOT_SQL.replace("%", "%%")
    branches = [
        f"(SELECT {_COLUMNS} FROM events WHERE {slot_sql} = {int(slot)} "
        f"AND ({slot_sql}, position) > ({int(slot)}, {int(after)}) "
        "AND type = ANY(%s) ORDER BY position LIMIT %s)"
        for slot in slots
    ]
    union = " UNION ALL ".join(branches)
    return f"SELECT * FROM ({union}) AS e ORDER BY position LIMIT %s"


def partition_read_params(slots: Sequence[int], types: list[str], limit: int) -> list[Any]:
    """The parameters of :func:`partition_read_sql`."""
    return [v for _ in slots for v in (types, limit)] + [limit]


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
    # Left to its costs, PostgreSQL plans a slot that holds tenants otherwise (docs/scaling.md,
    # "Why 4 partitions cost PostgreSQL twice the CPU"): events_pkey, filtered on the slot
    # (the slot index's heap order looks random, the log's is sequential), which walks every
    # event of every tenant after the checkpoint in each such branch; or, in the generic plan
    # of a prepared statement (blind to the slot), a sorted bitmap scan of the slot's whole
    # rest. So the slot and the position are written into the statement (each read planned
    # for its own values, never prepared), the position bound is a row comparison on the
    # index's keys (only events_slot_position can take it as a range), and the read runs with
    # random_page_cost = 1.1 (the log's recent pages are cached) and no bitmap scans.
    slots = slots_of(partitions, count)
    parts = sorted(partitions)

    params = partition_read_params(slots, type_list, limit)
    filters = (limit, tuple(type_list), "partitions", count, tuple(parts))
    rows = store._prefetched(after, filters)
    if rows is None:
        rows = _fetch(store, partition_read_sql(slots, after), params)
    if len(rows) == limit >= PREFETCH_MIN_PAGE:
        # The next page, read meanwhile (what EventStore._prefetch does, with this fetch).
        nxt = rows[-1][0]
        store._pending.page = (
            nxt,
            filters,
            _prefetcher().submit(_fetch, store, partition_read_sql(slots, nxt), params),
        )
    with store.engine.connect() as conn, _collector_paused():
        return store._decode(conn, rows, decrypt)


PLANNER_SQL = (
    "SELECT set_config('random_page_cost', '1.1', true), "
    "set_config('enable_bitmapscan', 'off', true)"
)


def _fetch(store: EventStore, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """The rows of one partitioned read, through ``EventStore._fetch``, planned with
    :data:`PLANNER_SQL`'s settings for this transaction only (the pool rolls the connection
    back on return)."""
    return store._fetch(sql, params, setup=PLANNER_SQL)

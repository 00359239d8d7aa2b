"""Partitions of a projection: which events belong to which, and how one is read.

Everything a projection folds is per tenant, so a projection's events are split into ``P``
partitions by a stable hash of their tenant id: the first 28 bits of the MD5 of the tenant
id's text, modulo ``P``. A tenant's events all fall in one partition and stay in log order
there. The same function is computed in SQL (:data:`PARTITION_SQL`, for reads) and in
Python (:func:`partition_of`, for checks), and never changes with the PostgreSQL version.

``COMPOUND_PROJECTION_PARTITIONS`` (default 4) sets ``P`` for projections registered or
rebuilt from now on; a projection keeps the ``P`` stored in its ``projections`` row until
its partitions line up (shared/projections/runtime.py). docs/scaling.md explains the design.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Any

from shared.eventlog import EventStore, RecordedEvent
from shared.eventlog.store import _COLUMNS, PREFETCH_MIN_PAGE, _collector_paused
from shared.settings import projection_lease_seconds, projection_partitions

PARTITION_SQL = "mod(('x' || substr(md5(tenant_id::text), 1, 7))::bit(28)::integer, {count})"
"""SQL of an event's partition among ``count`` (format ``count`` in: an integer)."""


def partition_of(tenant_id: object, count: int) -> int:
    """The partition, among ``count``, of the events of tenant ``tenant_id``."""
    digest = hashlib.md5(str(tenant_id).encode(), usedforsecurity=False).hexdigest()
    return int(digest[:7], 16) % count


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
    predicate = PARTITION_SQL.format(count=int(count))
    sql = (
        f"SELECT {_COLUMNS} FROM events WHERE position > %s AND type = ANY(%s) "
        f"AND {predicate} = ANY(%s) ORDER BY position LIMIT %s"
    )
    parts = sorted(partitions)
    params: list[Any] = [after, type_list, parts, limit]
    filters = (limit, tuple(type_list), "partitions", count, tuple(parts))
    rows = store._prefetched(after, filters)
    if rows is None:
        rows = store._fetch(sql, params)
    if len(rows) == limit >= PREFETCH_MIN_PAGE:
        store._prefetch(rows[-1][0], filters, sql, [rows[-1][0], *params[1:]])
    with store.engine.connect() as conn, _collector_paused():
        return store._decode(conn, rows, decrypt)

"""The projector runtime: checkpoints, catch-up, poison events, shadow rebuilds.

A :class:`Projection` has a name, a version, the event types it handles, its tables, and
``apply(conn, events, tables)``. The runtime keeps one row per projection in ``projections``
and one checkpoint per partition of it in ``projection_partitions`` (a projection's events
are split into partitions by tenant: shared/projections/partitions.py, docs/scaling.md):

* **catch-up** of one partition (or of several together) reads their handled events after
  their checkpoints in large batches and applies each batch in one transaction that also
  advances their checkpoints. The checkpoint rows are locked ``FOR UPDATE``, so two workers
  never apply the same batch, and a redelivered or duplicate wake-up finds nothing left to
  do; worker processes apply different partitions at the same time. The transaction ends the
  session if it stays idle longer than the lease (``COMPOUND_PROJECTION_LEASE_SECONDS``), so
  a frozen worker's partitions pass to another and its late commit fails.
  ``projections.position``, what readers wait for, is the lowest of the partitions'
  checkpoints, kept in the same transactions.
* a **poison event** (``apply`` raises) rolls back its batch; the runtime then applies one
  event at a time up to the culprit, marks the projection ``failed`` with the error and the
  event's position (every partition of it stops), and leaves every other projection alone.
* **rebuild** builds generation *g+1* of the tables (``{table}__g{n}``) from position 0 while
  generation *g* keeps serving through the view ``{table}``, then switches the views and the
  checkpoints (every partition's at the final position, split into the runtime's number of
  partitions) in one transaction. One read of the log feeds every projection rebuilt; one
  with a rebuild fold (``begin_rebuild()``) folds the whole log in memory and writes its
  tables once (shared/projections/bulk.py), the others apply page by page.

Projections use event time only, never the wall clock, so an incremental run and a rebuild
produce the same rows (tests/integration/test_projection_determinism.py).
"""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy import Connection, text
from sqlalchemy.exc import OperationalError

from shared.eventlog import EventStore, RecordedEvent
from shared.gc_pause import collector_paused as paused_collector
from shared.projections.partitions import (
    lease_seconds_from_env,
    partition_of,
    partitions_from_env,
    read_partitions,
)

log = logging.getLogger("compound.projections")
BATCH = 5000

LIST_SQL = "string_to_array(%s, ',')"
"""SQL of a text[] parameter sent as one :func:`joined` string: several times cheaper to
adapt than a list. Only for values that never hold a comma: ids, ISO weeks, tactics (names
from a fixed set, as the event schemas check), dates and numbers."""


def joined(values: Iterable[str]) -> str:
    """The parameter of a :data:`LIST_SQL` (values must not hold a comma)."""
    return ",".join(values)


_Apply = TypeVar("_Apply", bound=Callable[..., None])


def collector_paused(apply: _Apply) -> _Apply:
    """Run ``apply`` with the cyclic garbage collector paused (shared/gc_pause.py): folding a
    batch allocates thousands of tuples without reference cycles, and the collector's scans
    over them cost about a tenth of the time."""
    return paused_collector()(apply)


class RebuildFold(Protocol):
    """A rebuild that folds the whole log in memory and writes its tables once at the end.

    The runtime feeds it every page of the projection's events, in log order, then calls
    :meth:`flush` once, in the transaction that finishes the pass. Events appended during
    the flush, and everything after the switch, go through :meth:`Projection.apply`: a fold
    must leave exactly the rows that ``apply`` would have left.
    """

    def fold(self, events: Sequence[RecordedEvent]) -> None:
        """Fold one page of the projection's events (in log order) into memory."""

    def flush(self, conn: Connection, tables: Mapping[str, str]) -> None:
        """Write the folded rows into ``tables`` (base -> physical shadow table name)."""


class Projection(ABC):
    """A read model fed by events. Subclasses set the class attributes and ``apply``."""

    name: str
    version: int
    handles: frozenset[str]
    tables: Mapping[str, str]
    """Base table name -> column definitions (the body of CREATE TABLE)."""
    wake_throttle_seconds: float = 0.02
    """How often, at most, appends wake this projection (shared.wakeups.Wakeups): each wake-up
    applies everything committed since the last. A per-event read model (capital) wants it
    short; a weekly aggregate (levers) is as fresh a second later and much cheaper to fold
    in larger batches."""
    indexes: Mapping[str, Sequence[str]] = {}
    """Base table name -> index column lists."""
    needs_personal_data: bool = False
    """Whether ``apply`` reads personal fields (otherwise they arrive sealed: no decryption)."""

    @abstractmethod
    def apply(
        self, conn: Connection, events: Sequence[RecordedEvent], tables: Mapping[str, str]
    ) -> None:
        """Fold ``events`` into the tables named by ``tables`` (base -> physical name)."""

    def begin_rebuild(self) -> RebuildFold | None:
        """A fold for a rebuild of this projection, or ``None`` to rebuild through
        :meth:`apply` page by page (the default)."""
        return None


@dataclass(frozen=True)
class Status:
    name: str
    version: int
    generation: int
    position: int
    head: int
    lag_events: int
    lag_seconds: float
    status: str
    last_error: str | None
    error_position: int | None
    rebuilding: int | None
    rebuild_position: int | None
    partitions: tuple[int, ...] = ()
    """Each partition's checkpoint, in partition order (``position`` is the lowest)."""


def physical(base: str, generation: int) -> str:
    return f"{base}__g{generation}"


def _table_names(projection: Projection, generation: int) -> dict[str, str]:
    return {base: physical(base, generation) for base in projection.tables}


class Runtime:
    """Runs projections against the event store."""

    def __init__(
        self,
        store: EventStore,
        projections: Sequence[Projection],
        batch: int = BATCH,
        partitions: int | None = None,
        lease_seconds: float | None = None,
    ):
        self.store = store
        self.projections = {p.name: p for p in projections}
        self.batch = batch
        self.partitions = max(1, partitions or partitions_from_env())
        """Partitions of projections registered or rebuilt by this runtime (a projection's
        own number is in its ``projections`` row)."""
        self.lease_seconds = lease_seconds or lease_seconds_from_env()
        self._ensured = False

    @property
    def engine(self) -> Any:
        return self.store.engine

    # -- setup ---------------------------------------------------------------------------------

    def ensure(self) -> None:
        """Register every projection and create generation 1 of its tables if missing; give
        each its checkpoint rows, split into :attr:`partitions` once they line up."""
        self._ensured = True
        for projection in self.projections.values():
            with self.engine.begin() as conn:
                inserted = conn.execute(
                    text(
                        "INSERT INTO projections (name, version, generation, partitions) "
                        "VALUES (:n, :v, 1, :k) ON CONFLICT (name) DO NOTHING RETURNING name"
                    ),
                    {"n": projection.name, "v": projection.version, "k": self.partitions},
                ).first()
                if inserted is not None:
                    self._create_tables(conn, projection, 1)
                    self._switch_views(conn, projection, 1)
                # A partition without a row starts at the projection's position (the lowest
                # of all: nothing after it was applied in a partition that had no row).
                conn.execute(
                    text(
                        "INSERT INTO projection_partitions (projection, partition, position) "
                        "SELECT name, k, position FROM projections, "
                        "generate_series(0, partitions - 1) AS k WHERE name = :n "
                        "ON CONFLICT DO NOTHING"
                    ),
                    {"n": projection.name},
                )
            with self.engine.begin() as conn:
                self._repartition(conn, projection.name)

    def _lock_partitions(self, conn: Connection, name: str) -> list[tuple[int, int]]:
        """Lock every checkpoint row of ``name``, in partition order: (partition, position)."""
        rows = conn.execute(
            text(
                "SELECT partition, position FROM projection_partitions WHERE projection = :n "
                "ORDER BY partition FOR UPDATE"
            ),
            {"n": name},
        ).all()
        return [(int(r.partition), int(r.position)) for r in rows]

    def _repartition(self, conn: Connection, name: str, position: int | None = None) -> bool:
        """Split ``name`` into :attr:`partitions` checkpoints if all of them are at one
        position (``position``: set them all there, as a rebuild's switch does). Locks the
        checkpoint rows, then the projection's row (the order every writer follows)."""
        rows = self._lock_partitions(conn, name)
        row = conn.execute(
            text("SELECT position, partitions FROM projections WHERE name = :n FOR UPDATE"),
            {"n": name},
        ).one()
        if position is None:
            if row.partitions == self.partitions and len(rows) == self.partitions:
                return False
            positions = {max(p, int(row.position)) for _, p in rows} or {int(row.position)}
            if len(positions) > 1:
                log.info(
                    "projection %s keeps %d partitions until they line up",
                    name,
                    row.partitions,
                )
                return False
            position = positions.pop()
        conn.execute(
            text(
                "UPDATE projection_partitions SET position = :p, updated_at = now() "
                "WHERE projection = :n AND partition < :k"
            ),
            {"p": position, "n": name, "k": self.partitions},
        )
        conn.execute(
            text("DELETE FROM projection_partitions WHERE projection = :n AND partition >= :k"),
            {"n": name, "k": self.partitions},
        )
        conn.execute(
            text(
                "INSERT INTO projection_partitions (projection, partition, position) "
                "SELECT :n, k, :p FROM generate_series(0, :k - 1) AS k ON CONFLICT DO NOTHING"
            ),
            {"p": position, "n": name, "k": self.partitions},
        )
        conn.execute(
            text("UPDATE projections SET partitions = :k, position = :p WHERE name = :n"),
            {"p": position, "n": name, "k": self.partitions},
        )
        return True

    def partition_count(self, name: str) -> int:
        """How many partitions projection ``name`` has now."""
        return self.backlog(name)[0]

    def backlog(self, name: str) -> tuple[int, int]:
        """Projection ``name``'s partitions, and how far its position is behind the head of
        the log (in positions: an upper bound of the events it has to apply)."""
        if not self._ensured:
            self.ensure()
        with self.engine.connect() as conn:
            row = conn.execute(
                text(
                    "SELECT partitions, (SELECT coalesce(max(position), 0) FROM events) "
                    "- position AS behind FROM projections WHERE name = :n"
                ),
                {"n": name},
            ).one()
        return int(row.partitions), max(0, int(row.behind))

    def _create_tables(self, conn: Connection, projection: Projection, generation: int) -> None:
        for base, columns in projection.tables.items():
            name = physical(base, generation)
            conn.execute(text(f"DROP TABLE IF EXISTS {name}"))
            conn.execute(text(f"CREATE TABLE {name} ({columns})"))
            for i, cols in enumerate(projection.indexes.get(base, ())):
                conn.execute(text(f"CREATE INDEX {name}_i{i} ON {name} ({cols})"))

    def _switch_views(self, conn: Connection, projection: Projection, generation: int) -> None:
        for base in projection.tables:
            conn.execute(text(f"DROP VIEW IF EXISTS {base}"))
            conn.execute(text(f"CREATE VIEW {base} AS SELECT * FROM {physical(base, generation)}"))

    # -- catch-up --------------------------------------------------------------------------------

    def catch_up(
        self, name: str, max_batches: int | None = None, partition: int | None = None
    ) -> int:
        """Apply every pending event of projection ``name``; returns how many were applied.

        ``partition``: only that partition's (a worker's share); default: all partitions,
        together in this one call. Safe to call from several workers at once: only one
        applies a given batch of a partition.
        """
        projection = self.projections[name]
        if not self._ensured:
            self.ensure()
        applied = 0
        single = False
        batches = 0
        while max_batches is None or batches < max_batches:
            batches += 1
            try:
                count, done = self._catch_up_once(
                    projection, 1 if single else self.batch, partition
                )
            except _PoisonEvent as poison:
                if not single and poison.batch_size > 1:
                    single = True  # find the culprit: apply one event at a time
                    continue
                self._mark_failed(projection, poison)
                return applied
            applied += count
            if done:
                return applied
        return applied

    def _catch_up_once(
        self, projection: Projection, limit: int, partition: int | None = None
    ) -> tuple[int, bool]:
        with self.engine.begin() as conn:
            # A second worker waits for the first rather than skipping: whatever committed
            # while the first was busy is then applied by the second, so no wake-up is lost.
            # A worker that stops answering loses its session, and so its locks, after the
            # lease: its partitions pass on and its late commit fails.
            conn.execute(text("SET LOCAL lock_timeout = '10s'"))
            conn.execute(
                text("SELECT set_config('idle_in_transaction_session_timeout', :t, true)"),
                {"t": f"{int(self.lease_seconds * 1000)}ms"},
            )
            try:
                locked = conn.execute(
                    text(
                        "SELECT partition, position FROM projection_partitions "
                        "WHERE projection = :n AND (CAST(:k AS integer) IS NULL OR partition = :k) "
                        "ORDER BY partition FOR UPDATE"
                    ),
                    {"n": projection.name, "k": partition},
                ).all()
            except OperationalError as err:
                if "lock timeout" in str(err):
                    return 0, True  # someone holds it for long: the scheduler will come back
                raise
            if not locked:
                return 0, True  # no such partition (any more): nothing of ours to do
            row = conn.execute(
                text(
                    "SELECT generation, position, status, partitions FROM projections "
                    "WHERE name = :n"
                ),
                {"n": projection.name},
            ).first()
            if row is None or row.status != "live":
                return 0, True
            count = int(row.partitions)
            # A projection's position is a floor for every partition (the lowest of them, or
            # a position it was moved to by hand).
            starts = {int(r.partition): max(int(r.position), int(row.position)) for r in locked}
            head = int(
                conn.execute(text("SELECT coalesce(max(position), 0) FROM events")).scalar_one()
            )
            low = min(starts.values())
            events = read_partitions(
                self.store,
                low,
                limit,
                types=projection.handles,
                partitions=list(starts),
                count=count,
                decrypt=projection.needs_personal_data,
            )
            full = len(events) == limit
            last = events[-1].position if events else 0
            mine = events
            if len(set(starts.values())) > 1:  # partitions at different checkpoints
                mine = [e for e in events if e.position > starts[partition_of(e.tenant_id, count)]]
            if mine:
                try:
                    with conn.begin_nested():
                        projection.apply(conn, mine, _table_names(projection, row.generation))
                except Exception as err:
                    if isinstance(err, OperationalError) or getattr(
                        err, "connection_invalidated", False
                    ):
                        raise  # the server or the connection, not the event (lease ran out)
                    raise _PoisonEvent(mine[0].position, len(events), err) from err
            reached = last if full else max(head, last)
            conn.execute(
                text(
                    "UPDATE projection_partitions SET position = :p, updated_at = now() "
                    "WHERE projection = :n AND partition = :k AND position < :p"
                ),
                [
                    {"p": max(reached, start), "n": projection.name, "k": k}
                    for k, start in starts.items()
                ],
            )
            # The projection's position: the lowest checkpoint, read after taking its row so
            # that partitions committing meanwhile are seen (no stale minimum is written).
            conn.execute(
                text("SELECT 1 FROM projections WHERE name = :n FOR UPDATE"),
                {"n": projection.name},
            )
            conn.execute(
                text(
                    "UPDATE projections SET position = greatest(position, "
                    "(SELECT min(position) FROM projection_partitions WHERE projection = :n)), "
                    "updated_at = now() WHERE name = :n"
                ),
                {"n": projection.name},
            )
            return len(mine), not full

    def _mark_failed(self, projection: Projection, poison: _PoisonEvent) -> None:
        log.error(
            "projection %s stopped at position %s: %r",
            projection.name,
            poison.position,
            poison.error,
        )
        with self.engine.begin() as conn:
            conn.execute(
                text(
                    "UPDATE projections SET status = 'failed', last_error = :e, "
                    "error_position = :p, updated_at = now() WHERE name = :n"
                ),
                {
                    "e": f"{type(poison.error).__name__}: {poison.error}"[:2000],
                    "p": poison.position,
                    "n": projection.name,
                },
            )

    def retry(self, name: str) -> None:
        """Clear a failure so catch-up tries the poison event again (after a fix)."""
        with self.engine.begin() as conn:
            conn.execute(
                text(
                    "UPDATE projections SET status = 'live', last_error = NULL, "
                    "error_position = NULL WHERE name = :n"
                ),
                {"n": name},
            )

    # -- rebuild ---------------------------------------------------------------------------------

    def rebuild(self, name: str, progress: Callable[[int, int], None] | None = None) -> int:
        """Build the next generation from position 0 beside the live one, then switch.

        Returns the new generation. ``progress(position, head)`` is called after each batch.
        """
        return self.rebuild_many([name], progress)[name]

    def rebuild_many(
        self, names: Sequence[str], progress: Callable[[int, int], None] | None = None
    ) -> dict[str, int]:
        """Rebuild several projections in one pass over the log (each event read once).

        Each gets its next generation beside the live one; all switch together at the end,
        in one transaction that holds their checkpoint rows. Returns name -> new generation.
        """
        projections = [self.projections[n] for n in sorted(set(names))]
        if not self._ensured:
            self.ensure()
        generations: dict[str, int] = {}
        with self.engine.begin() as conn:
            for projection in projections:
                row = conn.execute(
                    text("SELECT generation FROM projections WHERE name = :n"),
                    {"n": projection.name},
                ).one()
                generations[projection.name] = row.generation + 1
                self._create_tables(conn, projection, row.generation + 1)
                conn.execute(
                    text(
                        "UPDATE projections SET rebuilding = :g, rebuild_position = 0 "
                        "WHERE name = :n"
                    ),
                    {"g": row.generation + 1, "n": projection.name},
                )
        tables = {p.name: _table_names(p, generations[p.name]) for p in projections}
        handles = frozenset().union(*(p.handles for p in projections))
        personal = any(p.needs_personal_data for p in projections)
        # A projection may fold the whole log in memory and write its tables once at the
        # end (``begin_rebuild()`` -> an object with ``fold(events)`` and ``flush(conn,
        # tables)``); the events appended during its flush, and catch-up, go through apply().
        folders: dict[str, RebuildFold] = {}
        for projection in projections:
            fold = projection.begin_rebuild()
            if fold is not None:
                folders[projection.name] = fold
        split = _Splitter(projections)

        def apply_next(conn: Connection, position: int) -> tuple[int, bool]:
            head = int(
                conn.execute(text("SELECT coalesce(max(position), 0) FROM events")).scalar_one()
            )
            events = self.store.read_all(position, self.batch, types=handles, decrypt=personal)
            for projection, mine in zip(projections, split(events), strict=True):
                if mine and projection.name in folders:
                    folders[projection.name].fold(mine)
                elif mine:
                    projection.apply(conn, mine, tables[projection.name])
            if len(events) < self.batch:
                return max(position, head, events[-1].position if events else 0), True
            return events[-1].position, False

        # The pass keeps what the folds hold (hundreds of thousands of small objects, no
        # cycles among them) and makes as many per page: with the cyclic collector running,
        # its scans of that growing state cost more than a tenth of the rebuild.
        with paused_collector():
            position = 0
            while True:  # catch up outside the live rows' locks; the live versions keep serving
                with self.engine.begin() as conn:
                    position, done = apply_next(conn, position)
                    conn.execute(
                        text("UPDATE projections SET rebuild_position = :p WHERE name = ANY(:n)"),
                        {"p": position, "n": list(generations)},
                    )
                if progress:
                    progress(position, self.store.head())
                if done:
                    break
            if folders:
                with self.engine.begin() as conn:
                    for name, folder in folders.items():
                        folder.flush(conn, tables[name])
                folders.clear()
        with self.engine.begin() as conn:  # the switch: lock the live rows, finish, swap
            old = {}
            for projection in projections:  # checkpoints first, as catch-ups take them
                self._lock_partitions(conn, projection.name)
            for projection in projections:  # in name order: no deadlock between rebuilds
                old[projection.name] = (
                    conn.execute(
                        text("SELECT generation FROM projections WHERE name = :n FOR UPDATE"),
                        {"n": projection.name},
                    )
                    .one()
                    .generation
                )
            done = False
            while not done:
                position, done = apply_next(conn, position)
            for projection in projections:
                self._switch_views(conn, projection, generations[projection.name])
                conn.execute(
                    text(
                        "UPDATE projections SET generation = :g, position = :p, version = :v, "
                        "status = 'live', last_error = NULL, error_position = NULL, "
                        "rebuilding = NULL, rebuild_position = NULL, updated_at = now() "
                        "WHERE name = :n"
                    ),
                    {
                        "g": generations[projection.name],
                        "p": position,
                        "v": projection.version,
                        "n": projection.name,
                    },
                )
                # Every partition checkpoint at the final position, split anew.
                self._repartition(conn, projection.name, position)
                for base in projection.tables:
                    conn.execute(
                        text(f"DROP TABLE IF EXISTS {physical(base, old[projection.name])}")
                    )
        return generations

    # -- status ----------------------------------------------------------------------------------

    def status(self) -> list[Status]:
        with self.engine.connect() as conn:
            head = int(
                conn.execute(text("SELECT coalesce(max(position), 0) FROM events")).scalar_one()
            )
            rows = conn.execute(text("SELECT * FROM projections ORDER BY name")).all()
            result = []
            for row in rows:
                oldest = conn.execute(
                    text("SELECT min(recorded_at) FROM events WHERE position > :p"),
                    {"p": row.position},
                ).scalar()
                lag_seconds = (
                    (datetime.now(UTC) - oldest).total_seconds() if oldest is not None else 0.0
                )
                result.append(
                    Status(
                        row.name,
                        row.version,
                        row.generation,
                        row.position,
                        head,
                        max(0, head - row.position),
                        round(max(0.0, lag_seconds), 3),
                        row.status,
                        row.last_error,
                        row.error_position,
                        row.rebuilding,
                        row.rebuild_position,
                        tuple(
                            max(int(p), int(row.position))
                            for p in conn.execute(
                                text(
                                    "SELECT position FROM projection_partitions "
                                    "WHERE projection = :n ORDER BY partition"
                                ),
                                {"n": row.name},
                            ).scalars()
                        ),
                    )
                )
        return result

    def wait_for(self, name: str, position: int, timeout: float) -> int:
        """Wait (bounded) until ``name`` has reached ``position``; returns where it is."""
        deadline = time.monotonic() + timeout
        delay = 0.005
        while True:
            with self.engine.connect() as conn:
                reached, head = conn.execute(
                    text(
                        "SELECT position, (SELECT coalesce(max(position), 0) FROM events) "
                        "FROM projections WHERE name = :n"
                    ),
                    {"n": name},
                ).one()
            # A position beyond the log's head cannot be reached by waiting: answer at once.
            if reached >= position or position > head or time.monotonic() >= deadline:
                return int(reached)
            time.sleep(delay)
            delay = min(delay * 2, 0.1)


class _Splitter:
    """Splits a page of events among projections (each gets the events of its types, in log
    order) in one pass over the page; a projection that handles every type read gets the
    page itself."""

    def __init__(self, projections: Sequence[Projection]):
        self.count = len(projections)
        every = frozenset().union(*(p.handles for p in projections))
        self.whole = [p.handles >= every for p in projections]
        self.takers = {
            t: [i for i, p in enumerate(projections) if t in p.handles and not self.whole[i]]
            for t in every
        }

    def __call__(self, events: Sequence[RecordedEvent]) -> list[Sequence[RecordedEvent]]:
        parts: list[list[RecordedEvent]] = [[] for _ in range(self.count)]
        adders = {t: [parts[i].append for i in takers] for t, takers in self.takers.items()}
        for e in events:
            for add in adders[e.type]:
                add(e)
        return [events if whole else part for whole, part in zip(self.whole, parts, strict=True)]


class _PoisonEvent(Exception):
    def __init__(self, position: int, batch_size: int, error: Exception):
        super().__init__(f"event at {position} failed: {error!r}")
        self.position, self.batch_size, self.error = position, batch_size, error

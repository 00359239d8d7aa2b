"""The projector runtime: checkpoints, catch-up, poison events, shadow rebuilds.

A :class:`Projection` has a name, a version, the event types it handles, its tables, and
``apply(conn, events, tables)``. The runtime keeps one row per projection in ``projections``:

* **catch-up** reads the handled events after the checkpoint in large batches and applies
  each batch in one transaction that also advances the checkpoint. The checkpoint row is
  locked ``FOR UPDATE``, so two workers never apply the same batch, and a redelivered or
  duplicate wake-up finds nothing left to do.
* a **poison event** (``apply`` raises) rolls back its batch; the runtime then applies one
  event at a time up to the culprit, marks the projection ``failed`` with the error and the
  event's position, and leaves every other projection alone.
* **rebuild** builds generation *g+1* of the tables (``{table}__g{n}``) from position 0 while
  generation *g* keeps serving through the view ``{table}``, then switches the views and the
  checkpoint in one transaction.

Projections use event time only, never the wall clock, so an incremental run and a rebuild
produce the same rows (tests/integration/test_projection_determinism.py).
"""

from __future__ import annotations

import functools
import gc
import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, text
from sqlalchemy.exc import OperationalError

from shared.eventlog import EventStore, RecordedEvent

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
    """Run ``apply`` with the cyclic garbage collector paused, as the event store does while
    it reads a page: folding a batch allocates thousands of tuples without reference cycles,
    and the collector's scans over them cost about a tenth of the time."""

    @functools.wraps(apply)
    def paused(*args: Any, **kwargs: Any) -> None:
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            apply(*args, **kwargs)
        finally:
            if was_enabled:
                gc.enable()

    return paused  # type: ignore[return-value]


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


def physical(base: str, generation: int) -> str:
    return f"{base}__g{generation}"


def _table_names(projection: Projection, generation: int) -> dict[str, str]:
    return {base: physical(base, generation) for base in projection.tables}


class Runtime:
    """Runs projections against the event store."""

    def __init__(self, store: EventStore, projections: Sequence[Projection], batch: int = BATCH):
        self.store = store
        self.projections = {p.name: p for p in projections}
        self.batch = batch
        self._ensured = False

    @property
    def engine(self) -> Any:
        return self.store.engine

    # -- setup ---------------------------------------------------------------------------------

    def ensure(self) -> None:
        """Register every projection and create generation 1 of its tables if missing."""
        self._ensured = True
        for projection in self.projections.values():
            with self.engine.begin() as conn:
                inserted = conn.execute(
                    text(
                        "INSERT INTO projections (name, version, generation) "
                        "VALUES (:n, :v, 1) ON CONFLICT (name) DO NOTHING RETURNING name"
                    ),
                    {"n": projection.name, "v": projection.version},
                ).first()
                if inserted is not None:
                    self._create_tables(conn, projection, 1)
                    self._switch_views(conn, projection, 1)

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

    def catch_up(self, name: str, max_batches: int | None = None) -> int:
        """Apply every pending event of projection ``name``; returns how many were applied.

        Safe to call from several workers at once: only one applies a given batch.
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
                count, done = self._catch_up_once(projection, 1 if single else self.batch)
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

    def _catch_up_once(self, projection: Projection, limit: int) -> tuple[int, bool]:
        with self.engine.begin() as conn:
            # A second worker waits for the first rather than skipping: whatever committed
            # while the first was busy is then applied by the second, so no wake-up is lost.
            conn.execute(text("SET LOCAL lock_timeout = '10s'"))
            try:
                row = conn.execute(
                    text(
                        "SELECT generation, position, status FROM projections WHERE name = :n "
                        "FOR UPDATE"
                    ),
                    {"n": projection.name},
                ).first()
            except OperationalError as err:
                if "lock timeout" in str(err):
                    return 0, True  # someone holds it for long: the scheduler will come back
                raise
            if row is None or row.status != "live":
                return 0, True
            head = int(
                conn.execute(text("SELECT coalesce(max(position), 0) FROM events")).scalar_one()
            )
            events = self.store.read_all(
                row.position,
                limit,
                types=projection.handles,
                decrypt=projection.needs_personal_data,
            )
            if events:
                try:
                    with conn.begin_nested():
                        projection.apply(conn, events, _table_names(projection, row.generation))
                except Exception as err:
                    raise _PoisonEvent(events[0].position, len(events), err) from err
            full = len(events) == limit
            position = (
                events[-1].position
                if full
                else max(head, row.position, events[-1].position if events else 0)
            )
            conn.execute(
                text("UPDATE projections SET position = :p, updated_at = now() WHERE name = :n"),
                {"p": position, "n": projection.name},
            )
            return len(events), not full

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

        def apply_next(conn: Connection, position: int) -> tuple[int, bool]:
            head = int(
                conn.execute(text("SELECT coalesce(max(position), 0) FROM events")).scalar_one()
            )
            events = self.store.read_all(position, self.batch, types=handles, decrypt=personal)
            for projection in projections:
                mine = [e for e in events if e.type in projection.handles]
                if mine:
                    projection.apply(conn, mine, tables[projection.name])
            if len(events) < self.batch:
                return max(position, head, events[-1].position if events else 0), True
            return events[-1].position, False

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
        with self.engine.begin() as conn:  # the switch: lock the live rows, finish, swap
            old = {}
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


class _PoisonEvent(Exception):
    def __init__(self, position: int, batch_size: int, error: Exception):
        super().__init__(f"event at {position} failed: {error!r}")
        self.position, self.batch_size, self.error = position, batch_size, error

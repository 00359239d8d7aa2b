"""Shadow rebuilds: the next generation of projections' tables built from position 0 beside
the live one, then switched to in one transaction.

Generation *g+1* of the tables (``{table}__g{n}``) is built from position 0 while generation
*g* keeps serving through the view ``{table}``; then the views and the checkpoints (every
partition's at the final position, split into the runtime's number of partitions) switch in
one transaction. One read of the log feeds every projection rebuilt with a rebuild fold
(``begin_rebuild()``): it folds the log a group of people at a time and writes each group's
rows as it goes (shared/projections/chunked.py); the others apply it page by page. Either
way, what was appended meanwhile is applied (``apply()``) in the switch's transaction.

Poison events are handled as catch-up handles them (rebuild equals catch-up, quarantine
included): a page is applied through :func:`apply_isolated`, which quarantines the tenant at
the same event, in the new generation's rows of ``projection_quarantine`` (they replace the
live generation's at the switch). A fold that raises sends its projection back to a rebuild
page by page in log order, which finds the poison event as catch-up did; the other
projections' folds go on.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, text

from shared.eventlog import EventStore, RecordedEvent
from shared.eventlog.chunked_reads import DEFAULT_CHUNK_EVENTS
from shared.projections.chunked import ChunkedRebuild, Progress
from shared.projections.projection import Projection, readable
from shared.projections.quarantine import (
    Poison,
    apply_isolated,
    forget,
    held_tenants,
    record,
    skipped_events,
    warn,
)
from shared.projections.tables import (
    create_tables,
    head_position,
    lock_partitions,
    physical,
    repartition,
    switch_views,
    table_names,
)


def rebuild_many(
    store: EventStore,
    projections: Sequence[Projection],
    *,
    batch: int,
    partitions: int,
    chunk_events: int = DEFAULT_CHUNK_EVENTS,
    progress: Progress | None = None,
    wanted: Mapping[str, int] | None = None,
) -> dict[str, int]:
    """Rebuild ``projections`` in one pass over the log (each event read once).

    Each gets its next generation beside the live one; all switch together at the end, in
    one transaction that holds their checkpoint rows. Those with a rebuild fold fold the
    log a group of people at a time (shared/projections/chunked.py: memory bounded by
    ``chunk_events``, not by the log); the others apply it page by page in log order.

    Parameters:
        store: the event store.
        projections: registered projections, in name order (the order their rows are
            locked in: two rebuilds never deadlock).
        batch: events read per page.
        partitions: checkpoints each projection gets at the switch.
        chunk_events: about how many events a fold holds at once.
        progress: called with (events done, head) as the pass goes.
        wanted: name -> the generation that answers the request (:func:`wanted_generation`,
            read when it was made). A projection whose live generation has reached it by
            the time this rebuild's turn comes is left as it is: a rebuild that started
            after the request has switched meanwhile. N erasures in a row so cost one or
            two rebuilds, not N. Missing: always rebuilt.

    Returns:
        Name -> the generation live now (new for those rebuilt).
    """
    with one_rebuild_at_a_time(store.engine, [p.name for p in projections]):
        live = _live_generations(store.engine, projections)
        todo = [
            p for p in projections if live[p.name] < (wanted or {}).get(p.name, live[p.name] + 1)
        ]
        if not todo:
            return live
        return live | _rebuild(store, todo, batch, partitions, chunk_events, progress)


def wanted_generation(conn: Connection, name: str) -> int:
    """The generation whose going live answers a rebuild requested now: one beyond the
    highest generation started, the live one or the one a running rebuild is building.

    A rebuild already running when the request came may have read the log before its cause
    (an erasure) was appended; one that starts later cannot have. Read after the cause
    commits: a rebuild the request then sees starting is counted as too early, which can
    only cost one rebuild more, never one too few.
    """
    row = conn.execute(
        text("SELECT generation, rebuilding FROM projections WHERE name = :n"), {"n": name}
    ).one()
    return max(row.generation, row.rebuilding or 0) + 1


def _live_generations(engine: Engine, projections: Sequence[Projection]) -> dict[str, int]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT name, generation FROM projections WHERE name = ANY(:n)"),
            {"n": [p.name for p in projections]},
        ).all()
    return {row.name: row.generation for row in rows}


REBUILD_LOCK_SPACE = 74_060
"""First key of the rebuilds' advisory locks (the second: the projection's name hashed)."""


@contextmanager
def one_rebuild_at_a_time(engine: Engine, names: Sequence[str]) -> Iterator[None]:
    """Hold, for the whole rebuild, a session-level advisory lock per projection (taken in
    name order: two rebuilds never deadlock), so a second rebuild of a projection waits for
    the first to switch.

    Two at once would both build generation *g+1*, in the same physical tables: one's
    ``create_tables`` drops the tables the other is filling, one's keys are dropped by the
    other, and a generation could go live without its primary keys, every later insert of
    catch-up failing (and quarantining every tenant). Two erasures in a row send two
    rebuilds, and two worker threads take them at once. The second one still runs after the
    first: it must not keep what the first folded before the second's cause was appended.
    The lock is a session's, not a transaction's: it is held between the rebuild's
    transactions, and released if the process dies (its connection closes).
    """
    conn = engine.connect()
    try:
        conn.execute(text("SET LOCAL statement_timeout = 0"))  # waiting is the point
        for name in sorted(set(names)):
            conn.execute(
                text("SELECT pg_advisory_lock(:space, hashtext(:name))"),
                {"space": REBUILD_LOCK_SPACE, "name": name},
            )
        conn.commit()  # the locks outlive the transaction: no transaction stays open
        yield
    finally:
        try:
            conn.execute(text("SELECT pg_advisory_unlock_all()"))
            conn.commit()
        finally:
            conn.close()


def _rebuild(
    store: EventStore,
    projections: Sequence[Projection],
    batch: int,
    partitions: int,
    chunk_events: int,
    progress: Progress | None,
) -> dict[str, int]:
    generations = _start(store.engine, projections)
    tables = {p.name: table_names(p, generations[p.name]) for p in projections}
    folding = [p for p in projections if p.begin_rebuild() is not None]
    paging = [p for p in projections if p not in folding]
    passes: list[tuple[_Pass, int]] = []
    if folding:
        chunked = ChunkedRebuild(store, folding, tables, chunk_events)
        head = chunked.run(progress)
        # An id used by more than one person (imports carry client-chosen ids) puts two
        # rows under one key in different chunks, and a fold that raised found a poison
        # event: such a projection is rebuilt again page by page in log order, as catch-up
        # would have applied it (its poison events quarantined as catch-up does).
        again = chunked.shared_ids | chunked.failed
        paging += [p for p in folding if p.name in again]
        folding = [p for p in folding if p.name not in again]
        if paging:
            with store.engine.begin() as conn:
                for projection in paging:
                    create_tables(conn, projection, generations[projection.name])
        if folding:
            passes.append((_Pass(store, folding, generations, batch), head))
    if paging:
        page_pass = _Pass(store, paging, generations, batch)
        passes.append((page_pass, page_pass.catch_up(progress)))
    _switch(store.engine, projections, generations, passes, partitions)
    return generations


def _start(engine: Engine, projections: Sequence[Projection]) -> dict[str, int]:
    """Create the next generation's tables of each projection and mark it rebuilding."""
    generations: dict[str, int] = {}
    with engine.begin() as conn:
        for projection in projections:
            row = conn.execute(
                text("SELECT generation FROM projections WHERE name = :n"),
                {"n": projection.name},
            ).one()
            generations[projection.name] = row.generation + 1
            create_tables(conn, projection, row.generation + 1)
            forget(conn, projection.name, row.generation + 1)  # of a rebuild abandoned
            conn.execute(
                text(
                    "UPDATE projections SET rebuilding = :g, rebuild_position = 0 WHERE name = :n"
                ),
                {"g": row.generation + 1, "n": projection.name},
            )
    return generations


class _Pass:
    """A read of the log page by page in log order, each page applied (``apply()``) to
    every projection of the pass: a rebuild of projections without a fold, and for every
    projection the events appended while its rebuild ran (in the switch's transaction).
    """

    def __init__(
        self,
        store: EventStore,
        projections: Sequence[Projection],
        generations: Mapping[str, int],
        batch: int,
    ):
        self.store = store
        self.projections = projections
        self.generations = generations
        self.tables = {p.name: table_names(p, generations[p.name]) for p in projections}
        self.batch = batch
        self.poisons: list[tuple[str, Poison]] = []
        """Poison events found in transactions not committed yet (:meth:`warn`)."""
        self.handles = frozenset().union(*(p.handles for p in projections))
        self.personal = any(p.needs_personal_data for p in projections)
        self.split = _Splitter(projections)

    def apply_next(self, conn: Connection, position: int) -> tuple[int, bool]:
        """Apply the next page after ``position``; returns where the page ended and whether
        it was the last."""
        head = head_position(conn)
        events = self.store.read_all(
            position, self.batch, types=self.handles, decrypt=self.personal
        )
        for projection, mine in zip(self.projections, self.split(readable(events)), strict=True):
            if mine:
                name, generation = projection.name, self.generations[projection.name]
                held = held_tenants(conn, name, generation)
                skipped = skipped_events(conn, name)
                tables = self.tables[name]
                outcome = apply_isolated(conn, projection, mine, tables, held, skipped)
                record(conn, name, generation, outcome)
                self.poisons += [(name, p) for p in outcome.poisons]
        if len(events) < self.batch:
            return max(position, head, events[-1].position if events else 0), True
        return events[-1].position, False

    def catch_up(self, progress: Progress | None, position: int = 0) -> int:
        """Every page after ``position`` up to the head, each in a transaction of its own
        outside the live rows' locks (the live versions keep serving). Returns the position
        reached."""
        names = [p.name for p in self.projections]
        while True:
            with self.store.engine.begin() as conn:
                position, done = self.apply_next(conn, position)
                conn.execute(
                    text("UPDATE projections SET rebuild_position = :p WHERE name = ANY(:n)"),
                    {"p": position, "n": names},
                )
            self.warn()
            if progress:
                progress(position, self.store.head())
            if done:
                return position

    def warn(self) -> None:
        """Log the poison events found, once their transaction committed."""
        for name, poison in self.poisons:
            warn(name, [poison])
        self.poisons = []


def _switch(
    engine: Engine,
    projections: Sequence[Projection],
    generations: Mapping[str, int],
    passes: Sequence[tuple[_Pass, int]],
    partitions: int,
) -> None:
    """Lock the live rows, apply what was appended meanwhile (each pass from where it
    ended), switch the views and the checkpoints and drop the old generations: one
    transaction."""
    with engine.begin() as conn:
        for projection in projections:  # checkpoints first, as catch-ups take them
            lock_partitions(conn, projection.name)
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
        reached: dict[str, int] = {}
        for rebuild, position in passes:
            done = False
            while not done:
                position, done = rebuild.apply_next(conn, position)
            reached.update((p.name, position) for p in rebuild.projections)
        for projection in projections:
            _go_live(conn, projection, generations[projection.name], reached[projection.name])
            # Every partition checkpoint at the final position, split anew.
            repartition(conn, projection.name, partitions, reached[projection.name])
            for base in projection.tables:
                conn.execute(text(f"DROP TABLE IF EXISTS {physical(base, old[projection.name])}"))
            forget(conn, projection.name, generations[projection.name], below=True)
    for rebuild, _ in passes:
        rebuild.warn()


def _go_live(conn: Connection, projection: Projection, generation: int, position: int) -> None:
    """Point the projection's views at ``generation`` and mark it live at ``position``."""
    switch_views(conn, projection, generation)
    conn.execute(
        text(
            "UPDATE projections SET generation = :g, position = :p, version = :v, "
            "status = 'live', last_error = NULL, error_position = NULL, "
            "rebuilding = NULL, rebuild_position = NULL, updated_at = now() "
            "WHERE name = :n"
        ),
        {"g": generation, "p": position, "v": projection.version, "n": projection.name},
    )


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

"""A rebuild in bounded memory: the log folded a group of people at a time, each group's
rows written as it goes.

Every rebuild fold keeps its state per person (capital, the journal's read models, the
person half of levers) or per team, and a person's events all live in their own streams.
So :class:`ChunkedRebuild` reads the log with ``EventStore.read_person_chunks``: the events
of no person first (organisation, team and pulse streams), then chunk after chunk every
event of a range of people, each chunk in log order, with the events of other streams that
name one of its people merged in (:class:`PersonChunks`). Each chunk is handed to every fold
(``RebuildFold.fold``) and written (``RebuildFold.flush``, COPY into the shadow tables, in a
transaction of its own, by a writer thread while the next chunk is folded); then the fold
lets go of it. Memory follows the chunk, about
``chunk_events`` events of state, not the log.

The shadow tables get their primary keys and indexes after the last chunk
(shared/projections/bulk.py); then each fold's ``finish`` writes what sums over people
(levers' team-weeks). A fold that raises (a poison event) is dropped from the pass, its
projection named in :attr:`ChunkedRebuild.failed`: the rebuild applies its log page by page
instead, quarantining the poison event's tenant as catch-up does (shared/projections/rebuild.py).
docs/architecture.md, "Projections", has the picture; docs/benchmarks.md the memory and speed.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from itertools import chain, compress
from operator import attrgetter

from sqlalchemy import text

from shared.copy_format import CopyBuffer
from shared.database import as_psycopg
from shared.eventlog import EventStore, RecordedEvent
from shared.eventlog.chunked_reads import END_OF_IDS, EventChunk
from shared.gc_pause import collector_paused
from shared.projections.bulk import DroppedKeys, analyse_table, drop_keys, restore_keys
from shared.projections.projection import Projection, RebuildFold
from shared.projections.quarantine import skipped_events

log = logging.getLogger("compound.projections")

FINISHERS = 2
"""Projections whose keys are built at once at the end of a rebuild (connections used)."""

Progress = Callable[[int, int], None]
"""``progress(done, head)``: how far a rebuild is, called as it goes. A page-by-page pass
gives the position it reached; a chunked pass the events it has folded, capped at ``head``
(it reaches ``head`` when the pass ends)."""


class PersonChunks:
    """The chunks of a chunked read as a rebuild folds them: each chunk of people with the
    events of other streams that name one of them (``data["person_id"]``: a team's manager
    assignment, in ``team-{id}``), merged by position.

    The events of no person come first; those naming a person are held back until the
    chunk of that person's streams (or, if that chunk is empty, a last chunk of their own),
    so a fold sees all of a person's events in one chunk, in log order. The rest (pulses,
    which name no one) are handed on at once.

    Parameters:
        chunks: ``EventStore.read_person_chunks``'s chunks.
    """

    def __init__(self, chunks: Iterable[EventChunk]):
        self.chunks = chunks
        self.held: dict[str, list[RecordedEvent]] = {}

    def __iter__(self) -> Iterator[tuple[list[RecordedEvent], bool]]:
        """Each chunk's events, and whether it is a chunk of people."""
        for chunk in self.chunks:
            if not chunk.people:
                yield self._hold(chunk.events), False
            elif not self.held:
                yield chunk.events, True
            else:
                yield self._merged(chunk), True
        if self.held:
            rest = [e for events in self.held.values() for e in events]
            self.held = {}
            yield sorted(rest, key=_position), True

    def _hold(self, events: list[RecordedEvent]) -> list[RecordedEvent]:
        """Hold back the events naming a person; return the others."""
        others = []
        for e in events:
            person = e.data.get("person_id")
            if isinstance(person, str) and person < END_OF_IDS:
                self.held.setdefault(person, []).append(e)
            else:
                others.append(e)
        return others

    def _merged(self, chunk: EventChunk) -> list[RecordedEvent]:
        """The chunk's events with those held for its people, in position order."""
        mine = [p for p in self.held if chunk.low <= p < chunk.high]
        if not mine:
            return chunk.events
        events = chunk.events + [e for p in mine for e in self.held.pop(p)]
        events.sort(key=_position)
        return events


def _position(event: RecordedEvent) -> int:
    return event.position


_erased = attrgetter("erased")
_type = attrgetter("type")


class ChunkedRebuild:
    """One chunked read of the log feeding the rebuild folds of several projections.

    Parameters:
        store: the event store.
        projections: projections whose ``begin_rebuild()`` gives a fold.
        tables: projection name -> base table name -> physical shadow table name.
        chunk_events: about how many events each chunk holds (one person's events are
            never split, so a chunk may hold more).
    """

    def __init__(
        self,
        store: EventStore,
        projections: Sequence[Projection],
        tables: Mapping[str, Mapping[str, str]],
        chunk_events: int,
    ):
        self.store = store
        self.projections = list(projections)
        self.tables = tables
        self.chunk_events = max(1, chunk_events)
        folds = {p.name: p.begin_rebuild() for p in projections}
        self.folds: dict[str, RebuildFold] = {n: f for n, f in folds.items() if f is not None}
        self.shared_ids: set[str] = set()
        """Projections whose tables held rows sharing a key across chunks (an id used by
        more than one person): their chunked rows cannot be trusted (see rebuild.py)."""
        self.skipped: dict[str, frozenset[uuid.UUID]] = {p.name: frozenset() for p in projections}
        """Projection name -> the events an operator skipped (read when the pass starts)."""
        self.failed: set[str] = set()
        """Projections whose fold raised (a poison event): their shadow tables hold part of
        a pass and are rebuilt page by page (see rebuild.py)."""
        self.written: dict[str, int] = dict.fromkeys(self.folds, 0)
        """Projection name -> the COPY text its fold has encoded (characters): the keys of
        the largest are built first (:meth:`_finish`)."""
        if len(self.folds) != len(self.projections):
            raise ValueError("every projection of a chunked rebuild needs a rebuild fold")

    def run(self, progress: Progress | None = None) -> int:
        """Fold and write every chunk up to the current head, then build the tables' keys
        and finish each fold.

        Each chunk's COPY text is sent by a writer thread, in a transaction of its own,
        while the next chunk is folded: PostgreSQL takes in one chunk while Python folds
        the next (at most one chunk waits to be sent).

        Parameters:
            progress: called with (events done, head) after each chunk is written.

        Returns:
            The head the pass read to: what was appended after it is for ``apply()``.
        """
        head = self.store.head()
        with self.store.engine.connect() as conn:
            self.skipped = {p.name: skipped_events(conn, p.name) for p in self.projections}
        dropped = self._drop_keys()
        handles = frozenset().union(*(p.handles for p in self.projections))
        personal = any(p.needs_personal_data for p in self.projections)
        chunks = self.store.read_person_chunks(
            head, chunk_events=self.chunk_events, types=handles, decrypt=personal
        )
        done = 0
        shared = True  # still among the events of no person
        sending: Future[None] | None = None
        # The collector stays paused for the whole pass, not chunk by chunk: a collection
        # between chunks scanned every object a chunk allocated (docs/events.md).
        with (
            collector_paused(),
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="rebuild-writer") as writer,
        ):
            try:
                # a last, empty chunk of people: what the events of no person gave is
                # written even when no one has events
                for events, people in chain(PersonChunks(chunks), [([], True)]):
                    done = min(head, done + len(events))
                    copies = CopyBuffer()
                    if people and shared:
                        self._end_shared(copies)
                        shared = False
                    self._fold(events, copies)
                    if sending is not None:
                        sending.result()
                    sending = writer.submit(self._send, copies, done, progress, head)
                if sending is not None:
                    sending.result()
            finally:
                if sending is not None:
                    sending.cancel()
        self._finish(dropped)
        if progress:
            progress(head, head)
        return head

    def _drop_keys(self) -> dict[str, DroppedKeys]:
        """Drop the shadow tables' keys and indexes (built again by :meth:`_finish`)."""
        with self.store.engine.begin() as conn:
            pg = as_psycopg(conn)
            return {p.name: drop_keys(pg, self.tables[p.name], p.indexes) for p in self.projections}

    def _end_shared(self, copies: CopyBuffer) -> None:
        """Have each fold encode what the events of no person gave it."""
        for name, fold in list(self.folds.items()):
            try:
                fold.end_shared(copies, self.tables[name])
            except Exception as err:
                self._drop(name, err)

    def _drop(self, name: str, err: Exception) -> None:
        """Leave out projection ``name``'s fold, which raised: it is rebuilt page by page."""
        log.info("rebuild of %s goes on page by page: its fold raised %r", name, err)
        del self.folds[name]
        self.failed.add(name)

    def _fold(self, events: Sequence[RecordedEvent], copies: CopyBuffer) -> None:
        """Hand each fold the chunk's events of its types, then have it encode its rows."""
        if any(map(_erased, events)):
            events = [e for e in events if not e.erased]
        types = list(map(_type, events))  # once per chunk, not once per projection
        for projection in self.projections:
            fold = self.folds.get(projection.name)
            if fold is None:
                continue  # it raised: rebuilt page by page
            mine = list(compress(events, map(projection.handles.__contains__, types)))
            skipped = self.skipped[projection.name]
            if skipped:  # poison events an operator skipped: catch-up leaves them out too
                mine = [e for e in mine if e.event_id not in skipped]
            start = len(copies.copies)
            try:
                if mine:
                    fold.fold(mine)
                fold.flush(copies, self.tables[projection.name])
            except Exception as err:
                self._drop(projection.name, err)
                continue
            added = copies.copies[start:]
            self.written[projection.name] += sum(len(p) for _, pieces in added for p in pieces)

    def _send(self, copies: CopyBuffer, done: int, progress: Progress | None, head: int) -> None:
        """Send a chunk's COPY text, and the progress, in one transaction (the writer's)."""
        with self.store.engine.begin() as conn:
            copies.send(as_psycopg(conn))
            conn.execute(
                text("UPDATE projections SET rebuild_position = :p WHERE name = ANY(:n)"),
                {"p": done, "n": list(self.folds)},
            )
        if progress:
            progress(done, head)

    def _finish(self, dropped: Mapping[str, DroppedKeys]) -> None:
        """Build each projection's keys and indexes and let its fold write what spans
        chunks, in a transaction of its own, then analyse each of its tables, one table a
        transaction: two statements at a time, on two connections (PostgreSQL's work: on two
        cores, two index builds at once). The projections that wrote the most go first, so
        the two connections end together rather than one building the largest keys last. A
        table is analysed as soon as its projection's keys are in, so the connection done
        with the small projections' keys analyses the large ones' tables while the other
        still builds keys."""

        def finish(name: str) -> list[str]:
            with self.store.engine.begin() as conn:
                pg = as_psycopg(conn)
                restore_keys(pg, dropped[name])
                try:
                    with conn.begin_nested():
                        stands = self.folds[name].finish(conn, self.tables[name])
                except Exception as err:
                    self.failed.add(name)
                    log.info("rebuild of %s goes on page by page: its fold raised %r", name, err)
                    return []
                if dropped[name].duplicates or not stands:
                    self.shared_ids.add(name)
                    return []
            return dropped[name].tables

        def analyse(table: str) -> None:
            with self.store.engine.begin() as conn:
                analyse_table(as_psycopg(conn), table)

        with ThreadPoolExecutor(max_workers=FINISHERS, thread_name_prefix="rebuild-finish") as pool:
            largest = sorted(self.folds, key=lambda name: -self.written.get(name, 0))
            finishing = [pool.submit(finish, name) for name in largest]
            analysing = [
                pool.submit(analyse, t) for done in as_completed(finishing) for t in done.result()
            ]
            for done in analysing:
                done.result()

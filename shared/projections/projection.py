"""What a projection is: a read model fed by events (:class:`Projection`). The SQL helper
every ``apply`` uses (:data:`LIST_SQL`, :func:`joined`) lives in :mod:`shared.database`, with
the event store's appends, and is re-exported here.

Projections use event time only, never the wall clock, so an incremental run and a rebuild
produce the same rows (tests/integration/test_projection_determinism.py).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol, TypeVar

from sqlalchemy import Connection

from shared.copy_format import CopyBuffer
from shared.database import LIST_SQL as LIST_SQL  # re-exported for the projections
from shared.database import joined as joined
from shared.eventlog import RecordedEvent
from shared.gc_pause import collector_paused as paused_collector

_Apply = TypeVar("_Apply", bound=Callable[..., None])


def readable(events: Sequence[RecordedEvent]) -> Sequence[RecordedEvent]:
    """``events`` without those erased with their subject (their behaviour is gone).

    Every way events reach a projection (catch-up, a paged rebuild, a chunked rebuild) drops
    them here, so a rebuild after an erasure holds nothing of the person's behaviour
    (shared/eventlog/sealing.py).

    Parameters:
        events: events as read.

    Returns:
        ``events`` itself when none is erased, else the others, in order.
    """
    for e in events:
        if e.erased:
            return [e for e in events if not e.erased]
    return events


def collector_paused(apply: _Apply) -> _Apply:
    """Run ``apply`` with the cyclic garbage collector paused (shared/gc_pause.py): folding a
    batch allocates thousands of tuples without reference cycles, and the collector's scans
    over them cost about a tenth of the time.

    Parameters:
        apply: a projection's ``apply`` or a fold's method.

    Returns:
        ``apply``, decorated.
    """
    return paused_collector()(apply)


class RebuildFold(Protocol):
    """A rebuild that folds the log in memory, a group of people at a time, and writes each
    group's rows as it goes (shared/projections/chunked.py).

    The runtime reads the log in chunks (``EventStore.read_person_chunks``): first the events
    of no person (organisation, team and pulse streams) in log order, then, chunk by chunk,
    every event of a range of people, each chunk in log order. It feeds the fold each
    chunk's events of the projection's types (:meth:`fold`), then calls :meth:`flush`, whose
    COPY text it sends in a transaction of its own; after the last chunk, :meth:`finish`
    once. The shadow tables
    have no primary keys or indexes while the chunks are flushed: the runtime builds them
    after the last flush, before :meth:`finish`.

    A chunk holds every event of its people, those of other streams that name them
    included (a team's manager assignment); what the events of no person give (pulses) a
    fold writes at :meth:`end_shared`, and what sums over people (a team's week) it derives
    in :meth:`finish`. Events appended during the rebuild, and everything
    after the switch, go through :meth:`Projection.apply`: a fold must leave exactly the
    rows that ``apply`` would have left.
    """

    def fold(self, events: Sequence[RecordedEvent]) -> None:
        """Fold a chunk's events of the projection's types (in log order) into memory.

        Parameters:
            events: the chunk's events of the projection's types.
        """

    def flush(self, copies: CopyBuffer, tables: Mapping[str, str]) -> None:
        """Encode the rows of what was folded since the last flush as COPY text into
        ``tables`` (appended: no keys yet, so no upserts), then let go of it. The runtime
        sends ``copies`` in the chunk's transaction while the next chunk is folded.

        Parameters:
            copies: where the COPY text goes (``copy_lines``, ``copy_rows``).
            tables: base table name -> physical shadow table name.
        """

    def end_shared(self, copies: CopyBuffer, tables: Mapping[str, str]) -> None:
        """Encode what the events of no person gave (a team-week's pulse sums), once they
        are all folded: before the first chunk of people is folded, or before
        :meth:`finish` if there is none.

        Parameters:
            copies: where the COPY text goes.
            tables: base table name -> physical shadow table name.
        """

    def finish(self, conn: Connection, tables: Mapping[str, str]) -> bool:
        """Write what spans chunks, once, after the last flush (keys and indexes are built).

        Parameters:
            conn: the connection of the transaction that finishes the pass.
            tables: base table name -> physical shadow table name.

        Returns:
            False when the chunks' rows cannot stand: an event named an id of another
            person's (imports carry client-chosen ids), whose effect depends on the order of
            the two people's events; the runtime then rebuilds the projection page by page
            in log order, as catch-up applied it.
        """


class PersonRowsFold:
    """The end of a rebuild fold whose every row is one person's (capital, the journal's
    read models): nothing comes of the events of no person and nothing spans chunks. (An id
    of another person's puts two rows under one key, which the runtime sees when it builds
    the key.)"""

    def end_shared(self, copies: CopyBuffer, tables: Mapping[str, str]) -> None:
        """Nothing to write: such a projection handles no event of no person.

        Parameters:
            copies: where the COPY text goes.
            tables: base table name -> physical name.
        """

    def finish(self, conn: Connection, tables: Mapping[str, str]) -> bool:
        """Nothing spans chunks.

        Parameters:
            conn: the transaction that finishes the pass.
            tables: base table name -> physical name.

        Returns:
            True: the chunks' rows stand.
        """
        return True


class Projection(ABC):
    """A read model fed by events. Subclasses set the class attributes and ``apply``.

    The runtime (shared/projections/runtime.py) registers it, creates its tables, feeds it
    the events of the types it ``handles`` in log order and keeps its checkpoints.
    """

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
        """Fold ``events`` into the tables named by ``tables``.

        Parameters:
            conn: the connection of the batch's transaction (which also moves the
                checkpoints).
            events: events of the handled types, in log order.
            tables: base table name -> physical name of the generation being written.

        Raises:
            Exception: any error marks the event that raised it as a poison event: the
                projection stops there (shared/projections/catchup.py).
        """

    def begin_rebuild(self) -> RebuildFold | None:
        """A fold for a rebuild of this projection.

        Returns:
            The fold, or ``None`` to rebuild through :meth:`apply` page by page (the
            default).
        """
        return None

"""What a projection is: a read model fed by events (:class:`Projection`), and the SQL helper
its ``apply`` shares with the others (:data:`LIST_SQL`, :func:`joined`).

Projections use event time only, never the wall clock, so an incremental run and a rebuild
produce the same rows (tests/integration/test_projection_determinism.py).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Protocol, TypeVar

from sqlalchemy import Connection

from shared.eventlog import RecordedEvent
from shared.gc_pause import collector_paused as paused_collector

LIST_SQL = "string_to_array(%s, ',')"
"""SQL of a text[] parameter sent as one :func:`joined` string: several times cheaper to
adapt than a list. Only for values that never hold a comma: ids, ISO weeks, tactics (names
from a fixed set, as the event schemas check), dates and numbers."""


def joined(values: Iterable[str]) -> str:
    """The parameter of a :data:`LIST_SQL`.

    Parameters:
        values: strings without a comma.

    Returns:
        The values joined by commas.
    """
    return ",".join(values)


_Apply = TypeVar("_Apply", bound=Callable[..., None])


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
    """A rebuild that folds the whole log in memory and writes its tables once at the end.

    The runtime feeds it every page of the projection's events, in log order, then calls
    :meth:`flush` once, in the transaction that finishes the pass. Events appended during
    the flush, and everything after the switch, go through :meth:`Projection.apply`: a fold
    must leave exactly the rows that ``apply`` would have left.
    """

    def fold(self, events: Sequence[RecordedEvent]) -> None:
        """Fold one page of the projection's events (in log order) into memory.

        Parameters:
            events: the page's events of the projection's types.
        """

    def flush(self, conn: Connection, tables: Mapping[str, str]) -> None:
        """Write the folded rows into ``tables``.

        Parameters:
            conn: the connection of the transaction that finishes the pass.
            tables: base table name -> physical shadow table name.
        """


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

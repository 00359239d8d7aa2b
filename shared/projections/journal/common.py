"""What the three journal projections share: their model version, the UTC day and ISO week
of an event, the array literals their writers send and the frame of their rebuild folds.

Days and ISO weeks are those of ``occurred_at`` in UTC: event time, never the wall clock.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Generic, Protocol, TypeVar

from shared.copy_format import CopyBuffer
from shared.domain.weeks import iso_week_of
from shared.eventlog import RecordedEvent
from shared.gc_pause import collector_paused
from shared.projections.projection import PersonRowsFold

MODEL_VERSION = 1
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
"""Day numbers count from here: ``(moment - EPOCH).days`` is exact integer arithmetic,
cheaper than ``astimezone``."""
EPOCH_DAY = EPOCH.date()


def utc_day(moment: datetime) -> date:
    """The UTC calendar day of ``moment``.

    Parameters:
        moment: an aware datetime.

    Returns:
        Its date in UTC.
    """
    return moment.astimezone(UTC).date()


def utc_week(moment: datetime) -> str:
    """The ISO week (``"2026-W49"``) of ``moment`` in UTC.

    Parameters:
        moment: an aware datetime.

    Returns:
        Its ISO week label.
    """
    return iso_week_of(moment.astimezone(UTC))


class UtcDays(dict[int, date]):
    """:func:`utc_day` by day number since :data:`EPOCH`: each day is made once."""

    def __missing__(self, n: int) -> date:
        day = self[n] = EPOCH_DAY + timedelta(days=n)
        return day


class UtcWeeks(dict[int, str]):
    """:func:`utc_week` by day number since :data:`EPOCH`: each day's ISO week is computed
    once."""

    def __missing__(self, n: int) -> str:
        week = self[n] = iso_week_of(EPOCH_DAY + timedelta(days=n))
        return week


def text_array(values: Sequence[str]) -> str:
    """A PostgreSQL array literal of ``values``.

    Rows of a text[] column pass through ``unnest`` as their literals (unnest cannot yield
    the arrays of a two-dimensional array), and COPY takes the same literal.

    Parameters:
        values: the array's items.

    Returns:
        The literal, each item quoted (and escaped when it holds a quote or backslash).
    """
    if not values:
        return "{}"
    raw = "".join(values)
    if '"' in raw or "\\" in raw:
        values = [v.replace("\\", "\\\\").replace('"', '\\"') for v in values]
    return '{"' + '","'.join(values) + '"}'


class FoldedState(Protocol):
    """A journal projection's state: each event's effect, folded in by ``add``."""

    def add(self, events: Sequence[RecordedEvent]) -> None: ...


State = TypeVar("State", bound=FoldedState)


class StateFold(PersonRowsFold, Generic[State]):
    """The frame of a journal projection's rebuild fold: a chunk of people's events folded
    into one state by the code catch-up folds a batch with; subclasses write it in
    :meth:`write`.

    Parameters:
        version: the model version written in every row.
        new_state: makes an empty state (one per chunk).
    """

    def __init__(self, version: int, new_state: Callable[[], State]) -> None:
        self.version = version
        self.new_state = new_state
        self.state = new_state()

    @collector_paused()
    def fold(self, events: Sequence[RecordedEvent]) -> None:
        """Fold a chunk's events (in position order) in.

        Parameters:
            events: the chunk's events of the handled types.
        """
        self.state.add(events)

    def write(self, pg: CopyBuffer, tables: Mapping[str, str]) -> None:
        """Encode the rows of :attr:`state` for ``tables`` (the subclass's COPYs).

        Parameters:
            pg: where the COPY text goes.
            tables: base table name -> physical name (shadow tables, no keys yet).
        """
        raise NotImplementedError

    @collector_paused()
    def flush(self, copies: CopyBuffer, tables: Mapping[str, str]) -> None:
        """Encode the chunk's rows (:meth:`write`) and start the next chunk afresh.

        Parameters:
            copies: where the COPY text goes.
            tables: base table name -> physical name (shadow tables, no keys yet).
        """
        self.write(copies, tables)
        self.state = self.new_state()

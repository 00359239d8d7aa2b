"""Reading the log for a rebuild in chunks of people, without sorting the whole log.

A rebuild whose folds keep state per person can fold the log one group of people at a
time and flush after each group, so its memory stays bounded by the group, not the log.
That needs every event of a person in one chunk, and each chunk in log order.

A person's events live in three streams, ``journal-{person}``, ``person-{person}`` and
``calendar-{person}``; every other stream (``org-``, ``team-``, ``pulse-`` and any other)
holds events of no one person. The ``events_stream_version`` index (``stream_id,
version``) orders the person streams by the person's id, so a range of ids is three index
range scans, one per stream kind: a chunk is such a range, read in one statement and sorted
by position in Python (it is bounded, so the sort is cheap). The ranges are planned from
a count of events per id prefix (an index-only scan), refined where a prefix holds more
than a chunk, then packed up to ``chunk_events``.

The events of no person come first, read in position order a page at a time by the primary
key with the complement of the person ranges as a filter: the two reads partition the log,
so every event up to ``head`` is read exactly once. docs/events.md, "Reading a rebuild in
chunks", has the figures and how a rebuild driver uses it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from sqlalchemy import Engine

from shared.eventlog.decoding import EVENT_COLUMNS, EventDecoder
from shared.eventlog.read_ahead import Rows
from shared.eventlog.records import RecordedEvent
from shared.gc_pause import collector_paused

PERSON_STREAM_KINDS = ("calendar-", "journal-", "person-")
"""The prefixes of the streams that hold one person's events; the person's id follows."""

HEX_DIGITS = "0123456789abcdef"
END_OF_IDS = "g"
"""A bound above every lowercase hexadecimal id (the last range ends before it)."""
COUNT_DEPTH = 3
"""Hex digits of the id prefixes events are first counted by (4,096 groups per kind)."""
MAX_DEPTH = 8
"""The longest prefix a range is refined to: a version 4 or 7 id's first group of digits."""
DEFAULT_CHUNK_EVENTS = 50_000
"""Events per chunk by default: about 100 MB of rows and decoded events at a time."""

Fetch = Callable[[str, Sequence[Any]], Rows]


@dataclass(frozen=True)
class EventChunk:
    """A chunk of a rebuild's read, in position order.

    Attributes:
        events: the decoded events.
        people: False for the events of no person (they come first), True for a chunk that
            holds every event of the people whose ids fall in ``[low, high)``.
        low, high: the range of person ids (prefixes of their hex digits); empty for the
            events of no person.
    """

    events: list[RecordedEvent]
    people: bool
    low: str = ""
    high: str = ""


def person_range_sql(low: str, high: str) -> tuple[str, list[str]]:
    """The condition on ``stream_id`` of the person streams whose id is in ``[low, high)``.

    Parameters:
        low, high: the range of id prefixes (``""`` and :data:`END_OF_IDS`: every person).

    Returns:
        The SQL (three index ranges of ``events_stream_version``) and its parameters.
    """
    parts = ["(stream_id >= %s AND stream_id < %s)" for _ in PERSON_STREAM_KINDS]
    params = [bound for kind in PERSON_STREAM_KINDS for bound in (kind + low, kind + high)]
    return "(" + " OR ".join(parts) + ")", params


def _filters(head: int, types: list[str] | None) -> tuple[str, list[Any]]:
    """The head bound and the type filter shared by every statement."""
    if types is None:
        return "position <= %s", [head]
    return "position <= %s AND type = ANY(%s)", [head, types]


def _successor(prefix: str) -> str:
    """The smallest hex prefix of the same length or shorter after every id under ``prefix``."""
    while prefix and prefix[-1] == "f":
        prefix = prefix[:-1]
    if not prefix:
        return END_OF_IDS
    return prefix[:-1] + HEX_DIGITS[HEX_DIGITS.index(prefix[-1]) + 1]


class PersonRangePlanner:
    """Splits the ids of people into ranges of about ``budget`` events each.

    Parameters:
        fetch: runs a statement and returns its rows.
        budget: the most events a range should hold (one person may exceed it).
    """

    def __init__(self, fetch: Fetch, budget: int):
        self.fetch = fetch
        self.budget = max(1, budget)

    def counts(self, low: str, high: str, depth: int) -> dict[str, int]:
        """Events per id prefix of ``depth`` hex digits, for ids in ``[low, high)``.

        Counted over all events of the person streams (no head, no type filter): an upper
        bound of what a read returns. Prefixes that are not lowercase hex are left out (their
        events are still read; only the sizing ignores them).

        Parameters:
            low, high: the range of id prefixes.
            depth: the prefix length to group by.

        Returns:
            Prefix -> events.
        """
        found: dict[str, int] = {}
        for kind in PERSON_STREAM_KINDS:
            sql = (
                f"SELECT substr(stream_id, {len(kind) + 1}, {int(depth)}), count(*) FROM events "
                "WHERE stream_id >= %s AND stream_id < %s GROUP BY 1"
            )
            for prefix, count in self.fetch(sql, [kind + low, kind + high]):
                if len(prefix) == depth and all(c in HEX_DIGITS for c in prefix):
                    found[prefix] = found.get(prefix, 0) + count
        return found

    def leaves(self) -> list[tuple[str, int]]:
        """Id prefixes and their events, sorted, each within the budget where it can be.

        Returns:
            ``(prefix, events)`` pairs in id order; a prefix over the budget is split into
            longer ones, down to :data:`MAX_DEPTH` digits.
        """
        pending = sorted(self.counts("", END_OF_IDS, COUNT_DEPTH).items(), reverse=True)
        done: list[tuple[str, int]] = []
        while pending:
            prefix, count = pending.pop()
            if count <= self.budget or len(prefix) >= MAX_DEPTH:
                done.append((prefix, count))
                continue
            finer = self.counts(prefix, _successor(prefix), len(prefix) + 1)
            pending.extend(sorted(finer.items(), reverse=True))
        done.sort()
        return done

    def ranges(self) -> list[tuple[str, str]]:
        """Consecutive ranges ``[low, high)`` of id prefixes covering every id.

        The first starts at ``""``, the last ends at :data:`END_OF_IDS`, each holds at most
        the budget unless one prefix alone exceeds it.

        Returns:
            The ranges, in id order (at least one).
        """
        starts = [""]
        held = 0
        for prefix, count in self.leaves():
            if held and held + count > self.budget:
                starts.append(prefix)
                held = 0
            held += count
        return list(zip(starts, [*starts[1:], END_OF_IDS], strict=True))


def check_collation(fetch: Fetch, ranges: list[tuple[str, str]]) -> None:
    """Check that the database orders the ranges' stream bounds as Python does.

    The person ranges partition the person streams only if their bounds are increasing in
    the database's collation (true of "C" and of the usual locales for lowercase hex).

    Parameters:
        fetch: runs a statement and returns its rows.
        ranges: the planned ranges.

    Raises:
        RuntimeError: the database orders them otherwise.
    """
    bounds = [kind + low for kind in PERSON_STREAM_KINDS for low, _ in ranges]
    bounds += [kind + END_OF_IDS for kind in PERSON_STREAM_KINDS]
    rows = fetch("SELECT b FROM unnest(%s::text[]) AS b ORDER BY b", [bounds])
    if [b for (b,) in rows] != sorted(bounds):
        raise RuntimeError("the database's collation does not order hex ids as expected")


class ChunkedReader:
    """Reads the log up to a head in chunks: first the events of no person, then people.

    Parameters:
        engine: SQLAlchemy engine on PostgreSQL (psycopg 3), to decrypt on.
        decoder: decrypts and upcasts the rows read.
        fetch: the reader's page fetch (UTC session zone, collector paused).
    """

    def __init__(self, engine: Engine, decoder: EventDecoder, fetch: Fetch):
        self.engine = engine
        self.decoder = decoder
        self.fetch = fetch

    def read(
        self,
        head: int,
        chunk_events: int = DEFAULT_CHUNK_EVENTS,
        types: Iterable[str] | None = None,
        decrypt: bool = True,
        read_ahead: bool = True,
    ) -> Iterator[EventChunk]:
        """The chunks (see EventStore.read_person_chunks)."""
        type_list = None if types is None else list(types)
        yield from self.shared_chunks(head, chunk_events, type_list, decrypt)
        ranges = PersonRangePlanner(self.fetch, chunk_events).ranges()
        check_collation(self.fetch, ranges)
        loads = [self._range_loader(head, type_list, low, high) for low, high in ranges]
        pages = _ahead(loads, read_ahead)
        for low, high in ranges:
            rows = next(pages)
            if not rows:
                continue
            with collector_paused():
                rows.sort(key=itemgetter(0))
            events = self._decoded(rows, decrypt)
            del rows  # not held while the caller folds the chunk: only its events are
            yield EventChunk(events, True, low, high)
            del events

    def shared_chunks(
        self, head: int, chunk_events: int, types: list[str] | None, decrypt: bool
    ) -> Iterator[EventChunk]:
        """The events of no person up to ``head``, in position order, pages of a chunk.

        Parameters:
            head: the last position read.
            chunk_events: the most events per chunk.
            types: only these types (None: all).
            decrypt: as for EventStore.read_all.

        Returns:
            An iterator of chunks with ``people=False``.
        """
        person, person_params = person_range_sql("", END_OF_IDS)
        filters, params = _filters(head, types)
        sql = (
            f"SELECT {EVENT_COLUMNS} FROM events WHERE position > %s AND {filters} "
            f"AND NOT {person} ORDER BY position LIMIT %s"
        )
        after = 0
        while True:
            rows = self.fetch(sql, [after, *params, *person_params, chunk_events])
            complete = len(rows) < chunk_events
            if rows:
                after = rows[-1][0]
                events = self._decoded(rows, decrypt)
                del rows  # only the events are held while the caller folds them
                yield EventChunk(events, False)
                del events
            if complete:
                return

    def _range_loader(
        self, head: int, types: list[str] | None, low: str, high: str
    ) -> Callable[[], Rows]:
        """A function reading the rows of the people in ``[low, high)``, unsorted."""
        person, person_params = person_range_sql(low, high)
        filters, params = _filters(head, types)
        sql = f"SELECT {EVENT_COLUMNS} FROM events WHERE {person} AND {filters}"
        all_params = [*person_params, *params]
        return lambda: self.fetch(sql, all_params)

    def _decoded(self, rows: Rows, decrypt: bool) -> list[RecordedEvent]:
        with self.engine.connect() as conn, collector_paused():
            return self.decoder.decode(conn, rows, decrypt)


def _ahead(loads: list[Callable[[], Rows]], read_ahead: bool) -> Iterator[Rows]:
    """The results of ``loads`` in order, the next one run in a thread meanwhile."""
    if not read_ahead:
        for load in loads:
            yield load()
        return
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="eventlog-chunk-ahead")
    try:
        pending: Future[Rows] | None = executor.submit(loads[0]) if loads else None
        for index in range(len(loads)):
            assert pending is not None
            done, pending = pending, None
            held = [done.result()]
            del done  # a future keeps its result: drop it, so the caller alone holds the rows
            if index + 1 < len(loads):
                pending = executor.submit(loads[index + 1])
            yield held.pop()
    finally:
        executor.shutdown(wait=True, cancel_futures=True)


__all__ = [
    "DEFAULT_CHUNK_EVENTS",
    "PERSON_STREAM_KINDS",
    "ChunkedReader",
    "EventChunk",
    "PersonRangePlanner",
    "check_collation",
    "person_range_sql",
]

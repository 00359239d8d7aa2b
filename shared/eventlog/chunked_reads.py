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
so every event up to ``head`` is read exactly once. Each statement runs in a thread, the
next started as soon as the rows of the one before are in. The figures, and how a rebuild
driver uses it: docs/events.md, "Reading a rebuild in chunks".
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
DEFAULT_CHUNK_EVENTS = 25_000
"""Events per chunk by default: a reading process peaks at about 170 MB (docs/events.md)."""

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


def no_person_sql() -> tuple[str, list[str]]:
    """The condition on ``stream_id`` of every stream outside the person ranges.

    ``NOT`` of :func:`person_range_sql` over every person, and the same streams as the
    ranges between the person stream kinds (``stream_id < 'calendar-' OR (stream_id >=
    'calendar-g' AND stream_id < 'journal-') ...``): those the planner can scan in
    ``events_stream_version`` instead of filtering the whole log by the primary key (a
    rebuild whose types only people's streams hold read the log once for no rows). The
    ranges equal the ``NOT`` where :func:`check_collation` holds; the ``NOT`` keeps the read
    exact where it does not (the read then stops at the check).

    Returns:
        The SQL and its parameters.
    """
    everyone, everyone_params = person_range_sql("", END_OF_IDS)
    bounds = [bound for kind in PERSON_STREAM_KINDS for bound in (kind, kind + END_OF_IDS)]
    gaps = ["stream_id < %s"] + ["(stream_id >= %s AND stream_id < %s)"] * (
        len(PERSON_STREAM_KINDS) - 1
    )
    gaps.append("stream_id >= %s")
    return f"NOT {everyone} AND ({' OR '.join(gaps)})", [*everyone_params, *bounds]


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


@dataclass
class _Read:
    """The rows of one statement of a chunked read, and what they are."""

    people: bool
    low: str
    high: str
    rows: Rows


Load = Callable[[], _Read]


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

    def plan(self, chunk_events: int) -> list[tuple[str, str]]:
        """The person ranges of a read, checked against the database's collation.

        Parameters:
            chunk_events: the most events a range should hold.

        Returns:
            The ranges ``[low, high)`` of id prefixes, in order, covering every id.

        Raises:
            RuntimeError: the collation orders the range bounds otherwise than Python.
        """
        ranges = PersonRangePlanner(self.fetch, chunk_events).ranges()
        check_collation(self.fetch, ranges)
        return ranges

    def read(
        self,
        head: int,
        chunk_events: int = DEFAULT_CHUNK_EVENTS,
        types: Iterable[str] | None = None,
        decrypt: bool = True,
    ) -> Iterator[EventChunk]:
        """The chunks (see EventStore.read_person_chunks).

        Every statement runs in a thread, the next one started as soon as the rows of the
        previous are in: the caller folds a chunk while the next is read. The person ranges
        are planned meanwhile, while the events of no person are read.
        """
        filters, params = _filters(head, None if types is None else list(types))
        no_person, no_person_params = no_person_sql()
        shared_sql = (
            f"SELECT {EVENT_COLUMNS} FROM events WHERE position > %s AND {filters} "
            f"AND {no_person} ORDER BY position LIMIT %s"
        )

        def shared_page(after: int) -> Load:
            values = [after, *params, *no_person_params, chunk_events]
            return lambda: _Read(False, "", "", self.fetch(shared_sql, values))

        def person_range(low: str, high: str) -> Load:
            person, person_params = person_range_sql(low, high)
            sql = f"SELECT {EVENT_COLUMNS} FROM events WHERE {person} AND {filters}"
            return lambda: _Read(True, low, high, self.fetch(sql, [*person_params, *params]))

        ranges: Iterator[tuple[str, str]] | None = None

        def following(read: _Read) -> Load | None:
            nonlocal ranges
            if not read.people and len(read.rows) == chunk_events:
                return shared_page(read.rows[-1][0])
            if ranges is None:
                ranges = iter(planned.result())
            bounds = next(ranges, None)
            return None if bounds is None else person_range(*bounds)

        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="eventlog-chunks") as pool:
            planned = pool.submit(self.plan, chunk_events)
            for read in _prefetched(pool, shared_page(0), following):
                if read.rows:
                    chunk = self._chunk(read, decrypt)
                    yield chunk
                    del chunk  # the caller alone decides how long a chunk lives

    def _chunk(self, read: _Read, decrypt: bool) -> EventChunk:
        """The chunk of ``read``'s rows, sorted by position; the rows are let go."""
        rows, read.rows = read.rows, []
        with self.engine.connect() as conn, collector_paused():
            if read.people:
                rows.sort(key=itemgetter(0))
            events = self.decoder.decode(conn, rows, decrypt)
        return EventChunk(events, read.people, read.low, read.high)


def _prefetched(
    pool: ThreadPoolExecutor, first: Load, following: Callable[[_Read], Load | None]
) -> Iterator[_Read]:
    """The reads from ``first`` on, each next one started in ``pool`` before this is used.

    Parameters:
        pool: the threads to read in.
        first: the first read.
        following: the read after a given one (None after the last).

    Returns:
        An iterator of the reads, in order.
    """
    pending: Future[_Read] | None = pool.submit(first)
    while pending is not None:
        held = [pending.result()]
        successor = following(held[0])
        # Replacing the future drops it, and with it its reference to the rows.
        pending = None if successor is None else pool.submit(successor)
        yield held.pop()


__all__ = [
    "DEFAULT_CHUNK_EVENTS",
    "PERSON_STREAM_KINDS",
    "ChunkedReader",
    "EventChunk",
    "PersonRangePlanner",
    "check_collation",
    "no_person_sql",
    "person_range_sql",
]

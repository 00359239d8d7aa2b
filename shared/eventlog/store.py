"""The event store: append-only streams in PostgreSQL with a global, gap-safe position.

Guarantees (each has a test in tests/integration/test_event_store.py):

* append-only: a trigger refuses UPDATE, DELETE and TRUNCATE on ``events``;
* optimistic concurrency: ``append(stream, expected_version, ...)`` raises
  :class:`ConcurrencyError` when the stream is not at ``expected_version``;
* idempotency: with an idempotency key, event ids are derived from
  (tenant, actor, key, index), so a retried append writes nothing and returns the original
  positions, and the same key with other events raises :class:`IdempotencyConflict`;
* readers never skip a committed event: positions are allocated and committed one appender
  at a time (a transaction-level advisory lock held from the insert to the commit), so the
  commit order is the position order and every snapshot sees a prefix of the log
  (docs/events.md, "Positions", says why this design and not a snapshot-xmin filter);
* validation by the catalogue, a size limit, and encryption of personal fields.

:class:`EventStore` is the one entry point; its work is done by the modules beside it:
records.py (the value types), ids.py, preparing.py and batch_lines.py (before SQL),
appending.py and replaying.py (writing), reading.py, read_ahead.py, partitioned_reads.py,
chunked_reads.py and decoding.py (reading).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import Engine

from shared.eventlog.appending import APPEND_LOCK_KEY, EventAppender
from shared.eventlog.catalogue import Catalogue
from shared.eventlog.chunked_reads import DEFAULT_CHUNK_EVENTS, ChunkedReader, EventChunk
from shared.eventlog.crypto import DB, KeyRing
from shared.eventlog.decoding import EventDecoder
from shared.eventlog.events import CATALOGUE
from shared.eventlog.ids import EVENT_ID_NAMESPACE, derive_event_id, new_event_id
from shared.eventlog.partitioned_reads import PARTITION_PLANNER
from shared.eventlog.preparing import EventPreparer
from shared.eventlog.read_ahead import PREFETCH_MIN_PAGE
from shared.eventlog.reading import EventReader
from shared.eventlog.records import (
    AppendContext,
    AppendResult,
    NewEvent,
    RecordedEvent,
    StreamAppend,
    StreamCap,
)
from shared.eventlog.replaying import Replayer
from shared.settings import DEFAULT_MAX_EVENT_BYTES

__all__ = [
    "APPEND_LOCK_KEY",
    "DEFAULT_CONTEXT",
    "EVENT_ID_NAMESPACE",
    "PREFETCH_MIN_PAGE",
    "AppendContext",
    "AppendResult",
    "EventChunk",
    "EventStore",
    "NewEvent",
    "RecordedEvent",
    "StreamAppend",
    "StreamCap",
    "derive_event_id",
    "new_event_id",
]


DEFAULT_CONTEXT = AppendContext()
"""The context of an append that names no actor: ``source="system"``."""


class EventStore:
    """Append to and read from the event log.

    Parameters:
        engine: SQLAlchemy engine on PostgreSQL (psycopg 3).
        catalogue: the event types; defaults to Compound's catalogue.
        keyring: encrypts personal fields; without master keys they are refused.
        max_event_bytes: largest accepted payload, in bytes of JSON.
    """

    def __init__(
        self,
        engine: Engine,
        catalogue: Catalogue = CATALOGUE,
        keyring: KeyRing | None = None,
        max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES,
    ):
        self.engine = engine
        self.catalogue = catalogue
        self.keyring = keyring or KeyRing(())
        self.max_event_bytes = max_event_bytes
        decoder = EventDecoder(catalogue, self.keyring)
        preparer = EventPreparer(catalogue, self.keyring, max_event_bytes)
        self.reader = EventReader(engine, decoder)
        self.appender = EventAppender(engine, preparer, Replayer(preparer, decoder))

    # -- writing ---------------------------------------------------------------------------

    def append(
        self,
        tenant_id: uuid.UUID,
        stream_id: str,
        expected_version: int | None,
        events: Sequence[NewEvent],
        context: AppendContext = DEFAULT_CONTEXT,
    ) -> AppendResult:
        """Append ``events`` to ``stream_id`` in one transaction of its own.

        Parameters:
            tenant_id: the appending tenant.
            stream_id: the stream.
            expected_version: the stream's current version (0 for a new stream), or ``None``
                to append whatever the version.
            events: at least one new event.
            context: who appends; with an idempotency key, a retry writes nothing.

        Returns:
            The positions and ids written; with ``replayed=True`` those of an earlier call
            with the same idempotency key.

        Raises:
            ConcurrencyError: the stream is not at ``expected_version``.
            IdempotencyConflict: the idempotency key was used for other events.
            UnknownEventType, EventValidationError, PayloadTooLarge, SubjectErased.
        """
        return self.appender.append(tenant_id, stream_id, expected_version, events, context)

    def append_capped(
        self,
        tenant_id: uuid.UUID,
        stream_id: str,
        event: NewEvent,
        cap: StreamCap,
        context: AppendContext = DEFAULT_CONTEXT,
    ) -> AppendResult | None:
        """Append one event, in one statement, if the stream is within ``cap``.

        The count and the append are one round trip (the daily action limit's fast path:
        shared/commands/volume.py). Like any count taken before the position lock, two
        concurrent appends may both pass the same cap.

        Parameters:
            tenant_id, stream_id, context: as for :meth:`append`.
            event: the new event.
            cap: how many events of a type and time span the stream may hold already.

        Returns:
            As :meth:`append`; None when the stream holds more than ``cap`` allows (nothing
            was written).

        Raises:
            The errors of :meth:`append`.
        """
        return self.appender.append_capped(tenant_id, stream_id, event, cap, context)

    def append_in(
        self,
        conn: DB,
        tenant_id: uuid.UUID,
        stream_id: str,
        expected_version: int | None,
        events: Sequence[NewEvent],
        context: AppendContext = DEFAULT_CONTEXT,
        records: bool = False,
    ) -> AppendResult:
        """Like :meth:`append`, inside the caller's transaction (a unit of work).

        The caller commits; if this raises, the caller's transaction must be rolled back.

        Parameters:
            conn: the caller's connection (SQLAlchemy or psycopg), in a transaction.
            tenant_id, stream_id, expected_version, events, context: as for :meth:`append`.
            records: also return the written events as :meth:`read_positions` would
                (``AppendResult.records``, see ``appending.written_records``), without
                reading them back; a replayed append has none.

        Returns:
            As :meth:`append`.

        Raises:
            The errors of :meth:`append`.
        """
        return self.appender.append_in(
            conn, tenant_id, stream_id, expected_version, events, context, records
        )

    def append_batch(
        self,
        tenant_id: uuid.UUID,
        appends: Sequence[StreamAppend],
        context: AppendContext = DEFAULT_CONTEXT,
    ) -> list[AppendResult]:
        """Bulk append to many streams in one transaction, with COPY.

        The same guarantees as :meth:`append`: all or nothing, validated, encrypted,
        version-checked per stream, idempotent with a key (event ids derived across the
        whole batch), committed under the position lock. Keep batches to tens of thousands
        of events: appends by others wait while a batch commits.

        Parameters:
            tenant_id: the appending tenant.
            appends: each stream's new events and expected version.
            context: who appends; with an idempotency key, a retry writes nothing.

        Returns:
            One result per item of ``appends``, in order.

        Raises:
            The errors of :meth:`append`.
        """
        return self.appender.append_batch(tenant_id, appends, context)

    def append_batch_in(
        self,
        conn: DB,
        tenant_id: uuid.UUID,
        appends: Sequence[StreamAppend],
        context: AppendContext = DEFAULT_CONTEXT,
    ) -> list[AppendResult]:
        """Like :meth:`append_batch`, inside the caller's transaction (a command that checks
        and appends many streams at once, and updates the directory with them). The position
        lock is held until the caller commits: keep the rest of the transaction short.

        Parameters:
            conn: the caller's connection (SQLAlchemy or psycopg), in a transaction.
            tenant_id, appends, context: as for :meth:`append_batch`.

        Returns:
            As :meth:`append_batch`.
        """
        return self.appender.append_batch_in(conn, tenant_id, appends, context)

    def erase(
        self, tenant_id: uuid.UUID, person_id: uuid.UUID, context: AppendContext
    ) -> AppendResult:
        """Crypto-shred a person: delete their data key and append ``PersonErased``.

        Afterwards every personal field of theirs reads as ``ERASED`` and no new personal
        data can be stored for them.

        Parameters:
            tenant_id: the person's tenant.
            person_id: the person.
            context: who erases.

        Returns:
            The result of appending ``PersonErased`` to ``person-<person_id>``.

        Raises:
            The errors of :meth:`append`.
        """
        return self.appender.erase(tenant_id, person_id, context)

    # -- reading ---------------------------------------------------------------------------

    def read_all(
        self,
        after: int = 0,
        limit: int = 1000,
        *,
        types: Iterable[str] | None = None,
        tenant_id: uuid.UUID | None = None,
        decrypt: bool = True,
    ) -> list[RecordedEvent]:
        """Up to ``limit`` committed events with ``position > after``, in position order.

        Never skips an event: what a reader sees is always a prefix of the log (see the
        module docstring), so a checkpoint at the last position read is safe. A full page
        of at least ``PREFETCH_MIN_PAGE`` events starts reading the next one ahead.

        Parameters:
            after: the position to read after (a checkpoint).
            limit: the most events returned.
            types: only events of these types (default: all).
            tenant_id: only this tenant's events. The log has no tenant index (appends would
                pay for it and no production reader needs it): the position range is
                filtered as it is scanned, so keep it to recent ranges.
            decrypt: with ``False`` personal fields read as :data:`SEALED` (for readers that
                never use them, such as most projections: it saves the decryption).

        Returns:
            The events, in position order.

        Raises:
            UnknownEventType: the log holds a type the catalogue does not know.
        """
        return self.reader.read_all(after, limit, types, tenant_id, decrypt)

    def read_partitions(
        self,
        slots: Sequence[int],
        after: int = 0,
        limit: int = 1000,
        *,
        types: Iterable[str],
        decrypt: bool = True,
        planner: Mapping[str, str] = PARTITION_PLANNER,
    ) -> list[RecordedEvent]:
        """Like :meth:`read_all`, for the events of the tenants in ``slots`` only.

        One ordered index range per slot, merged: PostgreSQL reads each slot's next events
        from ``events_slot_position`` and stops at ``limit``, whatever the rest of the log
        holds (shared/eventlog/partitioned_reads.py). The same guarantees as
        :meth:`read_all`: a prefix of those slots' events, the next full page read ahead.

        Parameters:
            slots: tenant slots (0 to 63: a tenant id's last byte modulo 64); all of them
                read as :meth:`read_all`.
            after: the position to read after.
            limit: the most events returned.
            types: only events of these types.
            decrypt: as for :meth:`read_all`.
            planner: the planner settings the read runs with (its transaction only).

        Returns:
            The events, in position order.

        Raises:
            UnknownEventType: the log holds a type the catalogue does not know.
            ValueError: ``planner`` holds something other than a setting and its value.
        """
        return self.reader.read_partitions(slots, after, limit, types, decrypt, planner)

    def read_person_chunks(
        self,
        head: int,
        *,
        chunk_events: int = DEFAULT_CHUNK_EVENTS,
        types: Iterable[str] | None = None,
        decrypt: bool = True,
    ) -> Iterator[EventChunk]:
        """Every event up to ``head`` once, in chunks that keep each person's events together.

        For a rebuild that folds a group of people at a time and flushes after each
        (shared/eventlog/chunked_reads.py; docs/events.md, "Reading a rebuild in chunks").
        First the events of no person (streams other than ``journal-``, ``person-`` and
        ``calendar-`` of a person id), in pages of ``chunk_events``; then, per range of person
        ids, every event of those people's streams. Each chunk is in position order. No
        whole-log sort: index range scans by stream id, the next range read ahead.

        Parameters:
            head: the last position read (say :meth:`head` before the rebuild); later
                events are not yielded.
            chunk_events: the most events per chunk, unless one person alone has more.
            types: only events of these types (default: all).
            decrypt: as for :meth:`read_all`.

        Returns:
            An iterator of :class:`EventChunk`: the events of no person first
            (``people=False``), then the people's, range by range (empty ones skipped).

        Raises:
            UnknownEventType: the log holds a type the catalogue does not know.
            RuntimeError: the database's collation does not order hex ids as Python does.
        """
        chunks = ChunkedReader(self.engine, self.reader.decoder, self.reader.fetch)
        return chunks.read(head, chunk_events, types, decrypt)

    def read_stream(
        self, stream_id: str, after_version: int = 0, limit: int | None = None
    ) -> list[RecordedEvent]:
        """The events of one stream with ``version > after_version``, in version order.

        Parameters:
            stream_id: the stream.
            after_version: the version to read after.
            limit: the most events returned (default: all).

        Returns:
            The events, in version order.
        """
        return self.reader.read_stream(stream_id, after_version, limit)

    def read_positions(self, conn: DB, positions: Sequence[int]) -> list[RecordedEvent]:
        """The events at ``positions``, read in ``conn``'s transaction (its own writes too).

        Parameters:
            conn: the connection to read on.
            positions: the positions.

        Returns:
            The events found, in position order.
        """
        return self.reader.read_positions(conn, positions)

    def find(
        self, stream_id: str, event_type: str, match: Mapping[str, Any]
    ) -> RecordedEvent | None:
        """The first event of ``event_type`` in the stream whose data contains ``match``.

        Parameters:
            stream_id: the stream.
            event_type: the event type's name.
            match: fields and values the payload must contain; only fields that are not
                personal (those are stored encrypted).

        Returns:
            The first such event in position order, or None.
        """
        return self.reader.find(stream_id, event_type, match)

    def iter_all(self, after: int = 0, batch: int = 5000) -> Iterator[RecordedEvent]:
        """Every committed event after ``after``, read in batches.

        Parameters:
            after: the position to read after.
            batch: events per read.

        Returns:
            An iterator over the events, in position order.
        """
        return self.reader.iter_all(after, batch)

    def head(self) -> int:
        """The highest committed position.

        Returns:
            The position, 0 for an empty log.
        """
        return self.reader.head()

    def stream_version(self, stream_id: str) -> int:
        """The version of ``stream_id``.

        Parameters:
            stream_id: the stream.

        Returns:
            Its last event's version, 0 for an empty stream.
        """
        return self.reader.stream_version(stream_id)

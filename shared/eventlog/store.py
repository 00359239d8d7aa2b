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
"""

from __future__ import annotations

import binascii
import gc
import os
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
import psycopg
from sqlalchemy import Engine, text

from shared.database import as_psycopg
from shared.eventlog.catalogue import Catalogue, EventType
from shared.eventlog.crypto import DB, ERASED, SEALED, KeyRing
from shared.eventlog.errors import (
    ConcurrencyError,
    EventValidationError,
    IdempotencyConflict,
    PayloadTooLarge,
    SubjectErased,
)
from shared.eventlog.events import CATALOGUE
from shared.settings import DEFAULT_MAX_EVENT_BYTES

APPEND_LOCK_KEY = 7_406_021_001  # the same key as compound_append() in migration 0001
EVENT_ID_NAMESPACE = uuid.UUID("5b0f7e53-6a43-4b1e-9f3c-4c0b0d6f1a11")
PREFETCH_MIN_PAGE = 1000  # read_all reads the next page ahead after a full page this large
_CONCURRENCY_SQLSTATE = "CP409"  # raised by compound_append() (migration 0001)
_ERASED_SQLSTATE = "CP410"

# Ids and metadata come as text and are parsed lazily (see RecordedEvent).
_COLUMNS = (
    "position, event_id::text, tenant_id::text, stream_id, version, type, schema_version, "
    "data::text, metadata::text, occurred_at, recorded_at"
)


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event to append: its type, its payload and when it happened (default: now)."""

    type: str
    data: Mapping[str, Any]
    occurred_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class AppendContext:
    """Who appends and why; stored as each event's metadata.

    ``idempotency_key``, with ``actor``, makes the append idempotent.
    """

    actor: str | None = None
    idempotency_key: str | None = None
    correlation_id: str | None = None
    causation_id: str | None = None
    source: str = "system"

    def metadata(self) -> dict[str, Any]:
        meta: dict[str, Any] = {"source": self.source}
        for name in ("actor", "correlation_id", "causation_id", "idempotency_key"):
            value = getattr(self, name)
            if value is not None:
                meta[name] = value
        return meta


class RecordedEvent:
    """An event as read back: upcast to its current schema, personal fields decrypted.

    A plain slotted class rather than a frozen dataclass: reading is the hot path of every
    projection, and ``event_id``, ``tenant_id`` and ``metadata``, which few readers need,
    are only parsed when first used.
    """

    __slots__ = (
        "_event_id",
        "_metadata",
        "_tenant_id",
        "data",
        "occurred_at",
        "position",
        "recorded_at",
        "schema_version",
        "stream_id",
        "type",
        "version",
    )

    def __init__(
        self,
        position: int,
        event_id: uuid.UUID | str,
        tenant_id: uuid.UUID | str,
        stream_id: str,
        version: int,
        type: str,
        schema_version: int,
        data: dict[str, Any],
        metadata: dict[str, Any] | str,
        occurred_at: datetime,
        recorded_at: datetime,
    ):
        self.position = position
        self._event_id = event_id
        self._tenant_id = tenant_id
        self.stream_id = stream_id
        self.version = version
        self.type = type
        self.schema_version = schema_version
        self.data = data
        self._metadata = metadata
        self.occurred_at = occurred_at
        self.recorded_at = recorded_at

    @property
    def event_id(self) -> uuid.UUID:
        if not isinstance(self._event_id, uuid.UUID):
            self._event_id = uuid.UUID(self._event_id)
        return self._event_id

    @property
    def tenant_id(self) -> uuid.UUID:
        if not isinstance(self._tenant_id, uuid.UUID):
            self._tenant_id = uuid.UUID(self._tenant_id)
        return self._tenant_id

    @property
    def event_id_text(self) -> str:
        """The event id as text, without building a UUID (bulk writers' hot path)."""
        return str(self._event_id)

    @property
    def tenant_id_text(self) -> str:
        return str(self._tenant_id)

    @property
    def metadata(self) -> dict[str, Any]:
        if isinstance(self._metadata, str):
            self._metadata = orjson.loads(self._metadata)
        return self._metadata  # type: ignore[return-value]

    def _key(self) -> tuple[Any, ...]:
        return (
            self.position,
            self.event_id,
            self.tenant_id,
            self.stream_id,
            self.version,
            self.type,
            self.schema_version,
            self.data,
            self.metadata,
            self.occurred_at,
            self.recorded_at,
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RecordedEvent) and self._key() == other._key()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"RecordedEvent(position={self.position}, type={self.type!r}, "
            f"stream_id={self.stream_id!r}, version={self.version})"
        )


@dataclass(frozen=True, slots=True)
class AppendResult:
    positions: tuple[int, ...]
    event_ids: tuple[uuid.UUID, ...]
    stream_version: int
    replayed: bool = False


@dataclass(frozen=True, slots=True)
class StreamAppend:
    """One stream's share of a bulk append."""

    stream_id: str
    events: Sequence[NewEvent]
    expected_version: int | None = None


@dataclass(slots=True)
class _Prepared:
    event_id: uuid.UUID
    event_type: EventType
    data: dict[str, Any]  # JSON-native, personal fields encrypted
    plain: bytes  # the JSON of the plaintext payload, to compare idempotent retries
    occurred_at: datetime
    metadata: dict[str, Any] = field(default_factory=dict)
    subject: uuid.UUID | None = None  # whose key encrypted its personal fields


def new_event_id() -> uuid.UUID:
    """A time-ordered (version 7) UUID: new index entries land together, not at random."""
    value = (time.time_ns() // 1_000_000) << 80 | int.from_bytes(os.urandom(10), "big")
    value = (value & ~(0xF << 76)) | (0x7 << 76)  # version 7
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # RFC 4122 variant
    return _uuid_from_int(value)  # valid by construction: without UUID()'s checks


def new_event_id_ints(count: int) -> list[int]:
    """``count`` new version 7 UUIDs as integers, in increasing order, from one clock read.

    They share the millisecond and 12 random bits; the other 62 bits count up from a random
    start below 2**61 (so they never carry into the variant). Increasing ids go to the
    rightmost leaf of the ``event_id`` index one after the other; random ones within the same
    millisecond land all over its last pages, which cost the server about a quarter more CPU
    for a 20,000-event COPY (docs/events.md, "Bulk append").
    """
    noise = int.from_bytes(os.urandom(10), "big")
    first = (
        (time.time_ns() // 1_000_000) << 80
        | 0x7 << 76  # version 7
        | (noise >> 68) << 64  # 12 random bits (rand_a)
        | 0x2 << 62  # RFC 9562 variant
        | noise & ((1 << 61) - 1)  # where the count starts
    )
    return list(range(first, first + count))


def _uuid_from_int(
    value: int,
    new: Any = object.__new__,
    assign: Any = object.__setattr__,
    unknown: uuid.SafeUUID = uuid.SafeUUID.unknown,
) -> uuid.UUID:
    """``uuid.UUID(int=value)`` without its argument checks (value is a valid 128-bit UUID)."""
    made = new(uuid.UUID)
    assign(made, "int", value)
    assign(made, "is_safe", unknown)
    return made


def derive_event_id(tenant_id: uuid.UUID, actor: str | None, key: str, index: int) -> uuid.UUID:
    """The id of event ``index`` of an idempotent append: the same inputs, the same id."""
    return uuid.uuid5(EVENT_ID_NAMESPACE, f"{tenant_id}|{actor or '-'}|{key}|{index}")


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
        # Per event type: its current schema version, personal fields and subject field.
        self._read_plans: dict[str, tuple[int, tuple[str, ...], str]] = {}
        self._pending = threading.local()  # per thread: the next page of read_all, read ahead

    # -- writing ---------------------------------------------------------------------------

    def append(
        self,
        tenant_id: uuid.UUID,
        stream_id: str,
        expected_version: int | None,
        events: Sequence[NewEvent],
        context: AppendContext = AppendContext(),
    ) -> AppendResult:
        """Append ``events`` to ``stream_id`` in one transaction of its own.

        Parameters:
            expected_version: the stream's current version (0 for a new stream), or ``None``
                to append whatever the version.

        Returns:
            The positions and ids written; with ``replayed=True`` those of an earlier call
            with the same idempotency key.

        Raises:
            ConcurrencyError: the stream is not at ``expected_version``.
            IdempotencyConflict: the idempotency key was used for other events.
            UnknownEventType, EventValidationError, PayloadTooLarge, SubjectErased.
        """
        # A pooled psycopg connection in autocommit mode: compound_append() is one statement,
        # so the append and its commit take a single round trip, without SQLAlchemy's
        # per-statement machinery on this hot path.
        fairy = self.engine.raw_connection()
        pg = fairy.driver_connection
        assert isinstance(pg, psycopg.Connection)
        try:
            pg.autocommit = True
            try:
                return self.append_in(pg, tenant_id, stream_id, expected_version, events, context)
            except ConcurrencyError:
                # A concurrent retry of the same idempotent call may have won the race.
                if context.idempotency_key is None:
                    raise
                replay = self._replay(pg, tenant_id, events, context)
                if replay is None:
                    raise
                return replay
            finally:
                if not pg.broken:
                    pg.autocommit = False
        except psycopg.OperationalError:
            fairy.invalidate()  # the server went away: the pool must not hand it out again
            raise
        finally:
            fairy.close()

    def append_in(
        self,
        conn: DB,
        tenant_id: uuid.UUID,
        stream_id: str,
        expected_version: int | None,
        events: Sequence[NewEvent],
        context: AppendContext = AppendContext(),
    ) -> AppendResult:
        """Like :meth:`append`, inside the caller's transaction (a unit of work).

        The caller commits; if this raises, the caller's transaction must be rolled back.
        """
        if not events:
            raise EventValidationError("(none)", {"events": ["at least one event is required"]})
        prepared = self._prepare(conn, tenant_id, events, context, start_index=0)
        subjects = sorted({p.subject for p in prepared if p.subject is not None})
        idempotent = context.idempotency_key is not None
        try:
            with as_psycopg(conn).cursor() as cur:
                if len(prepared) == 1:
                    # The common case, with the event's columns as parameters: no JSON array
                    # for the server to unpack (migration 0013).
                    event = prepared[0]
                    cur.execute(
                        "SELECT out_position, out_version, out_replayed "
                        "FROM compound_append_one(%s, %s, %s, %s, %s, %s, %s::jsonb, %s::jsonb, "
                        "%s, %s::uuid[], %s)",
                        (
                            tenant_id,
                            stream_id,
                            expected_version,
                            event.event_id,
                            event.event_type.name,
                            event.event_type.version,
                            _dumps(event.data),
                            _dumps(event.metadata),
                            event.occurred_at,
                            subjects or None,  # adapting an empty list costs more than NULL
                            idempotent,
                        ),
                        prepare=True,
                    )
                else:
                    cur.execute(
                        "SELECT out_position, out_version, out_replayed "
                        "FROM compound_append(%s, %s, %s, %s::jsonb, %s::uuid[], %s)",
                        (
                            tenant_id,
                            stream_id,
                            expected_version,
                            _events_json(prepared),
                            subjects or None,
                            idempotent,
                        ),
                        prepare=True,
                    )
                rows = cur.fetchall()
        except psycopg.errors.UniqueViolation:
            # Only a racing retry of this very call can collide (versions come under the lock).
            raise ConcurrencyError(stream_id, expected_version, -1) from None
        except psycopg.Error as err:
            if err.sqlstate == _CONCURRENCY_SQLSTATE:
                actual = int(err.diag.message_detail or -1)
                raise ConcurrencyError(stream_id, expected_version, actual) from None
            if err.sqlstate == _ERASED_SQLSTATE:
                for subject in subjects:
                    self.keyring.forget(subject)
                raise SubjectErased(subjects[0]) from None
            raise
        replayed = bool(rows[0][2])
        if replayed:
            self._check_replay(conn, [r[0] for r in rows], prepared, context)
        return AppendResult(
            positions=tuple(r[0] for r in rows),
            event_ids=tuple(p.event_id for p in prepared),
            stream_version=rows[-1][1],
            replayed=replayed,
        )

    def append_batch(
        self,
        tenant_id: uuid.UUID,
        appends: Sequence[StreamAppend],
        context: AppendContext = AppendContext(),
    ) -> list[AppendResult]:
        """Bulk append to many streams in one transaction, with COPY.

        The same guarantees as :meth:`append`: all or nothing, validated, encrypted,
        version-checked per stream, idempotent with a key (event ids derived across the
        whole batch), committed under the position lock. Keep batches to tens of thousands
        of events: appends by others wait while a batch commits.

        Raises:
            the errors of :meth:`append`.
        """
        total = sum(len(a.events) for a in appends)
        if total == 0:
            return [AppendResult((), (), 0) for _ in appends]
        with self.engine.begin() as conn:
            if context.idempotency_key is not None:
                replay = self._replay_batch(conn, tenant_id, appends, context)
                if replay is not None:
                    return replay
            keys = {
                subject: self.keyring.data_key_for_write(conn, tenant_id, subject)
                for subject in sorted(
                    self._subjects_with_personal_data(e for a in appends for e in a.events)
                )
            }
            with as_psycopg(conn).cursor() as cur:
                cur.execute("SELECT pg_advisory_xact_lock(%s)", (APPEND_LOCK_KEY,))
                if keys:
                    cur.execute(
                        "SELECT subject_id FROM data_keys WHERE subject_id = ANY(%s) "
                        "AND wrapped_key IS NULL LIMIT 1",
                        (list(keys),),
                    )
                    erased = cur.fetchone()
                    if erased:
                        self.keyring.forget(erased[0])
                        raise SubjectErased(erased[0])
                # One backward index probe per stream (a GROUP BY would read whole streams).
                cur.execute(
                    "SELECT s, (SELECT max(version) FROM events WHERE stream_id = s) "
                    "FROM unnest(%s::text[]) AS s",
                    ([a.stream_id for a in appends],),
                )
                current: dict[str, int] = {s: v for s, v in cur.fetchall() if v is not None}
                for item in appends:
                    actual = current.get(item.stream_id, 0)
                    if item.expected_version is not None and item.expected_version != actual:
                        raise ConcurrencyError(item.stream_id, item.expected_version, actual)
                # Each stream's events are validated and encrypted just before they are sent,
                # so Python's work overlaps PostgreSQL's; an invalid event aborts the whole COPY.
                groups: list[tuple[list[uuid.UUID], int]] = []
                with cur.copy(
                    "COPY events (event_id, tenant_id, stream_id, version, type, "
                    "schema_version, data, metadata, occurred_at) FROM STDIN",
                ) as copy:
                    lines = _CopyLines(self, tenant_id, context, keys, total)
                    for item in appends:
                        version = current.get(item.stream_id, 0)
                        copy.write(lines.stream(item.stream_id, version, item.events))
                        version += len(item.events)
                        current[item.stream_id] = version
                        groups.append((lines.take_ids(), version))
                # Under the position lock nobody else draws from the sequence, so this
                # batch holds exactly the last `total` positions, in COPY order.
                cur.execute("SELECT currval(pg_get_serial_sequence('events', 'position'))")
                row = cur.fetchone()
                assert row is not None
                position = int(row[0]) - total
        results = []
        for ids, version in groups:
            results.append(
                AppendResult(
                    tuple(range(position + 1, position + 1 + len(ids))),
                    tuple(ids),
                    version if ids else 0,
                )
            )
            position += len(ids)
        return results

    def _replay_batch(
        self,
        conn: DB,
        tenant_id: uuid.UUID,
        appends: Sequence[StreamAppend],
        context: AppendContext,
    ) -> list[AppendResult] | None:
        """The original results if this idempotent batch was appended before, else None."""
        assert context.idempotency_key is not None
        ids = [
            derive_event_id(tenant_id, context.actor, context.idempotency_key, i)
            for i in range(sum(len(a.events) for a in appends))
        ]
        stored = self._stored(conn, ids)
        if not stored:
            return None
        if len(stored) != len(ids):
            raise IdempotencyConflict(context.idempotency_key)
        prepared: list[list[_Prepared]] = []
        index = 0
        for item in appends:
            prepared.append(self._prepare(conn, tenant_id, item.events, context, index))
            index += len(item.events)
        flat = [p for group in prepared for p in group]
        self._check_replay(conn, [stored[p.event_id][0] for p in flat], flat, context)
        return [
            AppendResult(
                tuple(stored[p.event_id][0] for p in group),
                tuple(p.event_id for p in group),
                stored[group[-1].event_id][1] if group else 0,
                replayed=True,
            )
            for group in prepared
        ]

    def erase(
        self, tenant_id: uuid.UUID, person_id: uuid.UUID, context: AppendContext
    ) -> AppendResult:
        """Crypto-shred a person: delete their data key and append ``PersonErased``.

        Afterwards every personal field of theirs reads as ``ERASED`` and no new personal
        data can be stored for them.
        """
        with self.engine.begin() as conn:
            self.keyring.erase(conn, tenant_id, person_id)
            return self.append_in(
                conn,
                tenant_id,
                f"person-{person_id}",
                None,
                [NewEvent("PersonErased", {"person_id": person_id})],
                context,
            )

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
        module docstring), so a checkpoint at the last position read is safe. With
        ``decrypt=False`` personal fields read as :data:`SEALED` (for readers that never use
        them, such as most projections: it saves the decryption). ``tenant_id`` filters the
        position range as it is scanned (the log has no tenant index: appends would pay for
        it and no production reader needs it), so keep it to recent ranges.
        """
        where = ["position > %s"]
        params: list[Any] = [after]
        type_list = None if types is None else list(types)
        if type_list is not None:
            where.append("type = ANY(%s)")
            params.append(type_list)
        if tenant_id is not None:
            where.append("tenant_id = %s")
            params.append(tenant_id)
        sql = (
            f"SELECT {_COLUMNS} FROM events WHERE {' AND '.join(where)} ORDER BY position LIMIT %s"
        )
        params.append(limit)
        filters = (limit, None if type_list is None else tuple(type_list), tenant_id)
        rows = self._prefetched(after, filters)
        if rows is None:
            rows = self._fetch(sql, params)
        if len(rows) == limit >= PREFETCH_MIN_PAGE:
            # A reader of a full page usually asks for the next one: read it meanwhile.
            self._prefetch(rows[-1][0], filters, sql, [rows[-1][0], *params[1:]])
        with self.engine.connect() as conn, _collector_paused():
            return self._decode(conn, rows, decrypt)

    def _fetch(
        self, sql: str, params: Sequence[Any], setup: str | None = None
    ) -> list[tuple[Any, ...]]:
        """The rows of one page of ``read_all``, on a pooled connection of its own; ``setup``
        is a statement run first in the same transaction (planner settings, say)."""
        pool = self.engine.pool
        fairy = self.engine.raw_connection()
        try:
            pg = fairy.driver_connection
            assert isinstance(pg, psycopg.Connection)
            with pg.cursor(binary=True) as cur:
                # Timestamps read as UTC datetimes: psycopg gives them the session's zone, and
                # for any zone but "UTC" (the embedded server's is "Etc/UTC") it converts each
                # value with astimezone(), which cost more than the rest of a row's columns.
                # SET LOCAL ends with this transaction, when the connection goes back.
                cur.execute("SET LOCAL TIME ZONE 'UTC'")
                if setup is not None:
                    cur.execute(setup)
                with _collector_paused():
                    cur.execute(sql, params)
                    rows = cur.fetchall()
            if self.engine.pool is not pool:  # disposed meanwhile: do not leave it open
                fairy.invalidate()
            return rows
        except psycopg.OperationalError:
            fairy.invalidate()
            raise
        finally:
            fairy.close()

    def _prefetch(
        self, after: int, filters: tuple[Any, ...], sql: str, params: Sequence[Any]
    ) -> None:
        """Start reading the page after ``after`` in the background, for this thread."""
        self._pending.page = (after, filters, _prefetcher().submit(self._fetch, sql, params))

    def _prefetched(self, after: int, filters: tuple[Any, ...]) -> list[tuple[Any, ...]] | None:
        """The rows read ahead for this call, if they can stand for a fresh read.

        Only a full page can: the log is read in commit order, which is position order, so
        the first ``limit`` events after ``after`` are the same in every later snapshot. A
        shorter page may miss events committed since, so it is read again.
        """
        pending = getattr(self._pending, "page", None)
        if pending is None:
            return None
        self._pending.page = None
        start, wanted, future = pending
        if start != after or wanted != filters:
            return None
        try:
            rows: list[tuple[Any, ...]] = future.result()
        except Exception:  # read again in the foreground, where an error is raised to the caller
            return None
        return rows if len(rows) == filters[0] else None

    def read_stream(
        self, stream_id: str, after_version: int = 0, limit: int | None = None
    ) -> list[RecordedEvent]:
        """The events of one stream with ``version > after_version``, in version order."""
        sql = (
            f"SELECT {_COLUMNS} FROM events WHERE stream_id = %s AND version > %s ORDER BY version"
        )
        params: list[Any] = [stream_id, after_version]
        if limit is not None:
            sql += " LIMIT %s"
            params.append(limit)
        with self.engine.connect() as conn, _collector_paused():
            with as_psycopg(conn).cursor(binary=True) as cur:
                cur.execute(sql, params)
                rows = cur.fetchall()
            return self._decode(conn, rows)

    def read_positions(self, conn: DB, positions: Sequence[int]) -> list[RecordedEvent]:
        """The events at ``positions``, read in ``conn``'s transaction (its own writes too)."""
        with as_psycopg(conn).cursor(binary=True) as cur:
            cur.execute(
                f"SELECT {_COLUMNS} FROM events WHERE position = ANY(%s) ORDER BY position",
                (list(positions),),
            )
            return self._decode(conn, cur.fetchall())

    def find(
        self, stream_id: str, event_type: str, match: Mapping[str, Any]
    ) -> RecordedEvent | None:
        """The first event of ``event_type`` in the stream whose data contains ``match``.

        ``match`` may name only fields that are not personal (those are stored encrypted).
        """
        with self.engine.connect() as conn, as_psycopg(conn).cursor(binary=True) as cur:
            cur.execute(
                f"SELECT {_COLUMNS} FROM events WHERE stream_id = %s AND type = %s "
                "AND data @> %s::jsonb ORDER BY position LIMIT 1",
                (stream_id, event_type, _dumps(dict(match))),
            )
            rows = cur.fetchall()
            return self._decode(conn, rows)[0] if rows else None

    def iter_all(self, after: int = 0, batch: int = 5000) -> Iterator[RecordedEvent]:
        """Every committed event after ``after``, read in batches."""
        while True:
            events = self.read_all(after, batch)
            yield from events
            if len(events) < batch:
                return
            after = events[-1].position

    def head(self) -> int:
        """The highest committed position (0 for an empty log)."""
        with self.engine.connect() as conn:
            value = conn.execute(text("SELECT coalesce(max(position), 0) FROM events")).scalar()
        return int(value or 0)

    def stream_version(self, stream_id: str) -> int:
        with self.engine.connect() as conn:
            value = conn.execute(
                text("SELECT coalesce(max(version), 0) FROM events WHERE stream_id = :s"),
                {"s": stream_id},
            ).scalar()
        return int(value or 0)

    # -- internals -------------------------------------------------------------------------

    def _prepare(
        self,
        conn: DB,
        tenant_id: uuid.UUID,
        events: Sequence[NewEvent],
        context: AppendContext,
        start_index: int,
    ) -> list[_Prepared]:
        """Validate, size-check, derive ids and encrypt: everything before SQL."""
        return list(self._iter_prepared(conn, tenant_id, events, context, start_index, {}))

    def _iter_prepared(
        self,
        conn: DB | None,
        tenant_id: uuid.UUID,
        events: Sequence[NewEvent],
        context: AppendContext,
        start_index: int,
        keys: dict[uuid.UUID, Any],
    ) -> Iterator[_Prepared]:
        """Prepare events one by one; data keys come from ``keys``, else from the keyring."""
        now = datetime.now(UTC)
        metadata = context.metadata()
        for offset, event in enumerate(events):
            event_type, data = self.catalogue.normalise(event.type, event.data)
            plain = orjson.dumps(data, option=orjson.OPT_SORT_KEYS)
            if len(plain) > self.max_event_bytes:
                raise PayloadTooLarge(event.type, len(plain), self.max_event_bytes)
            subject = None
            if event_type.personal:
                secret = [f for f in event_type.personal if data.get(f) is not None]
                if secret:
                    subject = uuid.UUID(data[event_type.subject or ""])
                    key = keys.get(subject)
                    if key is None:
                        assert conn is not None, f"no data key loaded for {subject}"
                        key = keys[subject] = self.keyring.data_key_for_write(
                            conn, tenant_id, subject
                        )
                    for name in secret:
                        data[name] = KeyRing.encrypt_value(key, subject, data[name])
            if context.idempotency_key is not None:
                event_id = derive_event_id(
                    tenant_id, context.actor, context.idempotency_key, start_index + offset
                )
            else:
                event_id = new_event_id()
            occurred_at = event.occurred_at or now
            if occurred_at.tzinfo is None:
                raise EventValidationError(
                    event.type, {"occurred_at": ["must include a time zone offset"]}
                )
            yield _Prepared(event_id, event_type, data, plain, occurred_at, metadata, subject)

    def _subjects_with_personal_data(self, events: Iterable[NewEvent]) -> set[uuid.UUID]:
        """Who needs a data key for ``events`` (an invalid subject is left to validation).

        A bulk append scans every event with this before its COPY, so it is kept to a dict
        lookup per event and a UUID parse per distinct subject.
        """
        raw: set[str] = set()
        plans: dict[str, tuple[tuple[str, ...], str] | None] = {}  # per type: personal, subject
        for event in events:
            try:
                plan = plans[event.type]
            except KeyError:
                event_type = (
                    self.catalogue.current(event.type) if event.type in self.catalogue else None
                )
                plan = plans[event.type] = (
                    (tuple(sorted(event_type.personal)), event_type.subject or "")
                    if event_type is not None and event_type.personal
                    else None
                )
            if plan is None:
                continue
            data = event.data
            if type(data) is not dict and not isinstance(data, Mapping):
                continue
            for name in plan[0]:
                if data.get(name) is not None:
                    value = data.get(plan[1])
                    raw.add(value if type(value) is str else str(value))
                    break
        subjects = set()
        for value in raw:
            try:
                subjects.add(uuid.UUID(value))
            except ValueError:
                continue
        return subjects

    def _stored(self, conn: DB, event_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, tuple[int, int]]:
        """Position and version of each of ``event_ids`` already in the log."""
        with as_psycopg(conn).cursor() as cur:
            cur.execute(
                "SELECT event_id, position, version FROM events WHERE event_id = ANY(%s)",
                (list(event_ids),),
            )
            return {event_id: (position, version) for event_id, position, version in cur}

    def _replay(
        self,
        conn: DB,
        tenant_id: uuid.UUID,
        events: Sequence[NewEvent],
        context: AppendContext,
    ) -> AppendResult | None:
        prepared = self._prepare(conn, tenant_id, events, context, 0)
        found = self._stored(conn, [p.event_id for p in prepared])
        if not found:
            return None
        if len(found) != len(prepared):
            raise IdempotencyConflict(context.idempotency_key or "")
        positions = [found[p.event_id][0] for p in prepared]
        stored = self._check_replay(conn, positions, prepared, context)
        return AppendResult(
            tuple(positions), tuple(p.event_id for p in prepared), stored[-1].version, True
        )

    def _check_replay(
        self,
        conn: DB,
        positions: Sequence[int],
        prepared: Sequence[_Prepared],
        context: AppendContext,
    ) -> list[RecordedEvent]:
        """Raise IdempotencyConflict unless the stored events equal the new ones."""
        with as_psycopg(conn).cursor() as cur:
            cur.execute(
                f"SELECT {_COLUMNS} FROM events WHERE position = ANY(%s) ORDER BY position",
                (list(positions),),
            )
            stored = self._decode(conn, cur.fetchall())
        same = len(stored) == len(prepared) and all(
            s.type == p.event_type.name
            and orjson.dumps(s.data, option=orjson.OPT_SORT_KEYS) == p.plain
            for s, p in zip(stored, prepared, strict=True)
        )
        if not same:
            raise IdempotencyConflict(context.idempotency_key or "")
        return stored

    def _decode(
        self, conn: DB, rows: Sequence[tuple[Any, ...]], decrypt: bool = True
    ) -> list[RecordedEvent]:
        """Rows -> RecordedEvents: decrypt personal fields, upcast old schema versions.

        Every reader's path, so it is one pass with as little per-row work as possible: one
        plan lookup by type, and personal fields looked at only for types that have them.
        """
        plans = self._read_plans
        loads = orjson.loads
        events: list[RecordedEvent] = []
        append = events.append
        sealed: list[tuple[dict[str, Any], str, tuple[str, ...]]] = []
        stale: list[int] = []
        for p, e, t, s, v, ty, sv, d, m, o, r in rows:
            data = loads(d)
            try:
                current, personal, subject = plans[ty]
            except KeyError:
                current, personal, subject = self._read_plan(ty)
            if sv != current:
                stale.append(len(events))
                personal, subject = self._personal_of(ty, sv)
            if personal:
                for name in personal:
                    if data.get(name) is not None:
                        sealed.append((data, data[subject], personal))
                        break
            append(RecordedEvent(p, e, t, s, v, ty, sv, data, m, o, r))
        if sealed:
            self._open(conn, sealed, decrypt)
        for i in stale:
            event = events[i]
            version, data = self.catalogue.upcast(event.type, event.schema_version, event.data)
            events[i] = _with_data(event, version, data)
        return events

    def _open(
        self, conn: DB, sealed: list[tuple[dict[str, Any], str, tuple[str, ...]]], decrypt: bool
    ) -> None:
        """Decrypt (or, without ``decrypt``, seal) the personal fields of ``sealed`` payloads.

        Keys are asked for once per page: the database says whether each still exists, so
        an erasure is seen by the next page read anywhere.
        """
        if not decrypt:
            for data, _, personal in sealed:
                for name in personal:
                    if data.get(name) is not None:
                        data[name] = SEALED
            return
        subjects = {s: uuid.UUID(s) for s in {subject for _, subject, _ in sealed}}
        keys = self.keyring.data_keys_for_read(conn, subjects.values())
        opened = {s: (keys[u], u.bytes) for s, u in subjects.items()}
        a2b, loads = binascii.a2b_base64, orjson.loads
        for data, subject, personal in sealed:
            key, associated = opened[subject]
            for name in personal:
                value = data.get(name)
                if value is None:
                    continue
                if key is None:
                    data[name] = ERASED
                else:  # open_value, inline: "v1:" + base64(nonce + ciphertext)
                    raw = a2b(value[3:])
                    data[name] = loads(key.decrypt(raw[:12], raw[12:], associated))

    def _read_plan(self, type_: str) -> tuple[int, tuple[str, ...], str]:
        """The current schema version of ``type_``, its personal fields and subject field."""
        event_type = self.catalogue.current(type_)
        plan = (event_type.version, tuple(sorted(event_type.personal)), event_type.subject or "")
        self._read_plans[type_] = plan
        return plan

    def _personal_of(self, type_: str, schema_version: int) -> tuple[tuple[str, ...], str]:
        """The personal fields and subject field of an older schema version of ``type_``."""
        event_type = self.catalogue.get(type_, schema_version)
        return tuple(sorted(event_type.personal)), event_type.subject or ""


class _CopyLines:
    """The COPY text of a bulk append, one stream at a time: :meth:`EventStore.append_batch`'s
    hot path, so validation, encryption, ids and formatting are done in one tight loop."""

    def __init__(
        self,
        store: EventStore,
        tenant_id: uuid.UUID,
        context: AppendContext,
        keys: Mapping[uuid.UUID, Any],
        total: int,
    ):
        self.store = store
        self.tenant_id = tenant_id
        self.context = context
        self.keys = keys
        self.tenant_text = str(tenant_id)
        self.metadata_text = copy_text(_dumps(context.metadata()))
        self.now = datetime.now(UTC)
        self.index = 0  # of the next event in the whole batch (for derived ids)
        # Without an idempotency key, ids are fresh version 7 UUIDs, written to COPY as hex.
        self.fresh = None if context.idempotency_key else iter(new_event_id_ints(total))
        self.ids: list[uuid.UUID] = []
        # Subject ids as normalised payloads write them (canonical text) -> (id, data key).
        self.by_text = {str(subject): (subject, key) for subject, key in keys.items()}

    def _key_of(self, subject_text: str) -> tuple[uuid.UUID, Any]:
        found = self.by_text.get(subject_text)
        if found is None:
            subject = uuid.UUID(subject_text)
            key = self.keys.get(subject)
            assert key is not None, f"no data key loaded for {subject}"
            found = self.by_text[subject_text] = (subject, key)
        return found

    def take_ids(self) -> list[uuid.UUID]:
        """The ids of the stream written last."""
        ids, self.ids = self.ids, []
        return ids

    def stream(self, stream_id: str, version: int, events: Sequence[NewEvent]) -> str:
        """COPY lines for ``events`` appended to ``stream_id`` after ``version``."""
        normalise = self.store.catalogue.normalise
        limit = self.store.max_event_bytes
        fresh, ids, now = self.fresh, self.ids, self.now
        context = self.context
        dumps, sort_keys = orjson.dumps, orjson.OPT_SORT_KEYS
        encrypt = KeyRing.encrypt_value
        middle = f"\t{self.tenant_text}\t{copy_text(stream_id)}\t"
        metadata_text = self.metadata_text
        moment: datetime | None = None
        moment_text = ""
        lines = []
        for event in events:
            event_type, data = normalise(event.type, event.data)
            plain = dumps(data, option=sort_keys)
            if len(plain) > limit:
                raise PayloadTooLarge(event.type, len(plain), limit)
            if event_type.personal:
                sealed = False
                for name in event_type.personal:
                    if data.get(name) is not None:
                        if not sealed:
                            subject, key = self._key_of(data[event_type.subject or ""])
                            sealed = True
                        data[name] = encrypt(key, subject, data[name])
                if sealed:
                    plain = dumps(data)
            text = plain.decode()
            if "\\" in text:  # orjson never writes raw tabs or newlines
                text = text.replace("\\", "\\\\")
            if fresh is not None:
                value = next(fresh)
                id_text = f"{value:032x}"
                ids.append(_uuid_from_int(value))
            else:
                assert context.idempotency_key is not None
                event_id = derive_event_id(
                    self.tenant_id, context.actor, context.idempotency_key, self.index
                )
                id_text = str(event_id)
                ids.append(event_id)
            self.index += 1
            occurred_at = event.occurred_at or now
            if occurred_at is not moment:
                if occurred_at.tzinfo is None:
                    raise EventValidationError(
                        event.type, {"occurred_at": ["must include a time zone offset"]}
                    )
                moment, moment_text = occurred_at, occurred_at.isoformat()
            version += 1
            lines.append(
                f"{id_text}{middle}{version}\t{event_type.name}\t{event_type.version}\t"
                f"{text}\t{metadata_text}\t{moment_text}\n"
            )
        return "".join(lines)


_PREFETCHERS: dict[int, ThreadPoolExecutor] = {}


def _prefetcher() -> ThreadPoolExecutor:
    """This process's threads reading pages ahead (created after any fork, per process)."""
    pid = os.getpid()
    executor = _PREFETCHERS.get(pid)
    if executor is None:
        executor = _PREFETCHERS[pid] = ThreadPoolExecutor(
            max_workers=2, thread_name_prefix="eventlog-read-ahead"
        )
    return executor


class _CollectorPause:
    """Who is pausing the cyclic garbage collector, across threads (see _collector_paused)."""

    lock = threading.Lock()
    depth = 0  # pauses in progress, in any thread
    resume = False  # whether the collector was enabled when the first one began


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a page of events is fetched or built.

    A page allocates tens of thousands of row tuples and events without reference cycles;
    the collector's generation scans over them cost about a fifth of read time. The read
    ahead fetches the next page in another thread while this one decodes, so the pause is
    counted: the collector resumes when the last pause ends, not when the first does.
    """
    with _CollectorPause.lock:
        if _CollectorPause.depth == 0:
            _CollectorPause.resume = gc.isenabled()
            gc.disable()
        _CollectorPause.depth += 1
    try:
        yield
    finally:
        with _CollectorPause.lock:
            _CollectorPause.depth -= 1
            if _CollectorPause.depth == 0 and _CollectorPause.resume:
                gc.enable()


def copy_text(value: str) -> str:
    """Escape a value for COPY's text format (JSON from orjson has no raw tabs or newlines,
    but a stream id might)."""
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return (
            value.replace("\\", "\\\\")
            .replace("\t", "\\t")
            .replace("\n", "\\n")
            .replace("\r", "\\r")
        )
    return value


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def _events_json(prepared: Sequence[_Prepared]) -> str:
    """The events of an append as compound_append() takes them: one JSON array."""
    return orjson.dumps(
        [
            {
                "event_id": p.event_id,
                "type": p.event_type.name,
                "schema_version": p.event_type.version,
                "data": p.data,
                "metadata": p.metadata,
                "occurred_at": p.occurred_at,
            }
            for p in prepared
        ]
    ).decode()


def _with_data(event: RecordedEvent, schema_version: int, data: dict[str, Any]) -> RecordedEvent:
    return RecordedEvent(
        event.position,
        event.event_id,
        event.tenant_id,
        event.stream_id,
        event.version,
        event.type,
        schema_version,
        data,
        event.metadata,
        event.occurred_at,
        event.recorded_at,
    )

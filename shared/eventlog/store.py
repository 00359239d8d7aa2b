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

import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
import psycopg
from psycopg.types.json import Jsonb
from sqlalchemy import Connection, Engine, text

from shared.eventlog.catalogue import Catalogue, EventType
from shared.eventlog.crypto import KeyRing
from shared.eventlog.errors import (
    ConcurrencyError,
    EventValidationError,
    IdempotencyConflict,
    PayloadTooLarge,
)
from shared.eventlog.events import CATALOGUE
from shared.settings import DEFAULT_MAX_EVENT_BYTES

APPEND_LOCK_KEY = 7_406_021_001  # the same key as compound_append() in migration 0001
EVENT_ID_NAMESPACE = uuid.UUID("5b0f7e53-6a43-4b1e-9f3c-4c0b0d6f1a11")
_CONCURRENCY_SQLSTATE = "CP409"

_COLUMNS = (
    "position, event_id, tenant_id, stream_id, version, type, schema_version, "
    "data, metadata, occurred_at, recorded_at"
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


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    """An event as read back: upcast to its current schema, personal fields decrypted."""

    position: int
    event_id: uuid.UUID
    tenant_id: uuid.UUID
    stream_id: str
    version: int
    type: str
    schema_version: int
    data: dict[str, Any]
    metadata: dict[str, Any]
    occurred_at: datetime
    recorded_at: datetime


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


def derive_event_id(tenant_id: uuid.UUID, actor: str | None, key: str, index: int) -> uuid.UUID:
    """The id of event ``index`` of an idempotent append: the same inputs, the same id."""
    return uuid.uuid5(EVENT_ID_NAMESPACE, f"{tenant_id}|{actor or '-'}|{key}|{index}")


def raw_connection(conn: Connection) -> psycopg.Connection[Any]:
    """The psycopg connection under a SQLAlchemy connection (same transaction)."""
    driver = conn.connection.driver_connection
    assert isinstance(driver, psycopg.Connection)
    return driver


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
        try:
            with self.engine.begin() as conn:
                return self.append_in(conn, tenant_id, stream_id, expected_version, events, context)
        except ConcurrencyError:
            # A concurrent retry of the same idempotent call may have won the race.
            if context.idempotency_key is None:
                raise
            with self.engine.begin() as conn:
                replay = self._replay(conn, tenant_id, events, context)
            if replay is None:
                raise
            return replay

    def append_in(
        self,
        conn: Connection,
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
        payload = orjson.dumps(
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
        raw = raw_connection(conn)
        try:
            with raw.cursor() as cur:
                # A savepoint-free call: on error the whole transaction is rolled back.
                cur.execute(
                    "SELECT out_position, out_version, out_replayed "
                    "FROM compound_append(%s, %s, %s, %s::jsonb)",
                    (tenant_id, stream_id, expected_version, payload),
                )
                rows = cur.fetchall()
        except psycopg.errors.UniqueViolation:
            raise ConcurrencyError(stream_id, expected_version, -1) from None
        except psycopg.Error as err:
            if err.sqlstate == _CONCURRENCY_SQLSTATE:
                actual = int(err.diag.message_detail or -1)
                raise ConcurrencyError(stream_id, expected_version, actual) from None
            raise
        if rows and rows[0][2]:
            self._check_replay(conn, [r[0] for r in rows], prepared, context)
        return AppendResult(
            positions=tuple(r[0] for r in rows),
            event_ids=tuple(p.event_id for p in prepared),
            stream_version=rows[-1][1],
            replayed=bool(rows[0][2]),
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
        with self.engine.begin() as conn:
            prepared: list[list[_Prepared]] = []
            index = 0
            for item in appends:
                prepared.append(self._prepare(conn, tenant_id, item.events, context, index))
                index += len(item.events)
            flat = [p for group in prepared for p in group]
            if not flat:
                return []
            replay = self._existing_positions(conn, [p.event_id for p in flat])
            if replay:
                if len(replay) != len(flat):
                    raise IdempotencyConflict(context.idempotency_key or "(derived ids)")
                self._check_replay(conn, [replay[p.event_id] for p in flat], flat, context)
                return self._batch_results(conn, appends, prepared, replay, replayed=True)
            raw = raw_connection(conn)
            with raw.cursor() as cur:
                cur.execute("SELECT pg_advisory_xact_lock(%s)", (APPEND_LOCK_KEY,))
                streams = [a.stream_id for a in appends]
                cur.execute(
                    "SELECT stream_id, max(version) FROM events WHERE stream_id = ANY(%s) "
                    "GROUP BY stream_id",
                    (streams,),
                )
                current: dict[str, int] = dict(cur.fetchall())
                for item in appends:
                    actual = current.get(item.stream_id, 0)
                    if item.expected_version is not None and item.expected_version != actual:
                        raise ConcurrencyError(item.stream_id, item.expected_version, actual)
                with cur.copy(
                    "COPY events (event_id, tenant_id, stream_id, version, type, "
                    "schema_version, data, metadata, occurred_at) FROM STDIN"
                ) as copy:
                    for item, group in zip(appends, prepared, strict=True):
                        version = current.get(item.stream_id, 0)
                        for p in group:
                            version += 1
                            copy.write_row(
                                (
                                    p.event_id,
                                    tenant_id,
                                    item.stream_id,
                                    version,
                                    p.event_type.name,
                                    p.event_type.version,
                                    Jsonb(p.data, dumps=_dumps),
                                    Jsonb(p.metadata, dumps=_dumps),
                                    p.occurred_at,
                                )
                            )
                        current[item.stream_id] = version
            positions = self._existing_positions(conn, [p.event_id for p in flat])
            return self._batch_results(conn, appends, prepared, positions, replayed=False)

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
    ) -> list[RecordedEvent]:
        """Up to ``limit`` committed events with ``position > after``, in position order.

        Never skips an event: what a reader sees is always a prefix of the log (see the
        module docstring), so a checkpoint at the last position read is safe.
        """
        where = ["position > %s"]
        params: list[Any] = [after]
        if types is not None:
            where.append("type = ANY(%s)")
            params.append(list(types))
        if tenant_id is not None:
            where.append("tenant_id = %s")
            params.append(tenant_id)
        sql = (
            f"SELECT {_COLUMNS} FROM events WHERE {' AND '.join(where)} ORDER BY position LIMIT %s"
        )
        params.append(limit)
        with self.engine.connect() as conn:
            with raw_connection(conn).cursor() as cur:
                cur.execute(sql, params)
                rows = cur.fetchall()
            return self._decode(conn, rows)

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
        with self.engine.connect() as conn:
            with raw_connection(conn).cursor() as cur:
                cur.execute(sql, params)
                rows = cur.fetchall()
            return self._decode(conn, rows)

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
        conn: Connection,
        tenant_id: uuid.UUID,
        events: Sequence[NewEvent],
        context: AppendContext,
        start_index: int,
    ) -> list[_Prepared]:
        """Validate, size-check, derive ids and encrypt: everything before SQL."""
        now = datetime.now(UTC)
        metadata = context.metadata()
        keys: dict[uuid.UUID, Any] = {}
        prepared = []
        for offset, event in enumerate(events):
            event_type, loaded = self.catalogue.normalise(event.type, event.data)
            plain = orjson.dumps(loaded, option=orjson.OPT_SORT_KEYS)
            if len(plain) > self.max_event_bytes:
                raise PayloadTooLarge(event.type, len(plain), self.max_event_bytes)
            data: dict[str, Any] = orjson.loads(plain)
            secret = [f for f in event_type.personal if data.get(f) is not None]
            if secret:
                assert event_type.subject is not None
                subject = uuid.UUID(data[event_type.subject])
                if subject not in keys:
                    keys[subject] = self.keyring.data_key_for_write(conn, tenant_id, subject)
                for name in secret:
                    data[name] = KeyRing.encrypt_value(keys[subject], data[name])
            if context.idempotency_key is not None:
                event_id = derive_event_id(
                    tenant_id, context.actor, context.idempotency_key, start_index + offset
                )
            else:
                event_id = uuid.uuid4()
            occurred_at = event.occurred_at or now
            if occurred_at.tzinfo is None:
                raise EventValidationError(
                    event.type, {"occurred_at": ["must include a time zone offset"]}
                )
            prepared.append(_Prepared(event_id, event_type, data, plain, occurred_at, metadata))
        return prepared

    def _existing_positions(
        self, conn: Connection, event_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, int]:
        with raw_connection(conn).cursor() as cur:
            cur.execute(
                "SELECT event_id, position FROM events WHERE event_id = ANY(%s)",
                (list(event_ids),),
            )
            return dict(cur.fetchall())

    def _replay(
        self,
        conn: Connection,
        tenant_id: uuid.UUID,
        events: Sequence[NewEvent],
        context: AppendContext,
    ) -> AppendResult | None:
        prepared = self._prepare(conn, tenant_id, events, context, 0)
        found = self._existing_positions(conn, [p.event_id for p in prepared])
        if not found:
            return None
        if len(found) != len(prepared):
            raise IdempotencyConflict(context.idempotency_key or "")
        positions = [found[p.event_id] for p in prepared]
        stored = self._check_replay(conn, positions, prepared, context)
        return AppendResult(
            tuple(positions), tuple(p.event_id for p in prepared), stored[-1].version, True
        )

    def _check_replay(
        self,
        conn: Connection,
        positions: Sequence[int],
        prepared: Sequence[_Prepared],
        context: AppendContext,
    ) -> list[RecordedEvent]:
        """Raise IdempotencyConflict unless the stored events equal the new ones."""
        with raw_connection(conn).cursor() as cur:
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

    def _batch_results(
        self,
        conn: Connection,
        appends: Sequence[StreamAppend],
        prepared: Sequence[Sequence[_Prepared]],
        positions: Mapping[uuid.UUID, int],
        replayed: bool,
    ) -> list[AppendResult]:
        results = []
        with raw_connection(conn).cursor() as cur:
            for item, group in zip(appends, prepared, strict=True):
                if not group:
                    results.append(AppendResult((), (), 0, replayed))
                    continue
                last = positions[group[-1].event_id]
                cur.execute("SELECT version FROM events WHERE position = %s", (last,))
                version_row = cur.fetchone()
                assert version_row is not None, item.stream_id
                results.append(
                    AppendResult(
                        tuple(positions[p.event_id] for p in group),
                        tuple(p.event_id for p in group),
                        version_row[0],
                        replayed,
                    )
                )
        return results

    def _decode(self, conn: Connection, rows: Sequence[tuple[Any, ...]]) -> list[RecordedEvent]:
        """Rows -> RecordedEvents: upcast old schema versions, decrypt personal fields."""
        catalogue = self.catalogue
        events: list[RecordedEvent] = []
        needs_keys: list[tuple[int, EventType]] = []
        for row in rows:
            (
                position,
                event_id,
                tenant_id,
                stream_id,
                version,
                type_,
                schema_version,
                data,
                metadata,
                occurred_at,
                recorded_at,
            ) = row
            event_type = catalogue.get(type_, schema_version)
            if event_type.personal and any(data.get(f) is not None for f in event_type.personal):
                needs_keys.append((len(events), event_type))
            events.append(
                RecordedEvent(
                    position,
                    event_id,
                    tenant_id,
                    stream_id,
                    version,
                    type_,
                    schema_version,
                    data,
                    metadata,
                    occurred_at,
                    recorded_at,
                )
            )
        if needs_keys:
            subjects = {i: uuid.UUID(events[i].data[t.subject or ""]) for i, t in needs_keys}
            keys = self.keyring.data_keys_for_read(conn, subjects.values())
            for i, event_type in needs_keys:
                data = events[i].data
                key = keys[subjects[i]]
                for name in event_type.personal:
                    if data.get(name) is not None:
                        data[name] = KeyRing.decrypt_value(key, data[name])
        for i, event in enumerate(events):
            current = catalogue.current(event.type).version
            if event.schema_version < current:
                version, data = catalogue.upcast(event.type, event.schema_version, event.data)
                events[i] = _with_data(event, version, data)
        return events


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


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

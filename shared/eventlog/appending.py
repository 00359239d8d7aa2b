"""The three ways into the log: one stream on a connection of its own (:meth:`append`), one
stream in the caller's transaction (:meth:`append_in`) and many streams by COPY
(:meth:`append_batch`).

All three validate, encrypt and size-check every event (shared/eventlog/preparing.py and
batch_lines.py), check each stream's expected version, and write under the position lock
(``APPEND_LOCK_KEY``), so commits happen in position order and no reader skips an event
(docs/events.md, "Positions").
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from functools import cache
from typing import Any

import orjson
import psycopg
from sqlalchemy import Engine

from shared.database import LIST_SQL, as_psycopg, autocommit_connection, joined
from shared.eventlog.batch_lines import BATCH_COLUMNS, BatchLines
from shared.eventlog.crypto import DB, KeyRing
from shared.eventlog.errors import ConcurrencyError, EventValidationError, SubjectErased
from shared.eventlog.preparing import EventPreparer, PreparedEvent, dumps, events_json
from shared.eventlog.records import (
    AppendContext,
    AppendResult,
    NewEvent,
    RecordedEvent,
    StreamAppend,
    StreamCap,
)
from shared.eventlog.replaying import Replayer

APPEND_LOCK_KEY = 7_406_021_001  # the same key as compound_append() in migration 0001
CONCURRENCY_SQLSTATE = "CP409"  # raised by compound_append() (migration 0001)
ERASED_SQLSTATE = "CP410"  # raised by compound_append() for an erased subject

# The subjects (ids of the people whose data keys sealed the events' personal fields) are sent
# as one comma-joined string, split by the server: adapting a list of UUIDs cost more than the
# rest of the parameters together. NULL (no subjects) stays NULL.
_SUBJECTS_SQL = f"{LIST_SQL}::uuid[]"
# One event, its columns as parameters: no JSON array for the server to unpack (migration 0013;
# its seal since 0034).
_APPEND_ONE_SQL = (
    "SELECT out_position, out_version, out_replayed "
    "FROM compound_append_one(%s, %s, %s, %s, %s, %s, %s::jsonb, %s::jsonb, %s, "
    f"{_SUBJECTS_SQL}, %s, %s::bytea)"
)
# The same, only when the stream holds at most so many events of a type in a time span
# (StreamCap): no ``most + 1``-th one. That test is an InitPlan gating the function scan (a
# one-time filter): when it fails, compound_append_one() is never called and no row comes
# back. It stops at the cap's ``most + 1``-th event: a stream's span costs at most the cap's
# entries of the index, however many it holds beyond (each entry not yet all-visible is a
# heap fetch too). ``NOT EXISTS (... OFFSET most)`` rather than a count of a ``LIMIT most + 1``
# subquery: the same rows read, without the count's aggregate and subquery to set up on every
# call (2% of the append's instructions, docs/benchmarks.md). A negative ``most`` admits none.
_CAPPED_SQL = (
    _APPEND_ONE_SQL + " WHERE %s::bigint >= 0 AND NOT EXISTS (SELECT FROM events"
    " WHERE stream_id = %s AND type = '{type}' AND occurred_at >= %s AND occurred_at < %s"
    " OFFSET greatest(%s::bigint, 0))"
)
_APPEND_MANY_SQL = (
    "SELECT out_position, out_version, out_replayed "
    f"FROM compound_append(%s, %s, %s, %s::jsonb, {_SUBJECTS_SQL}, %s)"
)

StreamIds = tuple[list[uuid.UUID], int]  # one stream's new event ids and its new version


class EventAppender:
    """Appends events to the log.

    Parameters:
        engine: SQLAlchemy engine on PostgreSQL (psycopg 3).
        preparer: validates, encrypts and gives ids to new events.
        replayer: answers retried idempotent appends.
    """

    def __init__(self, engine: Engine, preparer: EventPreparer, replayer: Replayer):
        self.engine = engine
        self.preparer = preparer
        self.replayer = replayer

    @property
    def keyring(self) -> KeyRing:
        """The data keys of personal fields."""
        return self.preparer.keyring

    def append(
        self,
        tenant_id: uuid.UUID,
        stream_id: str,
        expected_version: int | None,
        events: Sequence[NewEvent],
        context: AppendContext,
    ) -> AppendResult:
        """:meth:`append_in` on a pooled connection in autocommit mode (see EventStore.append).

        compound_append() is one statement, so the append and its commit take a single round
        trip, without SQLAlchemy's per-statement machinery on this hot path.
        """
        result = self._autocommit(tenant_id, stream_id, expected_version, events, context)
        assert result is not None  # no cap: always written (or replayed)
        return result

    def append_capped(
        self,
        tenant_id: uuid.UUID,
        stream_id: str,
        event: NewEvent,
        cap: StreamCap,
        context: AppendContext,
    ) -> AppendResult | None:
        """One event on a pooled connection in autocommit mode, if the stream is within
        ``cap`` (see EventStore.append_capped); None when it is not."""
        return self._autocommit(tenant_id, stream_id, None, [event], context, cap)

    def _autocommit(
        self,
        tenant_id: uuid.UUID,
        stream_id: str,
        expected_version: int | None,
        events: Sequence[NewEvent],
        context: AppendContext,
        cap: StreamCap | None = None,
    ) -> AppendResult | None:
        with autocommit_connection(self.engine) as pg:
            try:
                return self._append(
                    pg, tenant_id, stream_id, expected_version, events, context, cap
                )
            except ConcurrencyError:
                # A concurrent retry of the same idempotent call may have won the race.
                if context.idempotency_key is None:
                    raise
                replay = self.replayer.replay(pg, tenant_id, events, context)
                if replay is None:
                    raise
                return replay

    def append_in(
        self,
        conn: DB,
        tenant_id: uuid.UUID,
        stream_id: str,
        expected_version: int | None,
        events: Sequence[NewEvent],
        context: AppendContext,
        records: bool = False,
    ) -> AppendResult:
        """Append ``events`` to one stream in ``conn``'s transaction (see EventStore.append_in)."""
        result = self._append(
            conn, tenant_id, stream_id, expected_version, events, context, records=records
        )
        assert result is not None  # no cap: always written (or replayed)
        return result

    def _append(
        self,
        conn: DB,
        tenant_id: uuid.UUID,
        stream_id: str,
        expected_version: int | None,
        events: Sequence[NewEvent],
        context: AppendContext,
        cap: StreamCap | None = None,
        records: bool = False,
    ) -> AppendResult | None:
        """:meth:`append_in`, with a cap on a single event's append (None: the cap held
        nothing back), and the written events' records if asked for."""
        if not events:
            raise EventValidationError("(none)", {"events": ["at least one event is required"]})
        prepared = self.preparer.prepare(conn, tenant_id, events, context)
        subjects = sorted({p.subject for p in prepared if p.subject is not None})
        idempotent = context.idempotency_key is not None
        try:
            with as_psycopg(conn).cursor() as cur:
                if len(prepared) == 1:
                    event = prepared[0]
                    params: tuple[Any, ...] = (
                        tenant_id,
                        stream_id,
                        expected_version,
                        event.event_id,
                        event.event_type.name,
                        event.event_type.version,
                        dumps(event.data),
                        dumps(event.metadata),
                        event.occurred_at,
                        _joined(subjects),
                        idempotent,
                        event.seal,
                    )
                    if cap is None:
                        cur.execute(_APPEND_ONE_SQL, params, prepare=True)
                    else:
                        counted = (cap.most, stream_id, cap.since, cap.until, cap.most)
                        cur.execute(_capped_sql(cap.event_type), params + counted, prepare=True)
                else:
                    assert cap is None, "a cap is for a single event's append"
                    params = (
                        tenant_id,
                        stream_id,
                        expected_version,
                        events_json(prepared),
                        _joined(subjects),
                        idempotent,
                    )
                    cur.execute(_APPEND_MANY_SQL, params, prepare=True)
                rows = cur.fetchall()
        except psycopg.Error as err:
            self._raise_typed(err, stream_id, expected_version, subjects)
            raise
        if not rows:  # only a cap holds an append back
            return None
        result = self._result(conn, rows, prepared, context)
        if records and not result.replayed:
            result = replace(result, records=written_records(tenant_id, stream_id, rows, prepared))
        return result

    def _raise_typed(
        self,
        err: psycopg.Error,
        stream_id: str,
        expected_version: int | None,
        subjects: Sequence[uuid.UUID],
    ) -> None:
        """Raise the store's error for a failed compound_append(), if it has one."""
        if isinstance(err, psycopg.errors.UniqueViolation):
            # Only a racing retry of this very call can collide (versions come under the lock).
            raise ConcurrencyError(stream_id, expected_version, -1) from None
        if err.sqlstate == CONCURRENCY_SQLSTATE:
            actual = int(err.diag.message_detail or -1)
            raise ConcurrencyError(stream_id, expected_version, actual) from None
        if err.sqlstate == ERASED_SQLSTATE:
            for subject in subjects:
                self.keyring.forget(subject)
            raise SubjectErased(subjects[0]) from None

    def _result(
        self,
        conn: DB,
        rows: Sequence[tuple[Any, ...]],
        prepared: Sequence[PreparedEvent],
        context: AppendContext,
    ) -> AppendResult:
        """The result of compound_append()'s ``rows``, checked against ``prepared`` when the
        function found them stored already (an idempotent retry)."""
        replayed = bool(rows[0][2])
        if replayed:
            self.replayer.check(conn, [r[0] for r in rows], prepared, context)
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
        context: AppendContext,
    ) -> list[AppendResult]:
        """Bulk append to many streams in one transaction, with COPY (see
        EventStore.append_batch)."""
        with self.engine.begin() as conn:
            return self.append_batch_in(conn, tenant_id, appends, context)

    def append_batch_in(
        self,
        conn: DB,
        tenant_id: uuid.UUID,
        appends: Sequence[StreamAppend],
        context: AppendContext,
    ) -> list[AppendResult]:
        """:meth:`append_batch` in the caller's transaction (see EventStore.append_batch_in)."""
        total = sum(len(a.events) for a in appends)
        if total == 0:
            return [AppendResult((), (), 0) for _ in appends]
        if context.idempotency_key is not None:
            replay = self.replayer.replay_batch(conn, tenant_id, appends, context)
            if replay is not None:
                return replay
        keys = self.keyring.data_keys_for_write(
            conn,
            tenant_id,
            self.preparer.subjects_with_personal_data(e for a in appends for e in a.events),
        )
        with as_psycopg(conn).cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (APPEND_LOCK_KEY,))
            self._refuse_erased(cur, keys)
            current = _checked_versions(cur, appends)
            lines = BatchLines(
                self.preparer.catalogue,
                self.preparer.max_event_bytes,
                tenant_id,
                context,
                keys,
                total,
            )
            groups = _copy(cur, lines, appends, current)
            # Under the position lock nobody else draws from the sequence, so this
            # batch holds exactly the last `total` positions, in COPY order.
            cur.execute("SELECT currval(pg_get_serial_sequence('events', 'position'))")
            row = cur.fetchone()
            assert row is not None
            position = int(row[0]) - total
        return _batch_results(groups, position)

    def _refuse_erased(self, cur: psycopg.Cursor[Any], keys: Mapping[uuid.UUID, Any]) -> None:
        """Raise SubjectErased if a subject of the batch was erased since its key was read
        (checked under the position lock, which erasure's append takes too)."""
        if not keys:
            return
        cur.execute(
            "SELECT subject_id FROM data_keys WHERE subject_id = ANY(%s) "
            "AND wrapped_key IS NULL LIMIT 1",
            (list(keys),),
        )
        erased = cur.fetchone()
        if erased:
            self.keyring.forget(erased[0])
            raise SubjectErased(erased[0])

    def erase(
        self, tenant_id: uuid.UUID, person_id: uuid.UUID, context: AppendContext
    ) -> AppendResult:
        """Delete a person's data key and append ``PersonErased`` (see EventStore.erase)."""
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


def written_records(
    tenant_id: uuid.UUID,
    stream_id: str,
    rows: Sequence[tuple[Any, ...]],
    prepared: Sequence[PreparedEvent],
) -> tuple[RecordedEvent, ...]:
    """The events just written, as a read in the same transaction would return them, from
    what the append had in hand: no read of the rows, no decryption of their personal fields.

    ``data`` is the validated plaintext payload; ``recorded_at`` is this process's clock (the
    database's commit time is not known before the commit). An event whose behaviour is
    sealed keeps the sealed ``occurred_at`` (its week's Monday), not its exact time.
    """
    now = datetime.now(UTC)
    return tuple(
        RecordedEvent(
            row[0],
            p.event_id,
            tenant_id,
            stream_id,
            row[1],
            p.event_type.name,
            p.event_type.version,
            orjson.loads(p.plain),
            p.metadata,
            p.occurred_at,
            now,
        )
        for row, p in zip(rows, prepared, strict=True)
    )


def _joined(subjects: Sequence[uuid.UUID]) -> str | None:
    """The parameter of ``_SUBJECTS_SQL``: the ids joined by commas (None: no subjects)."""
    return joined(map(str, subjects)) if subjects else None


@cache
def _capped_sql(event_type: str) -> str:
    """The capped append counting ``event_type`` (a literal: a partial index's predicate
    matches only a literal)."""
    if not event_type.isalpha():
        raise ValueError(f"not an event type name: {event_type!r}")
    return _CAPPED_SQL.format(type=event_type)


def _checked_versions(cur: psycopg.Cursor[Any], appends: Sequence[StreamAppend]) -> dict[str, int]:
    """Each stream's current version (absent: 0), checked against its expected version."""
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
    return current


def _copy(
    cur: psycopg.Cursor[Any],
    lines: BatchLines,
    appends: Sequence[StreamAppend],
    current: dict[str, int],
) -> list[StreamIds]:
    """COPY every stream's events; per stream, its new ids and version.

    Each stream's events are validated and encrypted just before they are sent, so Python's
    work overlaps PostgreSQL's; an invalid event aborts the whole COPY.
    """
    groups: list[StreamIds] = []
    with cur.copy(f"COPY events ({BATCH_COLUMNS}) FROM STDIN") as copy:
        for item in appends:
            version = current.get(item.stream_id, 0)
            copy.write(lines.stream(item.stream_id, version, item.events))
            version += len(item.events)
            current[item.stream_id] = version
            groups.append((lines.take_ids(), version))
    return groups


def _batch_results(groups: Sequence[StreamIds], position: int) -> list[AppendResult]:
    """Per stream, its result, the batch's positions starting after ``position``."""
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

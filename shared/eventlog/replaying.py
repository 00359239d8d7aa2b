"""Idempotent retries: find an earlier append with the same key and return its results.

An idempotent append derives its event ids from (tenant, actor, key, index), so a retry
finds its events by id. It replays only if they are the same events; the same key with other
events raises :class:`IdempotencyConflict`.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import orjson

from shared.database import as_psycopg
from shared.eventlog.crypto import DB
from shared.eventlog.decoding import EVENT_COLUMNS, EventDecoder
from shared.eventlog.errors import IdempotencyConflict
from shared.eventlog.ids import derive_event_id
from shared.eventlog.preparing import EventPreparer, PreparedEvent
from shared.eventlog.records import (
    AppendContext,
    AppendResult,
    NewEvent,
    RecordedEvent,
    StreamAppend,
)


class Replayer:
    """Answers a retried idempotent append from the log.

    Parameters:
        preparer: prepares the retried events, to compare them with the stored ones.
        decoder: reads the stored events back.
    """

    def __init__(self, preparer: EventPreparer, decoder: EventDecoder):
        self.preparer = preparer
        self.decoder = decoder

    def replay(
        self,
        conn: DB,
        tenant_id: uuid.UUID,
        events: Sequence[NewEvent],
        context: AppendContext,
    ) -> AppendResult | None:
        """The result of the earlier append of ``events`` with ``context``'s key.

        Parameters:
            conn: the connection to read on.
            tenant_id: the appending tenant.
            events: the retried events.
            context: who appends, with an idempotency key.

        Returns:
            The earlier result with ``replayed=True``, or None if nothing was appended.

        Raises:
            IdempotencyConflict: the key was used for other events.
        """
        prepared = self.preparer.prepare(conn, tenant_id, events, context)
        found = stored_events(conn, [p.event_id for p in prepared])
        if not found:
            return None
        if len(found) != len(prepared):
            raise IdempotencyConflict(context.idempotency_key or "")
        positions = [found[p.event_id][0] for p in prepared]
        stored = self.check(conn, positions, prepared, context)
        return AppendResult(
            tuple(positions), tuple(p.event_id for p in prepared), stored[-1].version, True
        )

    def replay_batch(
        self,
        conn: DB,
        tenant_id: uuid.UUID,
        appends: Sequence[StreamAppend],
        context: AppendContext,
    ) -> list[AppendResult] | None:
        """The results of the earlier bulk append of ``appends`` with ``context``'s key.

        Parameters:
            conn: the connection to read on.
            tenant_id: the appending tenant.
            appends: the retried bulk append.
            context: who appends, with an idempotency key.

        Returns:
            The earlier results (``replayed=True``), or None if nothing was appended.

        Raises:
            IdempotencyConflict: the key was used for other events.
        """
        assert context.idempotency_key is not None
        ids = [
            derive_event_id(tenant_id, context.actor, context.idempotency_key, i)
            for i in range(sum(len(a.events) for a in appends))
        ]
        stored = stored_events(conn, ids)
        if not stored:
            return None
        if len(stored) != len(ids):
            raise IdempotencyConflict(context.idempotency_key)
        prepared: list[list[PreparedEvent]] = []
        index = 0
        for item in appends:
            prepared.append(self.preparer.prepare(conn, tenant_id, item.events, context, index))
            index += len(item.events)
        flat = [p for group in prepared for p in group]
        self.check(conn, [stored[p.event_id][0] for p in flat], flat, context)
        return [
            AppendResult(
                tuple(stored[p.event_id][0] for p in group),
                tuple(p.event_id for p in group),
                stored[group[-1].event_id][1] if group else 0,
                replayed=True,
            )
            for group in prepared
        ]

    def check(
        self,
        conn: DB,
        positions: Sequence[int],
        prepared: Sequence[PreparedEvent],
        context: AppendContext,
    ) -> list[RecordedEvent]:
        """Check that the events stored at ``positions`` are the ``prepared`` ones.

        Parameters:
            conn: the connection to read on.
            positions: where the earlier append wrote.
            prepared: the retried events.
            context: who appends, with an idempotency key.

        Returns:
            The stored events, in position order.

        Raises:
            IdempotencyConflict: they differ in number, type or payload.
        """
        with as_psycopg(conn).cursor() as cur:
            cur.execute(
                f"SELECT {EVENT_COLUMNS} FROM events WHERE position = ANY(%s) ORDER BY position",
                (list(positions),),
            )
            stored = self.decoder.decode(conn, cur.fetchall())
        same = len(stored) == len(prepared) and all(
            s.type == p.event_type.name
            and orjson.dumps(s.data, option=orjson.OPT_SORT_KEYS) == p.plain
            for s, p in zip(stored, prepared, strict=True)
        )
        if not same:
            raise IdempotencyConflict(context.idempotency_key or "")
        return stored


def stored_events(conn: DB, event_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, tuple[int, int]]:
    """Position and version of each of ``event_ids`` already in the log.

    Parameters:
        conn: the connection to read on.
        event_ids: the ids to look for.

    Returns:
        Per id found: its position and stream version.
    """
    with as_psycopg(conn).cursor() as cur:
        cur.execute(
            "SELECT event_id, position, version FROM events WHERE event_id = ANY(%s)",
            (list(event_ids),),
        )
        return {event_id: (position, version) for event_id, position, version in cur}

"""Reading the log: pages in position order (all of it or some tenant slots), streams, and
single events.

Every page is fetched on a pooled connection of its own with the session's time zone set to
UTC and the garbage collector paused, the next full page read ahead (read_ahead.py), then
decrypted and upcast (decoding.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import psycopg
from sqlalchemy import Engine, text

from shared.database import as_psycopg
from shared.eventlog.crypto import DB
from shared.eventlog.decoding import EVENT_COLUMNS, EventDecoder
from shared.eventlog.partitioned_reads import (
    PARTITION_PLANNER,
    SLOTS,
    partition_read_params,
    partition_read_sql,
    planner_sql,
)
from shared.eventlog.preparing import dumps
from shared.eventlog.read_ahead import PREFETCH_MIN_PAGE, ReadAhead, Rows
from shared.eventlog.records import RecordedEvent
from shared.gc_pause import collector_paused


class EventReader:
    """Reads events from the log (the reading half of :class:`EventStore`).

    Parameters:
        engine: SQLAlchemy engine on PostgreSQL (psycopg 3).
        decoder: decrypts and upcasts the rows read.
    """

    def __init__(self, engine: Engine, decoder: EventDecoder):
        self.engine = engine
        self.decoder = decoder
        self.read_ahead = ReadAhead()
        self.read_ahead_from = PREFETCH_MIN_PAGE  # the smallest full page that reads ahead

    def read_all(
        self,
        after: int,
        limit: int,
        types: Iterable[str] | None,
        tenant_id: uuid.UUID | None,
        decrypt: bool,
    ) -> list[RecordedEvent]:
        """A page of the whole log (see EventStore.read_all)."""
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
            f"SELECT {EVENT_COLUMNS} FROM events WHERE {' AND '.join(where)} "
            "ORDER BY position LIMIT %s"
        )
        params.append(limit)
        filters = (limit, None if type_list is None else tuple(type_list), tenant_id)
        rows = self.read_ahead.take(after, filters)
        if rows is None:
            rows = self.fetch(sql, params)
        if len(rows) == limit >= self.read_ahead_from:
            # A reader of a full page usually asks for the next one: read it meanwhile.
            nxt = rows[-1][0]
            nxt_params = [nxt, *params[1:]]
            self.read_ahead.start(nxt, filters, lambda: self.fetch(sql, nxt_params))
        return self._decoded(rows, decrypt)

    def read_partitions(
        self,
        slots: Sequence[int],
        after: int,
        limit: int,
        types: Iterable[str],
        decrypt: bool,
        planner: Mapping[str, str] = PARTITION_PLANNER,
    ) -> list[RecordedEvent]:
        """A page of some tenant slots of the log (see EventStore.read_partitions)."""
        wanted = sorted(set(slots))
        if len(wanted) >= SLOTS:
            return self.read_all(after, limit, types, None, decrypt)
        type_list = list(types)
        params = partition_read_params(wanted, type_list, limit)
        setup = planner_sql(planner)
        filters = (limit, tuple(type_list), "slots", tuple(wanted), setup)
        rows = self.read_ahead.take(after, filters)
        if rows is None:
            rows = self.fetch(partition_read_sql(wanted, after), params, setup)
        if len(rows) == limit >= self.read_ahead_from:
            nxt_sql = partition_read_sql(wanted, rows[-1][0])
            self.read_ahead.start(rows[-1][0], filters, lambda: self.fetch(nxt_sql, params, setup))
        return self._decoded(rows, decrypt)

    def _decoded(self, rows: Rows, decrypt: bool) -> list[RecordedEvent]:
        with self.engine.connect() as conn, collector_paused():
            return self.decoder.decode(conn, rows, decrypt)

    def fetch(self, sql: str, params: Sequence[Any], setup: str | None = None) -> Rows:
        """The rows of one page, on a pooled connection of its own.

        Parameters:
            sql: the statement.
            params: its parameters.
            setup: a statement run first in the same transaction (planner settings, say).

        Returns:
            The rows, timestamps as UTC datetimes.

        Raises:
            psycopg.OperationalError: the server went away (the connection is discarded).
        """
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
                with collector_paused():
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

    def read_stream(
        self, stream_id: str, after_version: int, limit: int | None
    ) -> list[RecordedEvent]:
        """One stream's events (see EventStore.read_stream)."""
        sql = (
            f"SELECT {EVENT_COLUMNS} FROM events WHERE stream_id = %s AND version > %s "
            "ORDER BY version"
        )
        params: list[Any] = [stream_id, after_version]
        if limit is not None:
            sql += " LIMIT %s"
            params.append(limit)
        with self.engine.connect() as conn, collector_paused():
            with as_psycopg(conn).cursor(binary=True) as cur:
                cur.execute(sql, params)
                rows = cur.fetchall()
            return self.decoder.decode(conn, rows)

    def read_positions(self, conn: DB, positions: Sequence[int]) -> list[RecordedEvent]:
        """The events at ``positions`` in ``conn``'s transaction (see EventStore)."""
        with as_psycopg(conn).cursor(binary=True) as cur:
            cur.execute(
                f"SELECT {EVENT_COLUMNS} FROM events WHERE position = ANY(%s) ORDER BY position",
                (list(positions),),
            )
            return self.decoder.decode(conn, cur.fetchall())

    def find(
        self, stream_id: str, event_type: str, match: Mapping[str, Any]
    ) -> RecordedEvent | None:
        """The first matching event of a stream (see EventStore.find)."""
        with self.engine.connect() as conn, as_psycopg(conn).cursor(binary=True) as cur:
            cur.execute(
                f"SELECT {EVENT_COLUMNS} FROM events WHERE stream_id = %s AND type = %s "
                "AND data @> %s::jsonb ORDER BY position LIMIT 1",
                (stream_id, event_type, dumps(dict(match))),
            )
            rows = cur.fetchall()
            return self.decoder.decode(conn, rows)[0] if rows else None

    def iter_all(self, after: int, batch: int) -> Iterator[RecordedEvent]:
        """Every committed event after ``after`` (see EventStore.iter_all)."""
        while True:
            events = self.read_all(after, batch, None, None, True)
            yield from events
            if len(events) < batch:
                return
            after = events[-1].position

    def head(self) -> int:
        """The highest committed position (see EventStore.head)."""
        with self.engine.connect() as conn:
            value = conn.execute(text("SELECT coalesce(max(position), 0) FROM events")).scalar()
        return int(value or 0)

    def stream_version(self, stream_id: str) -> int:
        """A stream's version (see EventStore.stream_version)."""
        with self.engine.connect() as conn:
            value = conn.execute(
                text("SELECT coalesce(max(version), 0) FROM events WHERE stream_id = :s"),
                {"s": stream_id},
            ).scalar()
        return int(value or 0)

"""Calendar sync: a connection's changes since its sync token -> events in the log.

One run of :meth:`CalendarSync.sync`:

1. pages through the provider's API (shared/calendar/provider_api.py: Google
   ``events.list`` with ``pageToken`` then ``syncToken``; Graph ``calendarView/delta`` with
   ``@odata.nextLink`` then ``@odata.deltaLink``), refreshing the access token when it expires;
2. minimises each event (shared/calendar/minimise.py) and, per page in one transaction,
   appends ``MeetingObserved`` for a new or changed meeting and ``MeetingCancelled`` for a
   cancelled one, and records each meeting's version in ``calendar_meetings``;
3. stores the new sync token with the last page.

Idempotent twice over: a meeting whose version (a digest of its minimised facts) is already
recorded in ``calendar_meetings`` is skipped, and the ids of a page's events derive, through
the store's idempotency key, from the provider's event ids, etags / changeKeys and facts, so
a page retried after a crash appends nothing. The recorded versions are themselves derived
from the log: when they are missing, a full sync recomputes them from the connection's
stream first (:meth:`CalendarSync._seed_versions`), so even then a resync duplicates nothing.
A 410 clears the sync token and runs a full sync; meetings that vanished from a full listing
are cancelled. A revoked or invalid grant ends the connection with "needs reconnect".
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import time
import uuid
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from authlib.integrations.base_client.errors import OAuthError

from shared.calendar.connections import CalendarConnection, Connections
from shared.calendar.minimise import (
    AWAY,
    CANCELLED,
    Away,
    Cancelled,
    Change,
    Observed,
    UnusableEvent,
    away_version,
    from_google,
    from_graph,
    version_of,
)
from shared.calendar.provider_api import (
    GrantRevoked,
    ProviderApi,
    SyncFailed,
    SyncTokenExpired,
)
from shared.calendar.providers import ProviderConfig
from shared.calendar.settings import CalendarSettings
from shared.database import LIST_SQL, as_psycopg, joined
from shared.domain.bounds import meeting_horizon, tenant_span
from shared.eventlog import AppendContext, NewEvent
from shared.gc_pause import collector_paused

__all__ = [
    "CalendarSync",
    "GrantRevoked",
    "ProviderApi",
    "SyncFailed",
    "SyncReport",
    "SyncTokenExpired",
]

log = logging.getLogger("compound.calendar")
LOCK_CLASS = 0x43414C  # "CAL": advisory locks keyed by connection, one sync at a time


@dataclass
class SyncReport:
    """What one sync did."""

    connection_id: uuid.UUID
    status: str = "synced"  # synced | busy | inactive | needs_reconnect
    full: bool = False
    resynced: bool = False
    pages: int = 0
    seen: int = 0
    observed: int = 0
    cancelled: int = 0


class CalendarSync:
    """Syncs connections into the event log.

    Parameters:
        connections: connection rows, tokens and the store to append to.
        providers: the configured providers by name.
        settings: page size and sync window.
        on_appended: called with the appended event types after each commit (wake-ups).
    """

    def __init__(
        self,
        connections: Connections,
        providers: dict[str, ProviderConfig],
        settings: CalendarSettings,
        on_appended: Callable[[Iterable[str]], None] | None = None,
    ):
        self.connections = connections
        self.store = connections.store
        self.providers = providers
        self.settings = settings
        self.on_appended = on_appended

    def api(self, connection: CalendarConnection) -> ProviderApi:
        assert connection.token is not None
        return ProviderApi(
            self.providers[connection.provider],
            connection.token,
            lambda token: self.connections.save_token(connection.id, token),
            self.settings,
        )

    def sync(self, connection_id: uuid.UUID) -> SyncReport:
        """Bring one connection up to date; a second sync of it meanwhile returns "busy".

        Raises:
            SyncFailed: the provider failed in a way worth retrying.
        """
        report = SyncReport(connection_id)
        with self.store.engine.connect() as lock:
            key = zlib.crc32(connection_id.bytes) - 2**31
            got = lock.exec_driver_sql(
                "SELECT pg_try_advisory_lock(%s, %s)", (LOCK_CLASS, key)
            ).scalar()
            lock.commit()
            if not got:
                report.status = "busy"
                return report
            try:
                self._sync_locked(connection_id, report)
            finally:
                lock.exec_driver_sql("SELECT pg_advisory_unlock(%s, %s)", (LOCK_CLASS, key))
                lock.commit()
        return report

    def _sync_locked(self, connection_id: uuid.UUID, report: SyncReport) -> None:
        connection = self.connections.get(connection_id)
        if connection is None or connection.status != "active" or connection.token is None:
            report.status = "inactive"
            return
        if connection.provider not in self.providers:
            raise SyncFailed(f"provider {connection.provider!r} is not configured")
        started = time.perf_counter()
        api = self.api(connection)
        status = self.connections.person_status(connection.person_id)
        if status in ("erased", "left"):
            # Nothing more is synced for someone erased or gone: revoke, delete the tokens.
            with contextlib.suppress(GrantRevoked, SyncFailed, OAuthError, OSError):
                api.revoke()
            reason = "erased" if status == "erased" else "user"
            self.connections.end(connection, reason, _context(connection))
            report.status = "inactive"
            return
        try:
            try:
                self._run(connection, api, connection.sync_token, report)
            except SyncTokenExpired:
                log.info("calendar %s: sync token expired, full resync", connection_id)
                report.resynced = True
                self._run(connection, api, None, report)
        except GrantRevoked as err:
            reason = "invalid_grant" if str(err) == "invalid_grant" else "revoked"
            self.connections.end(connection, reason, _context(connection))
            report.status = "needs_reconnect"
            return
        log.info(
            "calendar %s: %d events seen, %d observed, %d cancelled in %.0f ms",
            connection_id,
            report.seen,
            report.observed,
            report.cancelled,
            (time.perf_counter() - started) * 1000,
        )

    @collector_paused()  # a listing parses thousands of small dicts, without cycles
    def _run(
        self,
        connection: CalendarConnection,
        api: ProviderApi,
        sync_token: str | None,
        report: SyncReport,
    ) -> None:
        full = sync_token is None
        report.full = report.full or full
        if full:
            self._seed_versions(connection)
        minimise = from_graph if api.provider.protocol == "graph" else from_google
        seen: set[str] = set()
        for page in api.pages(sync_token):
            report.pages += 1
            changes: dict[str, Change] = {}
            # What the event catalogue and the import accept: from two years back to the end
            # of the sync window (a provider may list more, e.g. a recurring series' far end).
            span = tenant_span(None, datetime.now(UTC)).ahead(
                meeting_horizon(self.settings.weeks_ahead)
            )
            for item in page.items:
                try:
                    change = minimise(connection.provider, item)
                except (UnusableEvent, KeyError, ValueError, TypeError):
                    continue
                if isinstance(change, Observed | Away) and not (
                    span.holds(change.start) and span.holds(change.end)
                ):
                    continue
                changes[change.meeting_key] = change  # a later entry of a page wins
            report.seen += len(page.items)
            seen.update(changes)
            self._apply(connection, list(changes.values()), page.sync_token, full, seen, report)

    def _apply(
        self,
        connection: CalendarConnection,
        changes: list[Change],
        sync_token: str | None,
        full: bool,
        seen: set[str],
        report: SyncReport,
    ) -> None:
        """One page in one transaction: the meetings' versions, with the last page the new
        sync token, and its events (one append)."""
        with self.store.engine.begin() as db:
            pg = as_psycopg(db)
            known: dict[str, str] = dict(
                pg.execute(
                    "SELECT meeting_key, version FROM calendar_meetings "
                    f"WHERE connection_id = %s AND meeting_key = ANY({LIST_SQL})",
                    (connection.id, joined(c.meeting_key for c in changes)),
                ).fetchall()
            )
            fresh: list[Change] = [
                c
                for c in changes
                if known.get(c.meeting_key) != c.version
                # a meeting never observed has nothing to cancel
                and (not isinstance(c, Cancelled) or c.meeting_key in known)
            ]
            if full and sync_token is not None:
                fresh += self._vanished(db, connection, seen)
            fresh.sort(key=lambda c: c.meeting_key)
            if fresh:
                _record(pg, connection.id, fresh)
            if sync_token is not None:
                pg.execute(
                    "UPDATE calendar_connections SET sync_token = %s, last_sync_at = now(), "
                    "last_error = NULL, meetings = (SELECT count(*) FROM calendar_meetings "
                    "WHERE connection_id = %s AND NOT cancelled AND NOT starts_with(version, "
                    "%s)) WHERE id = %s AND status = 'active'",
                    (sync_token, connection.id, AWAY, connection.id),
                )
            if fresh:  # last: the log's position lock is held from the append to the commit
                self._append(db, connection, fresh)
        report.observed += sum(isinstance(c, Observed) for c in fresh)
        report.cancelled += sum(isinstance(c, Cancelled) for c in fresh)
        if fresh and self.on_appended is not None:
            self.on_appended({_EVENT_TYPES[type(c)] for c in fresh})

    def _vanished(self, db: Any, connection: CalendarConnection, seen: set[str]) -> list[Change]:
        """After a full listing: known meetings in the window that it no longer contains."""
        low = datetime.now(UTC) - timedelta(weeks=self.settings.weeks_back)
        rows = (
            as_psycopg(db)
            .execute(
                "SELECT meeting_key FROM calendar_meetings WHERE connection_id = %s "
                "AND NOT cancelled AND start_at >= %s",
                (connection.id, low),
            )
            .fetchall()
        )
        return [Cancelled(k, CANCELLED, "vanished") for (k,) in rows if k not in seen]

    def _append(self, db: Any, connection: CalendarConnection, fresh: list[Change]) -> None:
        """Append a page's new versions in one call. Their ids derive from the idempotency
        key, a digest of each meeting's provider key, etag and facts: the same versions
        always get the same ids, so a retried page appends nothing."""
        events = []
        # Ids and times as the text the log stores: the catalogue's compiled check accepts
        # them as they are (objects would send every event through marshmallow's load).
        base = {"person_id": str(connection.person_id), "connection_id": str(connection.id)}
        for change in fresh:
            if isinstance(change, Observed | Away):
                data = {**base, **change.data()}
                data["start"], data["end"] = change.start.isoformat(), change.end.isoformat()
                events.append(NewEvent(_EVENT_TYPES[type(change)], data, change.start))
            else:
                events.append(
                    NewEvent("MeetingCancelled", {**base, "meeting_key": change.meeting_key})
                )
        digest = hashlib.sha256(
            "\n".join(f"{c.meeting_key}|{c.etag}|{c.version}" for c in fresh).encode()
        ).hexdigest()
        context = _context(connection)
        self.store.append_in(
            db,
            connection.tenant_id,
            connection.stream,
            None,
            events,
            AppendContext(
                actor=context.actor, idempotency_key=f"calendar:{digest}", source=context.source
            ),
        )

    def _seed_versions(self, connection: CalendarConnection) -> None:
        """Without recorded versions (a lost table, a restore), recompute them from the log,
        the source of truth, so that the next full sync appends only what changed."""
        with self.store.engine.connect() as db:
            recorded = (
                as_psycopg(db)
                .execute(
                    "SELECT EXISTS (SELECT 1 FROM calendar_meetings WHERE connection_id = %s)",
                    (connection.id,),
                )
                .fetchone()
            )
            db.rollback()
        if recorded and recorded[0]:
            return
        latest: dict[str, tuple[str, datetime | None]] = {}
        for event in self.store.read_stream(connection.stream):
            if event.data.get("connection_id") != str(connection.id):
                continue
            key = str(event.data.get("meeting_key"))
            if event.type == "MeetingObserved":
                latest[key] = (version_of(event.data), datetime.fromisoformat(event.data["start"]))
            elif event.type == "OutOfOfficeObserved":
                start, end = event.data["start"], event.data["end"]
                latest[key] = (away_version(start, end), datetime.fromisoformat(start))
            elif event.type == "MeetingCancelled":
                latest[key] = (CANCELLED, latest.get(key, ("", None))[1])
        if not latest:
            return
        with self.store.engine.begin() as db:
            as_psycopg(db).execute(
                "INSERT INTO calendar_meetings (connection_id, meeting_key, version, cancelled, "
                "start_at) SELECT %s, k, v, v = 'cancelled', s "
                "FROM unnest(%s::text[], %s::text[], %s::timestamptz[]) AS t(k, v, s) "
                "ON CONFLICT DO NOTHING",
                (
                    connection.id,
                    list(latest),
                    [v for v, _ in latest.values()],
                    [s for _, s in latest.values()],
                ),
            )


def _record(pg: Any, connection_id: uuid.UUID, fresh: list[Change]) -> None:
    """Record the versions of a page's new or changed meetings (``calendar_meetings``)."""
    pg.execute(
        "INSERT INTO calendar_meetings (connection_id, meeting_key, version, cancelled, "
        "start_at) SELECT %s, k, v, v = 'cancelled', nullif(s, '')::timestamptz "
        f"FROM unnest({LIST_SQL}, {LIST_SQL}, {LIST_SQL}) AS t(k, v, s) "
        "ON CONFLICT (connection_id, meeting_key) DO UPDATE SET version = excluded.version, "
        "cancelled = excluded.cancelled, "
        "start_at = coalesce(excluded.start_at, calendar_meetings.start_at)",
        (
            connection_id,
            joined(c.meeting_key for c in fresh),
            joined(c.version for c in fresh),
            joined("" if isinstance(c, Cancelled) else c.start.isoformat() for c in fresh),
        ),
    )


_EVENT_TYPES = {
    Observed: "MeetingObserved",
    Away: "OutOfOfficeObserved",
    Cancelled: "MeetingCancelled",
}
"""The event type each kind of change appends."""


def _context(connection: CalendarConnection) -> AppendContext:
    return AppendContext(actor=f"calendar-{connection.person_id}", source="calendar")

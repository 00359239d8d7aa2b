"""The daily action limit applied to the journal's writes (:mod:`shared.domain.volume`):
what the log holds per person and day is counted in one query, before anything is
appended, so a refused request writes nothing.

A person's week is counted first, without reading any action: when the week (logged plus
new) stays within the limit, so does each of its days, and nothing more is read. Only a week
beyond the limit has its actions read (their exact times are sealed) and counted per day.
One logged action (:func:`append_action`) has its week counted in its append's own statement
(:meth:`EventStore.append_capped`): the limit costs no round trip of its own.

Two requests racing past the limit at the same moment may both pass: the limit bounds a
day's volume to about itself, not to the exact count.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Engine, text

from shared.database import autocommit_connection
from shared.domain.volume import (
    DEFAULT_DAILY_ACTION_LIMIT,
    over_limit,
    refuse,
    week_of,
    weeks_settle,
)
from shared.eventlog import AppendContext, AppendResult, EventStore, NewEvent, StreamCap
from shared.eventlog.ids import derive_event_id
from shared.eventlog.sealing import week_monday
from shared.settings import SettingsError


def daily_action_limit(env: Mapping[str, str] | None = None) -> int:
    """``COMPOUND_DAILY_ACTION_LIMIT``: the most actions one person may log for one UTC day
    (default 50, at least 1).

    Parameters:
        env: the environment (default: the process's).

    Raises:
        SettingsError: the value is not a whole number of at least 1.
    """
    raw = (os.environ if env is None else env).get("COMPOUND_DAILY_ACTION_LIMIT") or ""
    if not raw:
        return DEFAULT_DAILY_ACTION_LIMIT
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"COMPOUND_DAILY_ACTION_LIMIT must be a number, got {raw!r}") from None
    if value < 1:
        raise SettingsError(f"COMPOUND_DAILY_ACTION_LIMIT must be at least 1, got {value}")
    return value


def logged_per_day(store: EventStore, wanted: set[tuple[str, date]]) -> dict[tuple[str, date], int]:
    """Actions the log holds per (person, UTC day) of ``wanted`` (undone ones count: the
    limit is on logging).

    An action's exact time is sealed with its behaviour; the ``occurred_at`` column keeps its
    week's Monday (shared/eventlog/sealing.py). So the actions of the weeks asked about are
    found by that column and read through the store, which restores their time.
    """
    counts: dict[tuple[str, date], int] = {}
    people = {person for person, _ in wanted}
    with store.engine.connect() as conn:
        for person in people:
            days = sorted(day for p, day in wanted if p == person)
            first = week_monday(datetime.combine(days[0], time(), UTC))
            rows = conn.execute(
                text(
                    "SELECT position FROM events WHERE stream_id = :s "
                    "AND type = 'MicroActionLogged' AND occurred_at >= :a AND occurred_at < :b"
                ),
                {
                    "s": f"journal-{person}",
                    "a": first,
                    "b": datetime.combine(days[-1], time(), UTC) + timedelta(days=1),
                },
            )
            for event in store.read_positions(conn, [row.position for row in rows]):
                day = event.occurred_at.astimezone(UTC).date()
                if day in days:
                    counts[(person, day)] = counts.get((person, day), 0) + 1
    return counts


# Per person, the weeks asked about: one statement for every person of an import.
_WEEK_COUNTS_SQL = """
SELECT w.person, e.occurred_at, count(*)
FROM unnest(%s::text[], %s::text[], %s::timestamptz[], %s::timestamptz[]) AS w(person, s, a, b)
JOIN events e ON e.stream_id = w.s AND e.type = 'MicroActionLogged'
             AND e.occurred_at >= w.a AND e.occurred_at < w.b
GROUP BY w.person, e.occurred_at
"""


def logged_per_week(
    store: EventStore, wanted: set[tuple[str, date]]
) -> dict[tuple[str, date], int]:
    """Actions the log holds per (person, week's Monday) of ``wanted``, from the
    ``occurred_at`` column alone (it keeps each action's week: nothing is decrypted).

    One prepared statement for all the people, in autocommit (index ``events_action_weeks``,
    migration 0029): a transaction's ROLLBACK on the way back to the pool would also drop
    the connection's prepared statements (psycopg clears them on ROLLBACK), the caller
    look-up's and the append's, which every later request on it would prepare again.

    Parameters:
        store: the event store.
        wanted: (person, Monday) pairs.
    """
    spans: dict[str, tuple[date, date]] = {}
    for person, week in wanted:
        first, last = spans.get(person, (week, week))
        spans[person] = (min(first, week), max(last, week))
    if not spans:
        return {}
    people = sorted(spans)
    streams = [f"journal-{person}" for person in people]
    firsts = [datetime.combine(spans[p][0], time(), UTC) for p in people]
    ends = [datetime.combine(spans[p][1], time(), UTC) + timedelta(days=7) for p in people]
    counts: dict[tuple[str, date], int] = {}
    with autocommit_connection(store.engine) as pg:
        rows = pg.execute(_WEEK_COUNTS_SQL, (people, streams, firsts, ends), prepare=True)
        for person, at, n in rows:  # a week's Monday; an exact time in events sealed before
            key = (person, week_of(at.astimezone(UTC).date()))
            counts[key] = counts.get(key, 0) + int(n)
    return counts


def replayed(engine: Engine, tenant_id: uuid.UUID, context: AppendContext) -> bool:
    """Whether an append with ``context``'s idempotency key was written already (the store
    will replay it: a retry is never refused)."""
    if context.idempotency_key is None:
        return False
    first = derive_event_id(tenant_id, context.actor, context.idempotency_key, 0)
    with autocommit_connection(engine) as pg:  # no ROLLBACK: see logged_per_week
        found = pg.execute("SELECT 1 FROM events WHERE event_id = %s", (first,), prepare=True)
        return found.fetchone() is not None


def check_daily_volume(
    store: EventStore,
    tenant_id: uuid.UUID,
    context: AppendContext,
    actions: Iterable[tuple[str, datetime]],
    field: str = "occurred_at",
) -> None:
    """Refuse actions that would take a person over the daily limit on a day.

    Parameters:
        store: the event store.
        tenant_id, context: the append's tenant and context (a retry is let through).
        actions: (person id, event time) of each action about to be logged.
        field: the request field an error is keyed by.

    Raises:
        TooManyActions: a (person, day) would exceed :func:`daily_action_limit` (429).
    """
    new = [(person, at.astimezone(UTC).date()) for person, at in actions]
    if not new or replayed(store.engine, tenant_id, context):
        return
    limit = daily_action_limit()
    weeks = logged_per_week(store, {(person, week_of(day)) for person, day in new})
    if weeks_settle(weeks, new, limit):
        return
    over = over_limit(logged_per_day(store, set(new)), new, limit)
    if over:
        raise refuse(over, limit, field)


def append_action(
    store: EventStore,
    tenant_id: uuid.UUID,
    stream_id: str,
    event: NewEvent,
    context: AppendContext,
) -> AppendResult:
    """Append one ``MicroActionLogged`` unless it takes its person over the daily limit.

    The fast path is one statement: the append, gated on the week's count (a week within
    the limit keeps each of its days within it). A week at the limit, or a retry, falls back
    to :func:`check_daily_volume` and a plain append.

    Parameters:
        store: the event store.
        tenant_id, stream_id, context: as for :meth:`EventStore.append`.
        event: the action, its ``occurred_at`` set and ``data["person_id"]`` its person.

    Raises:
        TooManyActions: the day already holds the daily limit of the person's actions.
    """
    assert event.occurred_at is not None
    moment = event.occurred_at.astimezone(UTC)
    monday = datetime.combine(week_of(moment.date()), time(), UTC)
    cap = StreamCap(event.type, monday, monday + timedelta(days=7), daily_action_limit() - 1)
    written = store.append_capped(tenant_id, stream_id, event, cap, context)
    if written is not None:
        return written
    check_daily_volume(store, tenant_id, context, [(str(event.data["person_id"]), moment)])
    return store.append(tenant_id, stream_id, None, [event], context)

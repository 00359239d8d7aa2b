"""Portal sessions kept on the server: one row of ``web_sessions`` per login (migration 0023).

The browser's (signed) cookie carries only a random 256-bit secret; the row keeps its
SHA-256, so a copy of the table logs no one in. The table is operational state, not part of
the event log: losing it only logs people out.

A session is valid while all of these hold, checked by one indexed statement per request
(:func:`caller_for`):

* its row is not ended (logout, revoked from another device, replaced after a password
  change);
* it was seen within the idle lifetime and started within the absolute lifetime
  (:class:`Lifetimes`, settings ``COMPOUND_SESSION_IDLE_MINUTES`` and
  ``COMPOUND_SESSION_MAX_HOURS``);
* its person is active and it started after their ``credentials_valid_after`` (the one rule
  for "all of a person's credentials end": shared/directory/projector.py).

``last_seen_at`` is written at most once a minute per session, so reads do not all write.
Every time is passed in by the caller (the gateway's clock), so tests move time, never sleep.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import Connection, Engine, text

from shared.database import autocommit_connection
from shared.directory.callers import CALLER_COLUMNS, Caller
from shared.i18n.selection import language_columns
from shared.security import token_digest
from shared.settings import Settings

USER_AGENT_MAX = 200
"""Characters of the User-Agent kept: enough to tell a phone from a laptop."""
ADDRESS_MAX = 64


@dataclass(frozen=True)
class Lifetimes:
    """How long a session lives: ``idle`` since it was last seen, ``absolute`` since login."""

    idle: timedelta = timedelta(minutes=120)
    absolute: timedelta = timedelta(hours=24 * 7)
    touch: timedelta = timedelta(minutes=1)
    """``last_seen_at`` is rewritten only when older than this."""

    @classmethod
    def of(cls, settings: Settings) -> Lifetimes:
        """The lifetimes of ``COMPOUND_SESSION_IDLE_MINUTES`` and
        ``COMPOUND_SESSION_MAX_HOURS``."""
        return cls(
            idle=timedelta(minutes=settings.session_idle_minutes),
            absolute=timedelta(hours=settings.session_max_hours),
        )


class SessionCaller(NamedTuple):
    """A valid session and the person it logs in."""

    session_id: uuid.UUID
    caller: Caller
    languages: tuple[str | None, str | None] = (None, None)
    """The person's own language and their organisation's default (None: not set), read
    with the session (:func:`shared.i18n.preferences.language_settings`'s answer)."""


class ActiveSession(NamedTuple):
    """A session as the account page lists it."""

    id: uuid.UUID
    created_at: datetime
    last_seen_at: datetime
    user_agent: str
    address: str


_VALID = """s.ended_at IS NULL
  AND s.created_at > %(started_after)s AND s.last_seen_at > %(seen_after)s
  AND p.status = 'active'
  AND (p.credentials_valid_after IS NULL OR s.created_at > p.credentials_valid_after)"""
_CALLER_SQL = f"""
SELECT s.id, s.last_seen_at, {CALLER_COLUMNS},
       {language_columns("p.id::text", "p.tenant_id::text")}
FROM web_sessions s JOIN people p ON p.id = s.person_id
WHERE s.secret_hash = %(secret_hash)s AND {_VALID}
"""
_TOUCH_SQL = "UPDATE web_sessions SET last_seen_at = %s WHERE id = %s AND last_seen_at < %s"
_ACTIVE_SQL = f"""
SELECT s.id, s.created_at, s.last_seen_at, s.user_agent, s.address
FROM web_sessions s JOIN people p ON p.id = s.person_id
WHERE s.person_id = %(person_id)s AND {_VALID}
ORDER BY s.last_seen_at DESC
"""


def _bounds(now: datetime, lifetimes: Lifetimes) -> dict[str, datetime]:
    return {"started_after": now - lifetimes.absolute, "seen_after": now - lifetimes.idle}


def start(
    engine: Engine,
    tenant_id: uuid.UUID,
    person_id: uuid.UUID,
    user_agent: str,
    address: str,
    now: datetime,
    lifetimes: Lifetimes,
) -> tuple[uuid.UUID, str]:
    """Start a session for a person (at login), forgetting their ended or expired ones.

    Parameters:
        engine: the database engine.
        tenant_id: their organisation.
        person_id: the person who logged in.
        user_agent: the browser's User-Agent (kept truncated).
        address: the client's address.
        now: the current time.
        lifetimes: the session lifetimes (rows older than the absolute one are deleted).

    Returns:
        ``(session id, secret)``: the secret goes into the cookie and is never stored.
    """
    session_id, secret = uuid.uuid4(), secrets.token_urlsafe(32)
    with engine.begin() as conn:
        conn.execute(
            text(
                "DELETE FROM web_sessions WHERE person_id = :person "
                "AND (ended_at IS NOT NULL OR created_at <= :old)"
            ),
            {"person": person_id, "old": now - lifetimes.absolute},
        )
        conn.execute(
            text(
                "INSERT INTO web_sessions (id, secret_hash, tenant_id, person_id, created_at, "
                "last_seen_at, user_agent, address) VALUES (:id, :hash, :tenant, :person, "
                ":now, :now, :agent, :address)"
            ),
            {
                "id": session_id,
                "hash": token_digest(secret),
                "tenant": tenant_id,
                "person": person_id,
                "now": now,
                "agent": user_agent[:USER_AGENT_MAX],
                "address": address[:ADDRESS_MAX],
            },
        )
    return session_id, secret


def caller_for(
    engine: Engine, secret: str, now: datetime, lifetimes: Lifetimes
) -> SessionCaller | None:
    """The valid session whose cookie carries ``secret``, and its person.

    Parameters:
        engine: the database engine.
        secret: the secret from the session cookie.
        now: the current time.
        lifetimes: the session lifetimes.

    Returns:
        The session and its person, or None when the session is unknown, ended, expired or
        made before the person's credentials last ended.
    """
    params = {"secret_hash": token_digest(secret), **_bounds(now, lifetimes)}
    with autocommit_connection(engine) as pg:
        row = pg.execute(_CALLER_SQL, params, prepare=True).fetchone()
        if row is None:
            return None
        session_id, last_seen = row[0], row[1]
        if now - last_seen >= lifetimes.touch:
            pg.execute(_TOUCH_SQL, (now, session_id, now - lifetimes.touch), prepare=True)
    languages = (row[-2] or None, row[-1] or None)
    return SessionCaller(session_id, Caller._make(row[2:-2]), languages)


def active(
    engine: Engine, person_id: uuid.UUID, now: datetime, lifetimes: Lifetimes
) -> list[ActiveSession]:
    """A person's valid sessions, the most recently seen first.

    Parameters:
        engine: the database engine.
        person_id: the person.
        now: the current time.
        lifetimes: the session lifetimes.

    Returns:
        Their sessions.
    """
    params = {"person_id": person_id, **_bounds(now, lifetimes)}
    with autocommit_connection(engine) as pg:
        rows = pg.execute(_ACTIVE_SQL, params).fetchall()
    return [ActiveSession._make(row) for row in rows]


def end(
    engine: Engine,
    session_id: uuid.UUID,
    reason: str,
    now: datetime,
    person_id: uuid.UUID | None = None,
) -> bool:
    """End a session (``person_id``: only if it is theirs).

    Parameters:
        engine: the database engine.
        session_id: the session.
        reason: why, kept in ``end_reason`` (``logout``, ``revoked``, ``password changed``).
        now: the current time.
        person_id: the person who must own it (None: whoever).

    Returns:
        Whether a session still running was ended.
    """
    owner = "" if person_id is None else " AND person_id = %(person)s"
    sql = (
        "UPDATE web_sessions SET ended_at = %(now)s, end_reason = %(reason)s "
        f"WHERE id = %(id)s AND ended_at IS NULL{owner} RETURNING id"
    )
    params = {"now": now, "reason": reason, "id": session_id, "person": person_id}
    with autocommit_connection(engine) as pg:
        return pg.execute(sql, params).fetchone() is not None


def purge(engine: Engine, now: datetime, lifetimes: Lifetimes) -> int:
    """Delete the rows of sessions that ended or expired (the scheduler, hourly): nothing
    reads them again, and each keeps a user agent and an address, personal data kept no
    longer than it serves. Returns how many rows went.

    Parameters:
        engine: the database engine.
        now: the current time.
        lifetimes: the session lifetimes of the settings.
    """
    sql = (
        "DELETE FROM web_sessions WHERE ended_at IS NOT NULL "
        "OR created_at <= %(started_after)s OR last_seen_at <= %(seen_after)s"
    )
    with autocommit_connection(engine) as pg:
        return pg.execute(sql, _bounds(now, lifetimes)).rowcount


def forget_person(conn: Connection, person_id: uuid.UUID) -> None:
    """Delete every session row of a person (erasure: user agents and addresses are
    personal data), in the caller's transaction.

    Parameters:
        conn: the erasure's transaction.
        person_id: the person erased.
    """
    conn.execute(text("DELETE FROM web_sessions WHERE person_id = :p"), {"p": person_id})

"""Who is calling: the directory's active people, found by id, by access token or by e-mail
(portal sessions: shared/sessions).

These reads run on every authenticated request, so each is a single round trip: one
prepared statement on a raw connection in autocommit mode (no BEGIN, no ROLLBACK).
"""

from __future__ import annotations

import uuid
from typing import NamedTuple

from sqlalchemy import Connection, Engine, func, select

from shared.database import autocommit_connection
from shared.directory.models import Person


class Caller(NamedTuple):
    """An active person, with the teams they manage."""

    person_id: uuid.UUID
    tenant_id: uuid.UUID
    role: str
    email: str | None
    display_name: str | None
    managed_teams: list[uuid.UUID]


class TokenHolder(NamedTuple):
    """The person a valid access token acts for, and what the token may do."""

    caller: Caller
    kind: str
    """``personal`` or ``session`` (from ``POST /auth/token``)."""
    scopes: frozenset[str] | None
    """None: every scope of the person's role."""


class LoginCandidate(NamedTuple):
    """The person an e-mail address names, whatever their status, for a password check."""

    id: uuid.UUID
    password_hash: str | None
    status: str


# The caller, their role and the teams they manage: the columns of :class:`Caller`.
CALLER_COLUMNS = """p.id, p.tenant_id, p.role, p.email, p.display_name,
       ARRAY(SELECT m.team_id FROM team_members m
             WHERE m.person_id = p.id AND m.is_manager) AS managed"""
CALLER_BY_ID_SQL = f"""
SELECT {CALLER_COLUMNS}
FROM people p
WHERE p.status = 'active' AND p.id = %s
"""
# A token made at or before the person's credentials_valid_after (a password change, log
# out everywhere ...: shared/directory/projector.py) is refused like a revoked one.
CALLER_BY_TOKEN_SQL = f"""
SELECT {CALLER_COLUMNS}, t.kind, t.scopes
FROM access_tokens t JOIN people p ON p.id = t.person_id
WHERE t.token_hash = %s AND t.revoked_at IS NULL
  AND (t.expires_at IS NULL OR t.expires_at > now())
  AND p.status = 'active'
  AND (p.credentials_valid_after IS NULL OR t.created_at > p.credentials_valid_after)
"""


def _one_caller(engine: Engine, sql: str, key: object) -> Caller | None:
    with autocommit_connection(engine) as pg:
        row = pg.execute(sql, (key,), prepare=True).fetchone()
    return None if row is None else Caller._make(row)


def active_person(engine: Engine, person_id: uuid.UUID) -> Caller | None:
    """An active person of the directory.

    Parameters:
        engine: the database engine.
        person_id: the person's id.

    Returns:
        The person, or None when unknown, gone or erased.
    """
    return _one_caller(engine, CALLER_BY_ID_SQL, person_id)


def person_for_token(engine: Engine, token_hash: str) -> TokenHolder | None:
    """The active person a valid access token belongs to: not revoked, not expired, and made
    after their credentials last ended.

    Parameters:
        engine: the database engine.
        token_hash: the token's digest (:func:`shared.security.token_digest`).

    Returns:
        The person with the token's kind and scopes, or None when the token or its owner is
        not valid.
    """
    with autocommit_connection(engine) as pg:
        row = pg.execute(CALLER_BY_TOKEN_SQL, (token_hash,), prepare=True).fetchone()
    if row is None:
        return None
    scopes = None if row[-1] is None else frozenset(row[-1])
    return TokenHolder(Caller._make(row[:-2]), row[-2], scopes)


def login_candidate(engine: Engine, email: str) -> LoginCandidate | None:
    """The person whose e-mail address is ``email`` (case-insensitive), whatever their status.

    Parameters:
        engine: the database engine.
        email: the address typed at login.

    Returns:
        Their id, password hash and status, or None when no one has that address.
    """
    with engine.connect() as conn:
        row = conn.execute(
            select(Person.id, Person.password_hash, Person.status).where(
                func.lower(Person.email) == email.strip().lower()
            )
        ).first()
    return None if row is None else LoginCandidate(*row)


def active_people(conn: Connection, tenant_id: uuid.UUID) -> list[uuid.UUID]:
    """The ids of the organisation's active (joined, not left or erased) people, in id order."""
    query = (
        select(Person.id)
        .where(Person.tenant_id == tenant_id, Person.status == "active")
        .order_by(Person.id)
    )
    return list(conn.execute(query).scalars())

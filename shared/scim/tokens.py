"""An organisation's SCIM bearer tokens: issued by an admin (``compound scim token``, the admin
API), shown once, kept as SHA-256 in the directory (``ScimTokenIssued``)."""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, select

from shared.commands.base import Actor, append
from shared.commands.organization_core import require_admin
from shared.directory.models import ScimToken
from shared.domain.errors import NotFound
from shared.eventlog import EventStore, NewEvent

PREFIX = "scim_"
REMEMBER_SECONDS = 5.0
"""How long a process trusts a token it looked up: a revoked token stops working at once in
the process that revoked it, and within this many seconds in the others."""

_known: dict[str, tuple[uuid.UUID, float]] = {}


def token_hash(token: str) -> str:
    """The SHA-256 (hex) a token is stored as."""
    return hashlib.sha256(token.encode()).hexdigest()


def issue(store: EventStore, actor: Actor) -> tuple[uuid.UUID, str]:
    """A new bearer token for the actor's organisation.

    Parameters:
        store: the event store.
        actor: an admin of the organisation (or the system).

    Returns:
        ``(token id, token)``; the token is not kept and cannot be shown again.

    Raises:
        Forbidden: the actor is not an admin.
    """
    require_admin(actor)
    token_id, token = uuid.uuid4(), PREFIX + secrets.token_urlsafe(32)
    event = NewEvent(
        "ScimTokenIssued", {"token_id": str(token_id), "token_hash": token_hash(token)}
    )
    with store.engine.begin() as conn:
        append(store, conn, actor, f"org-{actor.tenant_id}", [event])
    return token_id, token


def revoke(store: EventStore, actor: Actor, token_id: uuid.UUID) -> None:
    """End a bearer token of the actor's organisation.

    Raises:
        Forbidden: the actor is not an admin. NotFound: no such live token.
    """
    require_admin(actor)
    with store.engine.begin() as conn:
        live = conn.execute(
            select(ScimToken.id).where(
                ScimToken.id == token_id,
                ScimToken.tenant_id == actor.tenant_id,
                ScimToken.revoked_at.is_(None),
            )
        ).scalar()
        if live is None:
            raise NotFound(f"no SCIM token {token_id}")
        event = NewEvent("ScimTokenRevoked", {"token_id": str(token_id)})
        append(store, conn, actor, f"org-{actor.tenant_id}", [event])
    _known.clear()


def tenant_for(conn: Connection, token: str) -> uuid.UUID | None:
    """The organisation a live bearer token belongs to, or None (unknown or revoked).

    Parameters:
        conn: a connection.
        token: the bearer token.
    """
    if not token.startswith(PREFIX) or len(token) > 200:
        return None
    return conn.execute(
        select(ScimToken.tenant_id).where(
            ScimToken.token_hash == token_hash(token), ScimToken.revoked_at.is_(None)
        )
    ).scalar()


def tenant_of(engine: Engine, token: str, now: float | None = None) -> uuid.UUID | None:
    """:func:`tenant_for`, remembered for :data:`REMEMBER_SECONDS` when the token is live
    (an identity provider sends many requests in a row: each would cost a look-up).

    Parameters:
        engine: the database engine.
        token: the bearer token.
        now: the monotonic clock's reading (default: now).
    """
    now = time.monotonic() if now is None else now
    digest = token_hash(token)
    known = _known.get(digest)
    if known is not None and known[1] > now:
        return known[0]
    with engine.connect() as conn:
        tenant = tenant_for(conn, token)
    if tenant is not None:
        if len(_known) > 1000:
            _known.clear()
        _known[digest] = (tenant, now + REMEMBER_SECONDS)
    return tenant


@dataclass(frozen=True)
class TokenInfo:
    """What is known of an issued token (never the token)."""

    id: uuid.UUID
    created_at: datetime
    revoked_at: datetime | None


def listed(store: EventStore, tenant_id: uuid.UUID) -> list[TokenInfo]:
    """The organisation's tokens, oldest first."""
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(ScimToken.id, ScimToken.created_at, ScimToken.revoked_at)
            .where(ScimToken.tenant_id == tenant_id)
            .order_by(ScimToken.created_at)
        ).all()
    return [TokenInfo(*row) for row in rows]

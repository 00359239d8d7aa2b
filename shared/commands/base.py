"""What every command handler shares: who acts, and the unit of work that appends."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Connection

from shared import directory
from shared.eventlog import AppendContext, AppendResult, EventStore, NewEvent


@dataclass(frozen=True)
class Actor:
    """The authenticated caller of a command.

    Parameters:
        tenant_id: the organisation acted in.
        person_id: the person acting; None for the system (CLI, seed, operator imports).
        role: ``employee``, ``manager`` or ``admin``.
        managed_teams: the teams the person manages.
        idempotency_key: the request's ``Idempotency-Key``, if any.
        correlation_id: the request's id, kept in the events' metadata.
        source: where the command came from (``api``, ``portal``, ``cli`` ...).
    """

    tenant_id: uuid.UUID
    person_id: uuid.UUID | None
    role: str = "employee"
    managed_teams: frozenset[uuid.UUID] = field(default_factory=frozenset)
    idempotency_key: str | None = None
    correlation_id: str | None = None
    source: str = "api"

    @property
    def is_admin(self) -> bool:
        """Whether the actor may administer the organisation."""
        return self.role == "admin"

    @property
    def is_system(self) -> bool:
        """Whether the system acts (CLI, seed, operator imports), not a person."""
        return self.person_id is None

    def context(self, key: str | None = None) -> AppendContext:
        """The metadata of the events this actor appends.

        Parameters:
            key: an idempotency key that replaces the request's (None: keep the request's).

        Returns:
            The append context: actor, idempotency key, correlation id, source.
        """
        return AppendContext(
            actor=str(self.person_id) if self.person_id else "system",
            idempotency_key=key if key is not None else self.idempotency_key,
            correlation_id=self.correlation_id,
            source=self.source,
        )


def system_actor(tenant_id: uuid.UUID, source: str = "cli") -> Actor:
    """The system acting as an admin of an organisation (no person).

    Parameters:
        tenant_id: the organisation.
        source: where the command came from.

    Returns:
        An admin actor without a person.
    """
    return Actor(tenant_id=tenant_id, person_id=None, role="admin", source=source)


def append(
    store: EventStore,
    conn: Connection,
    actor: Actor,
    stream_id: str,
    events: Sequence[NewEvent],
    *,
    expected_version: int | None = None,
    key: str | None = None,
) -> AppendResult:
    """Append in the caller's transaction and bring the directory up to date with it.

    Parameters:
        store: the event store.
        conn: the caller's transaction.
        actor: who appends (their context goes into the metadata).
        stream_id: the stream.
        events: the events, in order.
        expected_version: the stream's version the command decided on (None: any).
        key: an idempotency key that replaces the request's.

    Returns:
        The store's answer (``replayed`` when the idempotency key was seen already).

    Raises:
        shared.eventlog.ConcurrencyError: the stream moved past ``expected_version``.
        shared.eventlog.IdempotencyConflict: the key was used with other events.
    """
    projected = any(e.type in directory.DIRECTORY_EVENTS for e in events)
    result = store.append_in(
        conn,
        actor.tenant_id,
        stream_id,
        expected_version,
        events,
        actor.context(key),
        records=projected,
    )
    if not result.replayed and projected:
        directory.apply(conn, result.records)  # as written: no read back, no decryption
    return result

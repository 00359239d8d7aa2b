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

    ``person_id`` is None for the system (CLI, seed, imports run by an operator).
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
        return self.role == "admin"

    @property
    def is_system(self) -> bool:
        return self.person_id is None

    def context(self, key: str | None = None) -> AppendContext:
        return AppendContext(
            actor=str(self.person_id) if self.person_id else "system",
            idempotency_key=key if key is not None else self.idempotency_key,
            correlation_id=self.correlation_id,
            source=self.source,
        )


def system_actor(tenant_id: uuid.UUID, source: str = "cli") -> Actor:
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
    """Append in the caller's transaction and bring the directory up to date with it."""
    result = store.append_in(
        conn, actor.tenant_id, stream_id, expected_version, events, actor.context(key)
    )
    if not result.replayed and any(e.type in directory.DIRECTORY_EVENTS for e in events):
        directory.apply(conn, store.read_positions(conn, result.positions))
    return result

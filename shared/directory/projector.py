"""Organisation events -> directory rows.

:func:`apply` runs inside the transaction that appended the events (so the directory is never
behind the log for the gateway), and :func:`rebuild` replays the whole log into empty tables.
Both use event time only.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, delete, func, insert, text, update

from shared.database import as_psycopg
from shared.directory import provisioning
from shared.directory.models import AccessToken, Organization, Person, Team, TeamMember
from shared.domain.scopes import LEGACY_TOKEN_DAYS
from shared.eventlog import ERASED, EventStore, RecordedEvent

Handler = Callable[[Connection, RecordedEvent], None]
_JOIN_TEAM = text(
    "INSERT INTO team_members (team_id, person_id, tenant_id, is_manager) "
    "VALUES (:team, :person, :tenant, :manager) ON CONFLICT (team_id, person_id) "
    "DO UPDATE SET is_manager = team_members.is_manager OR excluded.is_manager"
)
_HANDLERS: dict[str, Handler] = {}


def _handles(event_type: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        _HANDLERS[event_type] = fn
        return fn

    return register


def _personal(value: Any) -> Any:
    """Personal values of an erased person read as ERASED; the directory stores nothing."""
    return None if value == ERASED else value


@_handles("OrganizationCreated")
def _organization(conn: Connection, e: RecordedEvent) -> None:
    conn.execute(
        insert(Organization).values(
            id=e.data["organization_id"],
            name=e.data["name"],
            created_at=e.occurred_at,
            position=e.position,
        )
    )


@_handles("TeamCreated")
def _team(conn: Connection, e: RecordedEvent) -> None:
    conn.execute(
        insert(Team).values(
            id=e.data["team_id"],
            tenant_id=e.tenant_id,
            name=e.data["name"],
            parent_team_id=e.data["parent_team_id"],
            created_at=e.occurred_at,
        )
    )


# The people rows every invitation and join write (an API invitation, each SCIM creation, a
# rebuild's replay): prepared statements on the transaction's psycopg connection, without
# SQLAlchemy's per-statement work, which cost more than the statements.
_INVITED_SQL = """
INSERT INTO people (id, tenant_id, email, display_name, role, status, invited_at)
VALUES (%s, %s, %s, %s, %s, 'invited', %s)
"""
_JOINED_SQL = """
UPDATE people SET display_name = %s, time_zone = %s, status = 'active', joined_at = %s
WHERE id = %s AND status = 'invited'
"""


@_handles("PersonInvited")
def _invited(conn: Connection, e: RecordedEvent) -> None:
    _invited_all(conn, [e])


def _invited_all(conn: Connection, events: list[RecordedEvent]) -> None:
    """Invitations: one as a prepared statement (each API invitation or SCIM creation), many
    in one pipelined batch (thousands confirmed at once, or a rebuild)."""
    rows = [
        (
            uuid.UUID(e.data["person_id"]),
            e.tenant_id,
            _personal(e.data.get("email")),
            _personal(e.data.get("display_name")),
            e.data["role"],
            e.occurred_at,
        )
        for e in events
    ]
    if len(rows) == 1:
        as_psycopg(conn).execute(_INVITED_SQL, rows[0], prepare=True)
    else:
        as_psycopg(conn).cursor().executemany(_INVITED_SQL, rows)
    members = [
        {"team": uuid.UUID(e.data["team_id"]), "person": uuid.UUID(e.data["person_id"]),
         "tenant": e.tenant_id, "manager": False}
        for e in events
        if e.data["team_id"]
    ]  # fmt: skip
    if members:
        conn.execute(_JOIN_TEAM, members)


@_handles("PersonJoined")
def _joined(conn: Connection, e: RecordedEvent) -> None:
    as_psycopg(conn).execute(
        _JOINED_SQL,
        (
            _personal(e.data["display_name"]),
            e.data["time_zone"],
            e.occurred_at,
            uuid.UUID(e.data["person_id"]),
        ),
        prepare=True,
    )


@_handles("PasswordSet")
def _password(conn: Connection, e: RecordedEvent) -> None:
    conn.execute(
        update(Person)
        .where(Person.id == e.data["person_id"])
        .values(password_hash=_personal(e.data["password_hash"]))
    )
    _end_credentials(conn, e)


@_handles("PersonRoleChanged")
def _role(conn: Connection, e: RecordedEvent) -> None:
    conn.execute(update(Person).where(Person.id == e.data["person_id"]).values(role=e.data["role"]))
    _end_credentials(conn, e)


@_handles("SignedOutEverywhere")
def _signed_out(conn: Connection, e: RecordedEvent) -> None:
    _end_credentials(conn, e)


@_handles("TeamManagerAssigned")
def _manager(conn: Connection, e: RecordedEvent) -> None:
    team_id, person_id = uuid.UUID(e.data["team_id"]), uuid.UUID(e.data["person_id"])
    _join_team(conn, e.tenant_id, team_id, person_id, manager=True)


@_handles("TeamRenamed")
def _renamed(conn: Connection, e: RecordedEvent) -> None:
    conn.execute(update(Team).where(Team.id == e.data["team_id"]).values(name=e.data["name"]))


@_handles("TeamMoved")
def _team_moved(conn: Connection, e: RecordedEvent) -> None:
    conn.execute(
        update(Team)
        .where(Team.id == e.data["team_id"])
        .values(parent_team_id=e.data["parent_team_id"])
    )


@_handles("TeamManagerRemoved")
def _manager_removed(conn: Connection, e: RecordedEvent) -> None:
    conn.execute(
        delete(TeamMember).where(
            TeamMember.team_id == e.data["team_id"],
            TeamMember.person_id == e.data["person_id"],
            TeamMember.is_manager.is_(True),
        )
    )


@_handles("PersonMovedTeam")
def _moved(conn: Connection, e: RecordedEvent) -> None:
    person_id = uuid.UUID(e.data["person_id"])
    if e.data["from_team_id"]:
        conn.execute(
            delete(TeamMember).where(
                TeamMember.person_id == person_id, TeamMember.team_id == e.data["from_team_id"]
            )
        )
    _join_team(conn, e.tenant_id, uuid.UUID(e.data["to_team_id"]), person_id)


@_handles("PersonLeft")
def _left(conn: Connection, e: RecordedEvent) -> None:
    person_id = e.data["person_id"]
    conn.execute(update(Person).where(Person.id == person_id).values(status="left"))
    conn.execute(delete(TeamMember).where(TeamMember.person_id == person_id))
    _revoke_all(conn, person_id, e)
    _end_credentials(conn, e)


@_handles("PersonErased")
def _erased(conn: Connection, e: RecordedEvent) -> None:
    person_id = e.data["person_id"]
    conn.execute(
        update(Person)
        .where(Person.id == person_id)
        .values(status="erased", email=None, display_name=None, password_hash=None)
    )
    conn.execute(delete(TeamMember).where(TeamMember.person_id == person_id))
    _revoke_all(conn, person_id, e)
    _end_credentials(conn, e)
    conn.execute(update(AccessToken).where(AccessToken.person_id == person_id).values(name=""))


@_handles("AccessTokenCreated")
def _token(conn: Connection, e: RecordedEvent) -> None:
    scopes, expires_at = e.data.get("scopes"), e.data["expires_at"]
    if e.data["kind"] == "personal" and scopes is None and expires_at is None:
        # Made before scopes and expiry existed: every scope, a lifetime from its creation.
        expires_at = e.occurred_at + timedelta(days=LEGACY_TOKEN_DAYS)
    conn.execute(
        insert(AccessToken).values(
            id=e.data["token_id"],
            tenant_id=e.tenant_id,
            person_id=e.data["person_id"],
            name=_personal(e.data["name"]) or "",
            kind=e.data["kind"],
            token_hash=e.data["token_hash"],
            created_at=e.occurred_at,
            expires_at=expires_at,
            scopes=scopes,
        )
    )


@_handles("AccessTokenRevoked")
def _revoked(conn: Connection, e: RecordedEvent) -> None:
    conn.execute(
        update(AccessToken)
        .where(AccessToken.id == e.data["token_id"], AccessToken.revoked_at.is_(None))
        .values(revoked_at=e.occurred_at)
    )


def _join_team(
    conn: Connection,
    tenant_id: uuid.UUID,
    team_id: uuid.UUID,
    person_id: uuid.UUID,
    manager: bool = False,
) -> None:
    conn.execute(
        _JOIN_TEAM, {"team": team_id, "person": person_id, "tenant": tenant_id, "manager": manager}
    )


def _revoke_all(conn: Connection, person_id: str, e: RecordedEvent) -> None:
    conn.execute(
        update(AccessToken)
        .where(AccessToken.person_id == person_id, AccessToken.revoked_at.is_(None))
        .values(revoked_at=e.occurred_at)
    )


def _end_credentials(conn: Connection, e: RecordedEvent) -> None:
    """The one rule for "all of a person's credentials end": every session and token of
    theirs created at or before this event is refused (shared/sessions, callers.py).

    A password change, a role change (a token's scopes were checked against the old role),
    leaving, erasure and "log out everywhere" all end here. Only ever moves forward, so a
    replay in any order of equal times gives the same answer."""
    conn.execute(
        update(Person)
        .where(Person.id == e.data["person_id"])
        .values(
            credentials_valid_after=func.greatest(
                func.coalesce(Person.credentials_valid_after, e.occurred_at), e.occurred_at
            )
        )
    )


_HANDLERS.update(provisioning.HANDLERS)
DIRECTORY_EVENTS = frozenset(_HANDLERS)


def apply(conn: Connection, events: Iterable[RecordedEvent]) -> None:
    """Apply the directory's events among ``events`` (others are ignored); a run of
    invitations in one go."""
    invited: list[RecordedEvent] = []
    for event in events:
        if event.type == "PersonInvited":
            invited.append(event)
            continue
        handler = _HANDLERS.get(event.type)
        if handler is not None:
            if invited:
                _invited_all(conn, invited)
                invited = []
            handler(conn, event)
    if invited:
        _invited_all(conn, invited)


def rebuild(store: EventStore, batch: int = 5000) -> int:
    """Empty the directory and replay every organisation event; returns how many."""
    count = 0
    with store.engine.begin() as conn:
        conn.execute(
            text(
                "DELETE FROM scim_tokens; DELETE FROM scim_identities; DELETE FROM scim_groups; "
                "DELETE FROM access_tokens; DELETE FROM team_members; "
                "DELETE FROM people; DELETE FROM teams; DELETE FROM organizations"
            )
        )
        after = 0
        while True:
            events = store.read_all(after, batch, types=DIRECTORY_EVENTS)
            if not events:
                return count
            apply(conn, events)
            count += len(events)
            after = events[-1].position

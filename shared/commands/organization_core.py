"""What every organisation command shares: the handler's store and the directory checks."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from sqlalchemy import Connection, func, select

from shared.commands.base import Actor
from shared.directory import Person, Team
from shared.domain.errors import Conflict, Forbidden, InvalidInput, NotFound, Text
from shared.eventlog import EventStore

MIN_PASSWORD = 10


def require_admin(actor: Actor) -> None:
    """Refuse anyone but an admin.

    Parameters:
        actor: who acts.

    Raises:
        Forbidden: the actor is not an admin.
    """
    if not actor.is_admin:
        raise Forbidden(Text("Only an admin can do this."))


def check_password(password: str) -> None:
    """Refuse a password too short to keep.

    Parameters:
        password: the password, in clear.

    Raises:
        InvalidInput: the password is shorter than :data:`MIN_PASSWORD`.
    """
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(
            Text("The password is too short."),
            {"password": [Text("Use at least %(min)d characters.", min=MIN_PASSWORD)]},
        )


def find_team(conn: Connection, tenant_id: uuid.UUID, team_id: uuid.UUID) -> Team:
    """The organisation's team ``team_id``.

    Parameters:
        conn: the command's transaction.
        tenant_id: the organisation.
        team_id: the team.

    Returns:
        The team's directory row.

    Raises:
        NotFound: the organisation has no such team.
    """
    team = conn.execute(select(Team).where(Team.id == team_id, Team.tenant_id == tenant_id)).first()
    if team is None:
        raise NotFound(Text("There is no team %(id)s.", id=str(team_id)))
    return team  # type: ignore[return-value]


def find_person(conn: Connection, tenant_id: uuid.UUID, person_id: uuid.UUID) -> Person:
    """The organisation's person ``person_id``, whatever their status.

    Parameters:
        conn: the command's transaction.
        tenant_id: the organisation.
        person_id: the person.

    Returns:
        The person's directory row.

    Raises:
        NotFound: the organisation has no such person.
    """
    row = conn.execute(
        select(Person).where(Person.id == person_id, Person.tenant_id == tenant_id)
    ).first()
    if row is None:
        raise NotFound(Text("There is no person %(id)s.", id=str(person_id)))
    return row  # type: ignore[return-value]


def email_tenant(conn: Connection, email: str) -> uuid.UUID | None:
    """The organisation of the account that has ``email`` (whatever its case), if any.

    Parameters:
        conn: the command's transaction.
        email: the address.

    Returns:
        Its organisation's id, or None when the address is free.
    """
    return conn.execute(
        select(Person.tenant_id).where(func.lower(Person.email) == email.lower())
    ).scalar()


def ensure_email_free(conn: Connection, email: str) -> None:
    """Refuse an e-mail address that already has an account.

    Parameters:
        conn: the command's transaction.
        email: the address.

    Raises:
        Conflict: someone (in any organisation) has this address, whatever its case.
    """
    if email_tenant(conn, email) is not None:
        raise Conflict(
            Text("This e-mail address already has an account."),
            {"email": [Text("This e-mail address already has an account.")]},
            kind="account-exists",
        )


class OrganizationCore:
    """The state of the organisation command handlers.

    Parameters:
        store: the event store (directory events update the directory in the same
            transaction: :func:`shared.commands.base.append`).
    """

    def __init__(self, store: EventStore):
        self.store = store
        self.on_erased: Callable[[uuid.UUID], None] = lambda person_id: None
        """Called after an erasure commits (the gateway sends the read models' rebuilds)."""

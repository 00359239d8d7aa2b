"""Organisation commands: organisations, teams and their managers.

:class:`OrganizationCommands` is the one handler of every change to the organisation. This
module decides organisations and teams; the people's way through the organisation lives in
:mod:`shared.commands.people`, passwords and tokens in :mod:`shared.commands.credentials`,
on the base :mod:`shared.commands.organization_core`.
"""

from __future__ import annotations

import uuid

from shared.commands.base import Actor, append
from shared.commands.credentials import SESSION_TOKEN_HOURS, CredentialCommands
from shared.commands.organization_core import (
    MIN_PASSWORD,
    check_password,
    ensure_email_free,
    find_person,
    find_team,
    require_admin,
)
from shared.commands.people import Invitation, PeopleCommands
from shared.commands.teams import TeamCommands
from shared.eventlog import AppendContext, NewEvent
from shared.security import hash_password

__all__ = [
    "MIN_PASSWORD",
    "SESSION_TOKEN_HOURS",
    "AppendContext",
    "Invitation",
    "OrganizationCommands",
]


class OrganizationCommands(PeopleCommands, CredentialCommands, TeamCommands):
    """Every change to the organisation, as events (and their inline directory rows).

    Parameters:
        store: the event store.
    """

    def create_organization(
        self,
        name: str,
        admin_email: str,
        admin_password: str,
        admin_name: str,
        source: str = "cli",
    ) -> tuple[uuid.UUID, uuid.UUID]:
        """A new tenant with its first admin (already joined).

        Parameters:
            name: the organisation's name.
            admin_email: the first admin's address.
            admin_password: the first admin's password.
            admin_name: the first admin's display name.
            source: who creates it, for the events' metadata (``cli``, ``seed`` ...).

        Returns:
            ``(tenant id, admin's person id)``.

        Raises:
            InvalidInput: the password is too short.
            Conflict: the address already has an account.
        """
        check_password(admin_password)
        tenant_id, admin_id = uuid.uuid4(), uuid.uuid4()
        system = Actor(tenant_id=tenant_id, person_id=None, role="admin", source=source)
        with self.store.engine.begin() as conn:
            ensure_email_free(conn, admin_email)
            append(
                self.store,
                conn,
                system,
                f"org-{tenant_id}",
                [
                    NewEvent(
                        "OrganizationCreated", {"organization_id": str(tenant_id), "name": name}
                    ),
                ],
                expected_version=0,
            )
            append(
                self.store,
                conn,
                system,
                f"person-{admin_id}",
                [
                    NewEvent(
                        "PersonInvited",
                        {"person_id": str(admin_id), "email": admin_email, "role": "admin"},
                    ),
                    NewEvent(
                        "PersonJoined", {"person_id": str(admin_id), "display_name": admin_name}
                    ),
                    NewEvent(
                        "PasswordSet",
                        {
                            "person_id": str(admin_id),
                            "password_hash": hash_password(admin_password),
                        },
                    ),
                ],
                expected_version=0,
            )
        return tenant_id, admin_id

    def create_team(
        self, actor: Actor, name: str, parent_team_id: uuid.UUID | None = None
    ) -> uuid.UUID:
        """A new team, at the top or under a parent team.

        Parameters:
            actor: the admin creating it.
            name: the team's name.
            parent_team_id: the team it belongs to, or None.

        Returns:
            The new team's id.

        Raises:
            Forbidden: the actor is not an admin. NotFound: no such parent team.
        """
        require_admin(actor)
        team_id = uuid.uuid4()
        with self.store.engine.begin() as conn:
            if parent_team_id is not None:
                find_team(conn, actor.tenant_id, parent_team_id)
            append(
                self.store,
                conn,
                actor,
                f"team-{team_id}",
                [
                    NewEvent(
                        "TeamCreated",
                        {
                            "team_id": str(team_id),
                            "name": name,
                            "parent_team_id": str(parent_team_id) if parent_team_id else None,
                        },
                    ),
                ],
                expected_version=0,
            )
        return team_id

    def assign_manager(self, actor: Actor, team_id: uuid.UUID, person_id: uuid.UUID) -> None:
        """Make a person a manager of a team (an employee becomes a manager too).

        Parameters:
            actor: the admin deciding.
            team_id: the team.
            person_id: its new manager.

        Raises:
            Forbidden: the actor is not an admin. NotFound: no such team or person.
        """
        require_admin(actor)
        with self.store.engine.begin() as conn:
            find_team(conn, actor.tenant_id, team_id)
            person = find_person(conn, actor.tenant_id, person_id)
            events = [
                NewEvent(
                    "TeamManagerAssigned", {"team_id": str(team_id), "person_id": str(person_id)}
                )
            ]
            append(self.store, conn, actor, f"team-{team_id}", events)
            if person.role == "employee":
                append(
                    self.store,
                    conn,
                    actor,
                    f"person-{person_id}",
                    [
                        NewEvent(
                            "PersonRoleChanged", {"person_id": str(person_id), "role": "manager"}
                        ),
                    ],
                )

"""A team's life after its creation: renamed, moved under another parent (never into a
cycle), a manager removed (part of
:class:`shared.commands.organization.OrganizationCommands`)."""

from __future__ import annotations

import uuid

from sqlalchemy import Connection, select, text

from shared.commands.base import Actor, append
from shared.commands.organization_core import (
    OrganizationCore,
    find_person,
    find_team,
    require_admin,
)
from shared.directory import Team, TeamMember
from shared.domain.errors import Conflict, InvalidInput, Text
from shared.eventlog import NewEvent

NAME_MAX = 200
MAX_DEPTH = 100


def _lock_tree(conn: Connection, tenant_id: uuid.UUID) -> None:
    """One change to an organisation's tree at a time (two crossing moves make a cycle)."""
    conn.execute(
        text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"team-tree-{tenant_id}"}
    )


def _ancestors(conn: Connection, tenant_id: uuid.UUID, team_id: uuid.UUID) -> list[uuid.UUID]:
    """``team_id`` and the teams above it, nearest first."""
    chain = [team_id]
    while len(chain) <= MAX_DEPTH:
        parent = conn.execute(
            select(Team.parent_team_id).where(Team.id == chain[-1], Team.tenant_id == tenant_id)
        ).scalar()
        if parent is None:
            break
        chain.append(parent)
    return chain


class TeamCommands(OrganizationCore):
    """Renaming and moving teams, removing managers."""

    def rename_team(self, actor: Actor, team_id: uuid.UUID, name: str) -> None:
        """Give a team another name.

        Raises:
            Forbidden: the actor is not an admin. NotFound: no such team.
            InvalidInput: an empty name or one longer than 200 characters.
        """
        require_admin(actor)
        name = name.strip()
        if not 1 <= len(name) <= NAME_MAX:
            raise InvalidInput(
                Text("The name is not valid."),
                {"name": [Text("Give the team a name of 1 to %(max)d characters.", max=NAME_MAX)]},
            )
        with self.store.engine.begin() as conn:
            find_team(conn, actor.tenant_id, team_id)
            data = {"team_id": str(team_id), "name": name}
            append(self.store, conn, actor, f"team-{team_id}", [NewEvent("TeamRenamed", data)])

    def move_team(self, actor: Actor, team_id: uuid.UUID, parent_team_id: uuid.UUID | None) -> None:
        """Put a team under another parent team, or at the top (None).

        Raises:
            Forbidden: the actor is not an admin. NotFound: no such team or parent.
            InvalidInput: the parent is the team itself or a team below it (a cycle).
        """
        require_admin(actor)
        with self.store.engine.begin() as conn:
            _lock_tree(conn, actor.tenant_id)
            team = find_team(conn, actor.tenant_id, team_id)
            if parent_team_id is not None:
                parent = find_team(conn, actor.tenant_id, parent_team_id)
                if team_id in _ancestors(conn, actor.tenant_id, parent_team_id):
                    if parent_team_id == team_id:
                        why = Text(
                            "%(team)s cannot go under itself: a team cannot be inside itself.",
                            team=team.name,
                        )
                    else:
                        why = Text(
                            "%(team)s cannot go under %(parent)s, below it: a team cannot be "
                            "inside itself. Move that team elsewhere first.",
                            team=team.name,
                            parent=parent.name,
                        )
                    raise InvalidInput(
                        Text("A team cannot be inside itself."), {"parent_team_id": [why]}
                    )
            data = {
                "team_id": str(team_id),
                "parent_team_id": str(parent_team_id) if parent_team_id else None,
            }
            append(self.store, conn, actor, f"team-{team_id}", [NewEvent("TeamMoved", data)])

    def remove_manager(self, actor: Actor, team_id: uuid.UUID, person_id: uuid.UUID) -> None:
        """The person no longer manages the team (their role stays as it is).

        Raises:
            Forbidden: the actor is not an admin. NotFound: no such team or person.
            Conflict: the person does not manage the team.
        """
        require_admin(actor)
        with self.store.engine.begin() as conn:
            find_team(conn, actor.tenant_id, team_id)
            find_person(conn, actor.tenant_id, person_id)
            manages = conn.execute(
                select(TeamMember.person_id).where(
                    TeamMember.team_id == team_id,
                    TeamMember.person_id == person_id,
                    TeamMember.is_manager.is_(True),
                )
            ).first()
            if manages is None:
                raise Conflict(Text("This person does not manage this team."))
            data = {"team_id": str(team_id), "person_id": str(person_id)}
            append(
                self.store, conn, actor, f"team-{team_id}", [NewEvent("TeamManagerRemoved", data)]
            )

"""Organisation commands: organisations, teams, people, invitations, roles, tokens, erasure."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, func, select

from shared.commands.base import Actor, append
from shared.directory import AccessToken, Person, Team, TeamMember
from shared.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from shared.eventlog import AppendContext, EventStore, NewEvent
from shared.security import hash_password, new_token

MIN_PASSWORD = 10
SESSION_TOKEN_HOURS = 12


@dataclass(frozen=True)
class Invitation:
    person_id: uuid.UUID
    email: str


def _require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise Forbidden("only an admin can do this")


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(
            "the password is too short",
            {"password": [f"Use at least {MIN_PASSWORD} characters."]},
        )


def _team(conn: Connection, tenant_id: uuid.UUID, team_id: uuid.UUID) -> Team:
    team = conn.execute(select(Team).where(Team.id == team_id, Team.tenant_id == tenant_id)).first()
    if team is None:
        raise NotFound(f"no team {team_id}")
    return team  # type: ignore[return-value]


def _person(conn: Connection, tenant_id: uuid.UUID, person_id: uuid.UUID) -> Person:
    row = conn.execute(
        select(Person).where(Person.id == person_id, Person.tenant_id == tenant_id)
    ).first()
    if row is None:
        raise NotFound(f"no person {person_id}")
    return row  # type: ignore[return-value]


class OrganizationCommands:
    """Every change to the organisation, as events (and their inline directory rows)."""

    def __init__(self, store: EventStore):
        self.store = store

    def create_organization(
        self,
        name: str,
        admin_email: str,
        admin_password: str,
        admin_name: str,
        source: str = "cli",
    ) -> tuple[uuid.UUID, uuid.UUID]:
        """A new tenant with its first admin (already joined); returns (tenant, admin)."""
        _check_password(admin_password)
        tenant_id, admin_id = uuid.uuid4(), uuid.uuid4()
        system = Actor(tenant_id=tenant_id, person_id=None, role="admin", source=source)
        with self.store.engine.begin() as conn:
            self._ensure_email_free(conn, admin_email)
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
        _require_admin(actor)
        team_id = uuid.uuid4()
        with self.store.engine.begin() as conn:
            if parent_team_id is not None:
                _team(conn, actor.tenant_id, parent_team_id)
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

    def invite(
        self, actor: Actor, email: str, role: str = "employee", team_id: uuid.UUID | None = None
    ) -> Invitation:
        """Invite someone by e-mail; the invitation link (signed by the gateway) sets a password.

        Raises:
            Conflict: the e-mail address already has an account.
        """
        _require_admin(actor)
        person_id = uuid.uuid4()
        with self.store.engine.begin() as conn:
            self._ensure_email_free(conn, email)
            if team_id is not None:
                _team(conn, actor.tenant_id, team_id)
            append(
                self.store,
                conn,
                actor,
                f"person-{person_id}",
                [
                    NewEvent(
                        "PersonInvited",
                        {
                            "person_id": str(person_id),
                            "email": email,
                            "role": role,
                            "team_id": str(team_id) if team_id else None,
                        },
                    ),
                ],
                expected_version=0,
            )
        return Invitation(person_id, email)

    def accept_invitation(
        self,
        tenant_id: uuid.UUID,
        person_id: uuid.UUID,
        display_name: str,
        password: str,
        time_zone: str = "UTC",
    ) -> None:
        """The invited person joins: sets their name and password.

        Raises:
            Conflict: the invitation was used already (or the person left or was erased).
        """
        _check_password(password)
        actor = Actor(tenant_id=tenant_id, person_id=person_id, source="invitation")
        with self.store.engine.begin() as conn:
            person = _person(conn, tenant_id, person_id)
            if person.status != "invited":
                raise Conflict("this invitation has been used already")
            append(
                self.store,
                conn,
                actor,
                f"person-{person_id}",
                [
                    NewEvent(
                        "PersonJoined",
                        {
                            "person_id": str(person_id),
                            "display_name": display_name,
                            "time_zone": time_zone,
                        },
                    ),
                    NewEvent(
                        "PasswordSet",
                        {"person_id": str(person_id), "password_hash": hash_password(password)},
                    ),
                ],
            )

    def set_password(self, actor: Actor, new_password: str) -> None:
        _check_password(new_password)
        assert actor.person_id is not None
        with self.store.engine.begin() as conn:
            append(
                self.store,
                conn,
                actor,
                f"person-{actor.person_id}",
                [
                    NewEvent(
                        "PasswordSet",
                        {
                            "person_id": str(actor.person_id),
                            "password_hash": hash_password(new_password),
                        },
                    ),
                ],
            )

    def assign_manager(self, actor: Actor, team_id: uuid.UUID, person_id: uuid.UUID) -> None:
        _require_admin(actor)
        with self.store.engine.begin() as conn:
            _team(conn, actor.tenant_id, team_id)
            person = _person(conn, actor.tenant_id, person_id)
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

    def change_role(self, actor: Actor, person_id: uuid.UUID, role: str) -> None:
        _require_admin(actor)
        with self.store.engine.begin() as conn:
            _person(conn, actor.tenant_id, person_id)
            append(
                self.store,
                conn,
                actor,
                f"person-{person_id}",
                [
                    NewEvent("PersonRoleChanged", {"person_id": str(person_id), "role": role}),
                ],
            )

    def move(self, actor: Actor, person_id: uuid.UUID, to_team_id: uuid.UUID) -> None:
        _require_admin(actor)
        with self.store.engine.begin() as conn:
            _person(conn, actor.tenant_id, person_id)
            _team(conn, actor.tenant_id, to_team_id)
            current = (
                conn.execute(
                    select(TeamMember.team_id).where(
                        TeamMember.person_id == person_id, TeamMember.is_manager.is_(False)
                    )
                )
                .scalars()
                .first()
            )
            append(
                self.store,
                conn,
                actor,
                f"person-{person_id}",
                [
                    NewEvent(
                        "PersonMovedTeam",
                        {
                            "person_id": str(person_id),
                            "from_team_id": str(current) if current else None,
                            "to_team_id": str(to_team_id),
                        },
                    ),
                ],
            )

    def leave(self, actor: Actor, person_id: uuid.UUID) -> None:
        _require_admin(actor)
        with self.store.engine.begin() as conn:
            _person(conn, actor.tenant_id, person_id)
            append(
                self.store,
                conn,
                actor,
                f"person-{person_id}",
                [NewEvent("PersonLeft", {"person_id": str(person_id)})],
            )

    def erase(self, actor: Actor, person_id: uuid.UUID) -> None:
        """Crypto-shred a person (themself, or by an admin): see docs/events.md."""
        if actor.person_id != person_id:
            _require_admin(actor)
        with self.store.engine.begin() as conn:
            if _person(conn, actor.tenant_id, person_id).status == "erased":
                return  # erasing twice changes nothing and records nothing
            self.store.keyring.erase(conn, actor.tenant_id, person_id)
            append(
                self.store,
                conn,
                actor,
                f"person-{person_id}",
                [NewEvent("PersonErased", {"person_id": str(person_id)})],
            )

    def create_token(
        self, actor: Actor, name: str, kind: str = "personal", now: datetime | None = None
    ) -> tuple[uuid.UUID, str]:
        """A new API token for the actor; returns (id, token). Only its hash is stored."""
        assert actor.person_id is not None
        token_id = uuid.uuid4()
        token, digest = new_token()
        expires = None
        if kind == "session":
            expires = (now or datetime.now().astimezone()) + timedelta(hours=SESSION_TOKEN_HOURS)
        with self.store.engine.begin() as conn:
            append(
                self.store,
                conn,
                actor,
                f"person-{actor.person_id}",
                [
                    NewEvent(
                        "AccessTokenCreated",
                        {
                            "token_id": str(token_id),
                            "person_id": str(actor.person_id),
                            "name": name,
                            "kind": kind,
                            "token_hash": digest,
                            "expires_at": expires.isoformat() if expires else None,
                        },
                    ),
                ],
                key=None,
            )
        return token_id, token

    def revoke_token(self, actor: Actor, token_id: uuid.UUID) -> None:
        with self.store.engine.begin() as conn:
            token = conn.execute(
                select(AccessToken).where(
                    AccessToken.id == token_id, AccessToken.tenant_id == actor.tenant_id
                )
            ).first()
            if token is None or (token.person_id != actor.person_id and not actor.is_admin):
                raise NotFound(f"no token {token_id}")
            append(
                self.store,
                conn,
                actor,
                f"person-{token.person_id}",
                [
                    NewEvent(
                        "AccessTokenRevoked",
                        {"token_id": str(token_id), "person_id": str(token.person_id)},
                    ),
                ],
            )

    def _ensure_email_free(self, conn: Connection, email: str) -> None:
        taken = conn.execute(
            select(Person.id).where(func.lower(Person.email) == email.lower())
        ).first()
        if taken is not None:
            raise Conflict(
                "this e-mail address already has an account",
                {"email": ["This e-mail address already has an account."]},
            )


__all__ = ["AppendContext", "Invitation", "OrganizationCommands"]

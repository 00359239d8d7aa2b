"""People of an organisation: invitations, joining, roles, moves, leaving and erasure."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import Connection, func, select

from shared import directory, sessions
from shared.chat.installations import forget_person as forget_slack_links
from shared.commands.base import Actor, append
from shared.commands.organization_core import (
    OrganizationCore,
    check_password,
    email_tenant,
    ensure_email_free,
    find_person,
    find_team,
    require_admin,
)
from shared.directory import Person, Team, TeamMember
from shared.domain.errors import Conflict, InvalidInput, Text
from shared.domain.working_hours import time_zones
from shared.eventlog import NewEvent, StreamAppend
from shared.msteams.links import forget_person as forget_teams_links
from shared.security import hash_password


def _find_teams(conn: Connection, tenant_id: uuid.UUID, team_ids: set[uuid.UUID]) -> None:
    """Raise NotFound unless every one of ``team_ids`` is a team of the organisation."""
    found = set(
        conn.execute(
            select(Team.id).where(Team.tenant_id == tenant_id, Team.id.in_(team_ids))
        ).scalars()
    )
    for team_id in sorted(team_ids - found):
        find_team(conn, tenant_id, team_id)  # raises


def _email_owners(conn: Connection, emails: list[str]) -> dict[str, uuid.UUID]:
    """The organisation of each address that has an account (lower case), in one query
    (``email_tenant`` for many)."""
    lowered = sorted({e.lower() for e in emails})
    rows = conn.execute(
        select(func.lower(Person.email), Person.tenant_id).where(
            func.lower(Person.email).in_(lowered)
        )
    ).all()
    return {r[0]: r[1] for r in rows}


def _invited(person_id: uuid.UUID, row: Invitee) -> StreamAppend:
    data = {
        "person_id": str(person_id),
        "email": row.email,
        "role": row.role,
        "team_id": str(row.team_id) if row.team_id else None,
        "display_name": row.display_name or None,
    }
    return StreamAppend(f"person-{person_id}", [NewEvent("PersonInvited", data)], 0)


BATCH_NAMESPACE = uuid.UUID("6c0d9f7e-3b1a-4f0e-9a51-2f0a3c7d1b42")


def batch_person_id(tenant_id: uuid.UUID, batch_id: uuid.UUID, email: str) -> uuid.UUID:
    """The id a batch of invitations gives the person it invites at ``email`` (the same
    every time the batch is confirmed: that makes the batch idempotent)."""
    return uuid.uuid5(BATCH_NAMESPACE, f"{tenant_id}/{batch_id}/{email.lower()}")


@dataclass(frozen=True)
class Invitee:
    """One row of a batch of invitations (already checked: shared/invitation_rows.py)."""

    email: str
    role: str = "employee"
    team_id: uuid.UUID | None = None
    display_name: str | None = None


@dataclass(frozen=True)
class Invitation:
    """Who was invited: the new person's id and the address the link goes to."""

    person_id: uuid.UUID
    email: str
    registered_elsewhere: bool = False
    """The address has an account in another organisation: nothing was recorded, and the
    caller answers as for any invitation (never telling one organisation about another's
    people) while the mail tells the address's owner."""
    replayed: bool = False
    """The batch was confirmed before: this invitation was recorded then (nothing new)."""


class PeopleCommands(OrganizationCore):
    """A person's way through the organisation (part of
    :class:`shared.commands.organization.OrganizationCommands`)."""

    def invite(
        self, actor: Actor, email: str, role: str = "employee", team_id: uuid.UUID | None = None
    ) -> Invitation:
        """Invite someone by e-mail; the invitation link (signed by the gateway) sets a password.

        Parameters:
            actor: the admin inviting.
            email: the new person's address.
            role: ``employee``, ``manager`` or ``admin``.
            team_id: the team they join, or None.

        Returns:
            The new person's id and address; for an address registered in another
            organisation, an id that names no one and ``registered_elsewhere``.

        Raises:
            Forbidden: the actor is not an admin.
            NotFound: no such team.
            Conflict: someone of this organisation already has the address.
        """
        require_admin(actor)
        person_id = uuid.uuid4()
        with self.store.engine.begin() as conn:
            if team_id is not None:
                find_team(conn, actor.tenant_id, team_id)
            owner = email_tenant(conn, email)
            if owner == actor.tenant_id:
                ensure_email_free(conn, email)  # raises: this organisation's admin may know
            if owner is not None:
                return Invitation(person_id, email, registered_elsewhere=True)
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

    def invite_batch(
        self, actor: Actor, batch_id: uuid.UUID, invitees: list[Invitee]
    ) -> list[Invitation]:
        """Invite many people at once, all or nothing, idempotently: each person's id derives
        from the batch and the address, so confirming the same batch again records nothing new.

        Parameters:
            actor: the admin inviting.
            batch_id: the batch (chosen when the admin previewed it).
            invitees: the rows, each address once.

        Returns:
            One invitation per row, in order (``replayed`` for rows recorded before).

        Raises:
            Forbidden: the actor is not an admin. NotFound: no such team.
            Conflict: someone of this organisation already has one of the addresses.
        """
        require_admin(actor)
        ids = [batch_person_id(actor.tenant_id, batch_id, row.email) for row in invitees]
        with self.store.engine.begin() as conn:
            _find_teams(conn, actor.tenant_id, {i.team_id for i in invitees if i.team_id})
            known = set(
                conn.execute(
                    select(Person.id).where(Person.tenant_id == actor.tenant_id, Person.id.in_(ids))
                ).scalars()
            )
            owners = _email_owners(conn, [row.email for row in invitees])
            out: list[Invitation] = []
            appends: list[StreamAppend] = []
            owners_now: set[str] = set()  # the addresses this batch invites
            for person_id, row in zip(ids, invitees, strict=True):
                owner = owners.get(row.email.lower())
                if person_id in known:
                    out.append(Invitation(person_id, row.email, replayed=True))
                elif owner == actor.tenant_id:
                    ensure_email_free(conn, row.email)  # raises
                elif row.email.lower() in owners_now:  # twice in the list
                    raise Conflict(
                        Text("This e-mail address already has an account."),
                        {"email": [Text("This e-mail address already has an account.")]},
                        kind="account-exists",
                    )
                elif owner is not None:
                    out.append(Invitation(person_id, row.email, registered_elsewhere=True))
                else:
                    out.append(Invitation(person_id, row.email))
                    appends.append(_invited(person_id, row))
                    owners_now.add(row.email.lower())
            if appends:  # one COPY, the directory brought up to date in the same transaction
                results = self.store.append_batch_in(
                    conn, actor.tenant_id, appends, actor.context()
                )
                positions = [p for r in results if not r.replayed for p in r.positions]
                directory.apply(conn, self.store.read_positions(conn, positions))
        return out

    def accept_invitation(
        self,
        tenant_id: uuid.UUID,
        person_id: uuid.UUID,
        display_name: str,
        password: str,
        time_zone: str = "UTC",
    ) -> None:
        """The invited person joins: sets their name and password.

        Parameters:
            tenant_id: the organisation named by the invitation link.
            person_id: the person named by the invitation link.
            display_name: the name they choose.
            password: the password they choose.
            time_zone: their IANA time zone.

        Raises:
            InvalidInput: the password is too short, or the time zone is not an IANA name.
            NotFound: no such person.
            Conflict: the invitation was used already (or the person left or was erased).
        """
        check_password(password)
        if time_zone not in time_zones():
            raise InvalidInput(
                Text("This time zone is unknown."),
                {"time_zone": [Text("Give an IANA time zone, e.g. Europe/Berlin or UTC.")]},
            )
        actor = Actor(tenant_id=tenant_id, person_id=person_id, source="invitation")
        with self.store.engine.begin() as conn:
            person = find_person(conn, tenant_id, person_id)
            if person.status != "invited":
                raise Conflict(
                    Text("This invitation has been used already."), kind="invitation-used"
                )
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

    def change_role(self, actor: Actor, person_id: uuid.UUID, role: str) -> None:
        """Give a person another role.

        Parameters:
            actor: the admin deciding.
            person_id: the person.
            role: ``employee``, ``manager`` or ``admin``.

        Raises:
            Forbidden: the actor is not an admin. NotFound: no such person.
        """
        require_admin(actor)
        with self.store.engine.begin() as conn:
            find_person(conn, actor.tenant_id, person_id)
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
        """Move a person to another team (from the team they are a member of, if any).

        Parameters:
            actor: the admin deciding.
            person_id: the person.
            to_team_id: their new team.

        Raises:
            Forbidden: the actor is not an admin. NotFound: no such person or team.
        """
        require_admin(actor)
        with self.store.engine.begin() as conn:
            find_person(conn, actor.tenant_id, person_id)
            find_team(conn, actor.tenant_id, to_team_id)
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
        """A person leaves the organisation: they can no longer log in; their history stays.

        Parameters:
            actor: the admin recording it.
            person_id: the person.

        Raises:
            Forbidden: the actor is not an admin. NotFound: no such person.
        """
        require_admin(actor)
        with self.store.engine.begin() as conn:
            find_person(conn, actor.tenant_id, person_id)
            append(
                self.store,
                conn,
                actor,
                f"person-{person_id}",
                [NewEvent("PersonLeft", {"person_id": str(person_id)})],
            )

    def erase(self, actor: Actor, person_id: uuid.UUID) -> None:
        """Crypto-shred a person (themself, or by an admin): see docs/events.md,
        "Personal data and erasure". Erasing twice changes nothing and records nothing.

        Parameters:
            actor: the person themself, or an admin.
            person_id: the person.

        Raises:
            Forbidden: someone else than the person, not an admin.
            NotFound: no such person.
        """
        if actor.person_id != person_id:
            require_admin(actor)
        with self.store.engine.begin() as conn:
            if find_person(conn, actor.tenant_id, person_id).status == "erased":
                return  # erasing twice changes nothing and records nothing
            self.store.keyring.erase(conn, actor.tenant_id, person_id)
            forget_slack_links(conn, person_id)
            forget_teams_links(conn, person_id)
            sessions.forget_person(conn, person_id)
            append(
                self.store,
                conn,
                actor,
                f"person-{person_id}",
                [NewEvent("PersonErased", {"person_id": str(person_id)})],
            )
        self.on_erased(person_id)  # read models forget the behaviour: shared/wakeups.py

"""An identity provider's changes, as the organisation's events (docs/scim.md).

Each method is one transaction: it reads the resource, checks the request's ``If-Match``
against the resource's ETag, decides every event and appends them all, or raises and
writes nothing. The events are the API's (``PersonInvited``, ``PersonJoined``,
``PersonMovedTeam``, ``PersonRoleChanged``, ``PersonLeft``, ``TeamCreated``) and those of
:mod:`shared.eventlog.events_provisioning` for what the API has no event for.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from scim2_models import (
    InvalidValueException,
    NotFoundException,
    PreconditionFailedException,
    UniquenessException,
)
from sqlalchemy import Connection, select

from shared.commands.base import Actor, append
from shared.directory.models import TeamMember
from shared.eventlog import EventStore, NewEvent
from shared.scim import reads
from shared.scim.mapping import DesiredGroup, DesiredUser

Render = Callable[[Any], dict[str, Any]]
"""A record's resource, whose ``meta.version`` is the ETag ``If-Match`` is checked against."""


def _check_version(resource: dict[str, Any], if_match: str | None) -> None:
    if if_match is None or if_match.strip() == "*":
        return
    tags = {t.strip() for t in if_match.split(",")}
    version = resource["meta"]["version"]
    if version not in tags and version.removeprefix("W/") not in tags:
        raise PreconditionFailedException(detail="the resource changed since it was read")


def _ensure_free(
    conn: Connection, actor: Actor, want: DesiredUser, person_id: uuid.UUID | None
) -> None:
    by_name, by_email = reads.holders(conn, actor.tenant_id, want.user_name, want.email)
    if by_name - {person_id}:
        raise UniquenessException(detail=f"userName {want.user_name!r} is taken")
    if by_email - {person_id}:
        # Another organisation's address is refused like our own, naming no organisation.
        raise UniquenessException(detail="this e-mail address belongs to another account")


def _current_team(conn: Connection, person_id: uuid.UUID) -> uuid.UUID | None:
    return (
        conn.execute(
            select(TeamMember.team_id).where(
                TeamMember.person_id == person_id, TeamMember.is_manager.is_(False)
            )
        )
        .scalars()
        .first()
    )


class ProvisioningCommands:
    """Every change an identity provider makes, as events.

    Parameters:
        store: the event store.
    """

    def __init__(self, store: EventStore):
        self.store = store

    def _append(
        self, conn: Connection, actor: Actor, stream: str, events: list[NewEvent], **kw: Any
    ) -> None:
        if events:
            append(self.store, conn, actor, stream, events, **kw)

    def create_user(self, actor: Actor, want: DesiredUser) -> reads.UserRecord:
        """A new person, joined at once (an e-mail address is needed only to sign in).

        Parameters:
            actor: the organisation's system actor (source ``scim``).
            want: the User's state.

        Returns:
            The new User, as committed.

        Raises:
            UniquenessException: the userName or the e-mail address is taken.
        """
        person_id, created = uuid.uuid4(), datetime.now(UTC)
        pid = str(person_id)
        with self.store.engine.begin() as conn:
            _ensure_free(conn, actor, want, None)
            events = [
                NewEvent(
                    "PersonInvited",
                    {
                        "person_id": pid,
                        "email": want.email,
                        "role": want.role or "employee",
                        "team_id": None,
                    },
                    created,
                ),
                NewEvent(
                    "PersonProvisioned",
                    {
                        "person_id": pid,
                        "user_name": want.user_name,
                        "external_id": want.external_id,
                    },
                    created,
                ),
                NewEvent(
                    "PersonJoined", {"person_id": pid, "display_name": want.display_name}, created
                ),
            ]
            if not want.active:
                events.append(NewEvent("PersonLeft", {"person_id": pid}, created))
            self._append(conn, actor, f"person-{pid}", events, expected_version=0)
        status = "active" if want.active else "left"
        return reads.UserRecord(
            person_id,
            want.user_name,
            want.external_id,
            want.email,
            want.display_name,
            want.role or "employee",
            status,
            created,
        )

    @staticmethod
    def _user(conn: Connection, actor: Actor, person_id: uuid.UUID) -> reads.UserRecord:
        record = reads.find_user(conn, actor.tenant_id, person_id)
        if record is None:
            raise NotFoundException(detail=f"no User {person_id}")
        return record

    @staticmethod
    def _group(conn: Connection, actor: Actor, team_id: uuid.UUID) -> reads.GroupRecord:
        record = reads.find_group(conn, actor.tenant_id, team_id)
        if record is None:
            raise NotFoundException(detail=f"no Group {team_id}")
        return record

    def replace_user(
        self,
        actor: Actor,
        person_id: uuid.UUID,
        change: Callable[[reads.UserRecord], DesiredUser],
        render: Render,
        if_match: str | None = None,
    ) -> reads.UserRecord:
        """Bring a person to the state ``change`` asks for, given their current record.

        Parameters:
            actor: the organisation's system actor.
            person_id: the person.
            change: the desired state from the current record (a PUT ignores the record; a
                PATCH applies its operations to it).
            render: the record's resource (for the ETag).
            if_match: the request's ``If-Match``, if any.

        Raises:
            NotFoundException: no such User. PreconditionFailedException: ``If-Match``
            names another version. UniquenessException: the new userName or e-mail is
            taken.
        """
        with self.store.engine.begin() as conn:
            record = reads.find_user(conn, actor.tenant_id, person_id)
            if record is None:
                raise NotFoundException(detail=f"no User {person_id}")
            _check_version(render(record), if_match)
            want = change(record)
            changes = self._user_changes(conn, actor, record, want)
            self._append(conn, actor, f"person-{person_id}", changes)
            return self._user(conn, actor, person_id) if changes else record

    def _user_changes(
        self, conn: Connection, actor: Actor, record: reads.UserRecord, want: DesiredUser
    ) -> list[NewEvent]:
        pid = str(record.id)
        events: list[NewEvent] = []
        if want.active and not record.active:
            team = _current_team(conn, record.id)  # a group it was put in while away
            back = {"person_id": pid, "team_id": str(team) if team else None}
            events.append(NewEvent("PersonReturned", back))
        if want.user_name != record.user_name or want.email != record.email:
            _ensure_free(conn, actor, want, record.id)
        if (want.user_name, want.external_id) != (record.user_name, record.external_id):
            events.append(
                NewEvent(
                    "PersonProvisioned",
                    {
                        "person_id": pid,
                        "user_name": want.user_name,
                        "external_id": want.external_id,
                    },
                )
            )
        if want.email != record.email:
            events.append(NewEvent("PersonEmailChanged", {"person_id": pid, "email": want.email}))
        if want.display_name != record.display_name:
            events.append(
                NewEvent("PersonRenamed", {"person_id": pid, "display_name": want.display_name})
            )
        if want.role is not None and want.role != record.role:
            events.append(NewEvent("PersonRoleChanged", {"person_id": pid, "role": want.role}))
        if record.active and not want.active:
            events.append(NewEvent("PersonLeft", {"person_id": pid}))
        return events

    def delete_user(
        self, actor: Actor, person_id: uuid.UUID, render: Render, if_match: str | None = None
    ) -> None:
        """The provider deleted a person: they leave (their history stays) and the User is
        gone from SCIM.

        Raises:
            NotFoundException: no such User. PreconditionFailedException: see above.
        """
        with self.store.engine.begin() as conn:
            record = reads.find_user(conn, actor.tenant_id, person_id)
            if record is None:
                raise NotFoundException(detail=f"no User {person_id}")
            _check_version(render(record), if_match)
            pid = str(person_id)
            events = [NewEvent("PersonLeft", {"person_id": pid})] if record.active else []
            events.append(NewEvent("PersonDeprovisioned", {"person_id": pid}))
            self._append(conn, actor, f"person-{pid}", events)

    def create_group(self, actor: Actor, want: DesiredGroup) -> reads.GroupRecord:
        """A new team with its members (each moved from the team they were in).

        Raises:
            InvalidValueException: a member is not a User of the organisation.
        """
        team_id = uuid.uuid4()
        with self.store.engine.begin() as conn:
            team = NewEvent(
                "TeamCreated", {"team_id": str(team_id), "name": want.name, "parent_team_id": None}
            )
            named = NewEvent(
                "TeamProvisioned", {"team_id": str(team_id), "external_id": want.external_id}
            )
            self._append(conn, actor, f"team-{team_id}", [team, named], expected_version=0)
            self._add_members(conn, actor, team_id, want.members)
            return self._group(conn, actor, team_id)

    def _add_members(
        self, conn: Connection, actor: Actor, team_id: uuid.UUID, people: tuple[uuid.UUID, ...]
    ) -> None:
        known = reads.visible_people(conn, actor.tenant_id, people)
        missing = [str(p) for p in people if p not in known]
        if missing:
            raise InvalidValueException(detail=f"no User {missing[0]}")
        for person_id in people:
            current = _current_team(conn, person_id)
            if current == team_id:
                continue
            move = NewEvent(
                "PersonMovedTeam",
                {
                    "person_id": str(person_id),
                    "from_team_id": str(current) if current else None,
                    "to_team_id": str(team_id),
                },
            )
            self._append(conn, actor, f"person-{person_id}", [move])

    def _remove_members(
        self, conn: Connection, actor: Actor, team_id: uuid.UUID, people: list[uuid.UUID]
    ) -> None:
        for person_id in people:
            removed = NewEvent(
                "PersonRemovedFromTeam", {"person_id": str(person_id), "team_id": str(team_id)}
            )
            self._append(conn, actor, f"person-{person_id}", [removed])

    def replace_group(
        self,
        actor: Actor,
        team_id: uuid.UUID,
        change: Callable[[reads.GroupRecord], DesiredGroup],
        render: Render,
        if_match: str | None = None,
    ) -> reads.GroupRecord:
        """Bring a team to the state ``change`` asks for (see :meth:`replace_user`).

        Raises:
            NotFoundException, PreconditionFailedException, InvalidValueException.
        """
        with self.store.engine.begin() as conn:
            record = reads.find_group(conn, actor.tenant_id, team_id)
            if record is None:
                raise NotFoundException(detail=f"no Group {team_id}")
            _check_version(render(record), if_match)
            want = change(record)
            tid = str(team_id)
            events = []
            if want.name != record.name:
                events.append(NewEvent("TeamRenamed", {"team_id": tid, "name": want.name}))
            if want.external_id != record.external_id:
                events.append(
                    NewEvent("TeamProvisioned", {"team_id": tid, "external_id": want.external_id})
                )
            self._append(conn, actor, f"team-{tid}", events)
            now = {m.id for m in record.members}
            self._remove_members(conn, actor, team_id, [m for m in now if m not in want.members])
            self._add_members(conn, actor, team_id, tuple(m for m in want.members if m not in now))
            return self._group(conn, actor, team_id)

    def delete_group(
        self, actor: Actor, team_id: uuid.UUID, render: Render, if_match: str | None = None
    ) -> None:
        """The provider deleted a group: its members leave the team, which keeps its history
        and is gone from SCIM.

        Raises:
            NotFoundException, PreconditionFailedException.
        """
        with self.store.engine.begin() as conn:
            record = reads.find_group(conn, actor.tenant_id, team_id)
            if record is None:
                raise NotFoundException(detail=f"no Group {team_id}")
            _check_version(render(record), if_match)
            self._remove_members(conn, actor, team_id, [m.id for m in record.members])
            gone = NewEvent("TeamDeprovisioned", {"team_id": str(team_id)})
            self._append(conn, actor, f"team-{team_id}", [gone])

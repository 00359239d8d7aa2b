"""Provisioning events -> directory rows (docs/scim.md): SCIM tokens, the identity
provider's names of people and teams, e-mail and name changes, removals from a team.

Part of the directory: :mod:`shared.directory.projector` applies these handlers inline and
in its rebuild, like its own.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, case, delete, text, update

from shared.database import as_psycopg
from shared.directory.models import Person, ScimGroup, ScimToken, TeamMember
from shared.eventlog import ERASED, RecordedEvent

Handler = Callable[[Connection, RecordedEvent], None]


def _personal(value: Any) -> Any:
    return None if value == ERASED else value


def _token_issued(conn: Connection, e: RecordedEvent) -> None:
    conn.execute(
        text(
            "INSERT INTO scim_tokens (id, tenant_id, token_hash, created_at) "
            "VALUES (:id, :tenant, :hash, :at)"
        ),
        {
            "id": e.data["token_id"],
            "tenant": e.tenant_id,
            "hash": e.data["token_hash"],
            "at": e.occurred_at,
        },
    )


def _token_revoked(conn: Connection, e: RecordedEvent) -> None:
    conn.execute(
        update(ScimToken)
        .where(ScimToken.id == e.data["token_id"], ScimToken.revoked_at.is_(None))
        .values(revoked_at=e.occurred_at)
    )


_PROVISIONED_SQL = (
    "INSERT INTO scim_identities (person_id, tenant_id, user_name, external_id, removed) "
    "VALUES (%s, %s, %s, %s, false) "
    "ON CONFLICT (person_id) DO UPDATE SET user_name = excluded.user_name, "
    "external_id = excluded.external_id, removed = false"
)


def _person_provisioned(conn: Connection, e: RecordedEvent) -> None:
    # Prepared on the psycopg connection: each SCIM creation writes one.
    as_psycopg(conn).execute(
        _PROVISIONED_SQL,
        (
            uuid.UUID(e.data["person_id"]),
            e.tenant_id,
            _personal(e.data["user_name"]),
            _personal(e.data["external_id"]),
        ),
        prepare=True,
    )


def _person_deprovisioned(conn: Connection, e: RecordedEvent) -> None:
    conn.execute(
        text(
            "INSERT INTO scim_identities (person_id, tenant_id, removed) "
            "VALUES (:person, :tenant, true) ON CONFLICT (person_id) "
            "DO UPDATE SET removed = true, user_name = NULL, external_id = NULL"
        ),
        {"person": e.data["person_id"], "tenant": e.tenant_id},
    )


def _email_changed(conn: Connection, e: RecordedEvent) -> None:
    conn.execute(
        update(Person)
        .where(Person.id == e.data["person_id"])
        .values(email=_personal(e.data["email"]))
    )


def _renamed(conn: Connection, e: RecordedEvent) -> None:
    conn.execute(
        update(Person)
        .where(Person.id == e.data["person_id"])
        .values(display_name=_personal(e.data["display_name"]))
    )


def _returned(conn: Connection, e: RecordedEvent) -> None:
    conn.execute(
        update(Person)
        .where(Person.id == e.data["person_id"], Person.status == "left")
        .values(status=case((Person.joined_at.is_(None), "invited"), else_="active"))
    )


def _removed_from_team(conn: Connection, e: RecordedEvent) -> None:
    conn.execute(
        delete(TeamMember).where(
            TeamMember.person_id == e.data["person_id"], TeamMember.team_id == e.data["team_id"]
        )
    )


def _team_provisioned(conn: Connection, e: RecordedEvent) -> None:
    conn.execute(
        text(
            "INSERT INTO scim_groups (team_id, tenant_id, external_id, removed) "
            "VALUES (:team, :tenant, :external_id, false) ON CONFLICT (team_id) "
            "DO UPDATE SET external_id = excluded.external_id, removed = false"
        ),
        {"team": e.data["team_id"], "tenant": e.tenant_id, "external_id": e.data["external_id"]},
    )


def _team_deprovisioned(conn: Connection, e: RecordedEvent) -> None:
    conn.execute(
        update(ScimGroup).where(ScimGroup.team_id == e.data["team_id"]).values(removed=True)
    )


HANDLERS: dict[str, Handler] = {
    "ScimTokenIssued": _token_issued,
    "ScimTokenRevoked": _token_revoked,
    "PersonProvisioned": _person_provisioned,
    "PersonDeprovisioned": _person_deprovisioned,
    "PersonEmailChanged": _email_changed,
    "PersonRenamed": _renamed,
    "PersonReturned": _returned,
    "PersonRemovedFromTeam": _removed_from_team,
    "TeamProvisioned": _team_provisioned,
    "TeamDeprovisioned": _team_deprovisioned,
}
"""The handler of each provisioning event type."""

TABLES = ("scim_tokens", "scim_identities", "scim_groups")
"""The tables these handlers write (emptied first by a directory rebuild)."""

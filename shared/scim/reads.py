"""People and teams as an identity provider sees them: SCIM Users and Groups over the directory.

Every person of the organisation is a User (whoever created them), except the erased and
those the provider deleted; every team is a Group, except those whose group it deleted. A
person's ``userName`` is the provider's, else their e-mail address, else their id. A group's
members are the team's members (its managers are Compound's business, not the provider's).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from scim2_models.path.expressions import CompareOperator
from sqlalchemy import Connection, Select, String, cast, exists, func, literal, select

from shared.database import as_psycopg
from shared.directory.models import Person, ScimGroup, ScimIdentity, Team, TeamMember
from shared.scim.filters import Attribute, FilterCompiler, compare

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
ACTIVE_STATUSES = ("invited", "active")

_P = Person.__table__
_I = ScimIdentity.__table__
_T = Team.__table__
_G = ScimGroup.__table__
_M = TeamMember.__table__

_USER_NAME = func.coalesce(_I.c.user_name, _P.c.email, cast(_P.c.id, String))
_ACTIVE = _P.c.status.in_(ACTIVE_STATUSES)


@dataclass(frozen=True)
class UserRecord:
    """What Compound keeps of a SCIM User."""

    id: uuid.UUID
    user_name: str
    external_id: str | None
    email: str | None
    display_name: str | None
    role: str
    status: str
    created: datetime

    @property
    def active(self) -> bool:
        """Whether the person may sign in (invited or joined; not left)."""
        return self.status in ACTIVE_STATUSES


@dataclass(frozen=True)
class Member:
    """A member of a group: the person's id and display name."""

    id: uuid.UUID
    display: str | None


@dataclass(frozen=True)
class GroupRecord:
    """What Compound keeps of a SCIM Group."""

    id: uuid.UUID
    name: str
    external_id: str | None
    created: datetime
    members: tuple[Member, ...]


def _member_condition(op: CompareOperator, value: Any) -> Any:
    inner = Attribute(cast(_M.c.person_id, String), case_exact=True)
    return exists(
        select(literal(1)).where(
            _M.c.team_id == _T.c.id, _M.c.is_manager.is_(False), compare(inner, op, value)
        )
    )


USER_FILTERS = FilterCompiler(
    {
        "id": Attribute(cast(_P.c.id, String), case_exact=True),
        "userName": Attribute(_USER_NAME),
        "externalId": Attribute(_I.c.external_id, case_exact=True),
        "displayName": Attribute(_P.c.display_name),
        "name.formatted": Attribute(_P.c.display_name),
        "active": Attribute(_ACTIVE, boolean=True),
        "emails": Attribute(_P.c.email),
        "emails.value": Attribute(_P.c.email),
        "emails.type": Attribute(literal("work")),
        "emails.primary": Attribute(_P.c.email.is_not(None), boolean=True),
        "meta.created": Attribute(_P.c.invited_at),
    },
    USER_SCHEMA,
)
GROUP_FILTERS = FilterCompiler(
    {
        "id": Attribute(cast(_T.c.id, String), case_exact=True),
        "displayName": Attribute(_T.c.name),
        "externalId": Attribute(_G.c.external_id, case_exact=True),
        "members": Attribute(None, condition=_member_condition),
        "members.value": Attribute(None, condition=_member_condition),
        "meta.created": Attribute(_T.c.created_at),
    },
    GROUP_SCHEMA,
)


def _users(tenant_id: uuid.UUID) -> Select[Any]:
    return (
        select(
            _P.c.id,
            _USER_NAME.label("user_name"),
            _I.c.external_id,
            _P.c.email,
            _P.c.display_name,
            _P.c.role,
            _P.c.status,
            _P.c.invited_at,
        )
        .select_from(_P.outerjoin(_I, _I.c.person_id == _P.c.id))
        .where(
            _P.c.tenant_id == tenant_id,
            _P.c.status != "erased",
            func.coalesce(_I.c.removed, False).is_(False),
        )
    )


def _user(row: Any) -> UserRecord:
    return UserRecord(*row)


def find_user(conn: Connection, tenant_id: uuid.UUID, person_id: uuid.UUID) -> UserRecord | None:
    """The organisation's User ``person_id``, or None (no such person, erased or deleted)."""
    row = conn.execute(_users(tenant_id).where(_P.c.id == person_id)).first()
    return _user(row) if row else None


def list_users(
    conn: Connection, tenant_id: uuid.UUID, filter_text: str | None, start: int, count: int
) -> tuple[int, list[UserRecord]]:
    """A page of the organisation's Users.

    Parameters:
        conn: a connection.
        tenant_id: the organisation.
        filter_text: a SCIM filter, or None for all.
        start: the 1-based index of the first User of the page.
        count: at most this many Users.

    Returns:
        ``(how many match in all, the page)``, in order of invitation.

    Raises:
        InvalidFilterException: the filter is malformed or not supported.
    """
    query = _users(tenant_id)
    if filter_text:
        query = query.where(USER_FILTERS.compile(filter_text))
    total = conn.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    if count <= 0:
        return total, []
    page = query.order_by(_P.c.invited_at, _P.c.id).offset(start - 1).limit(count)
    return total, [_user(row) for row in conn.execute(page)]


# Who holds a userName in the organisation (a SCIM identity's, or an address that stands
# for the userName of a person without one), and who holds an e-mail address in any
# organisation, whatever their case. Prepared: every creation and replacement asks.
_HOLDERS_SQL = """
SELECT true, i.person_id
FROM scim_identities i JOIN people p ON p.id = i.person_id
WHERE i.tenant_id = %(tenant)s AND lower(i.user_name) = %(name)s AND i.removed IS false
  AND p.status <> 'erased'
UNION ALL
SELECT true, p.id
FROM people p LEFT JOIN scim_identities i ON i.person_id = p.id
WHERE lower(p.email) = %(name)s AND p.tenant_id = %(tenant)s AND i.user_name IS NULL
  AND coalesce(i.removed, false) IS false AND p.status <> 'erased'
UNION ALL
SELECT false, p.id FROM people p WHERE lower(p.email) = %(email)s
"""


def holders(
    conn: Connection, tenant_id: uuid.UUID, user_name: str, email: str | None
) -> tuple[set[uuid.UUID], set[uuid.UUID]]:
    """Who holds ``user_name`` in the organisation and who holds ``email`` in any organisation
    (whatever their case), in one round trip: every creation asks.

    Returns:
        ``(the Users with this userName, the people with this address)``.
    """
    params = {
        "tenant": tenant_id,
        "name": user_name.lower(),
        "email": None if email is None else email.lower(),  # NULL matches no one
    }
    found: tuple[set[uuid.UUID], set[uuid.UUID]] = (set(), set())
    with as_psycopg(conn).cursor() as cur:
        for by_name, person_id in cur.execute(_HOLDERS_SQL, params, prepare=True):
            found[0 if by_name else 1].add(person_id)
    return found


def _groups(tenant_id: uuid.UUID) -> Select[Any]:
    return (
        select(_T.c.id, _T.c.name, _G.c.external_id, _T.c.created_at)
        .select_from(_T.outerjoin(_G, _G.c.team_id == _T.c.id))
        .where(_T.c.tenant_id == tenant_id, func.coalesce(_G.c.removed, False).is_(False))
    )


def members_of(conn: Connection, team_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[Member]]:
    """The members of each team (not its managers; not people who left)."""
    found: dict[uuid.UUID, list[Member]] = {t: [] for t in team_ids}
    if not team_ids:
        return found
    rows = conn.execute(
        select(_M.c.team_id, _P.c.id, _P.c.display_name)
        .select_from(_M.join(_P, _P.c.id == _M.c.person_id))
        .where(_M.c.team_id.in_(team_ids), _M.c.is_manager.is_(False))
        .order_by(_P.c.invited_at, _P.c.id)
    )
    for team_id, person_id, display in rows:
        found[team_id].append(Member(person_id, display))
    return found


def _with_members(conn: Connection, rows: Sequence[Any], members: bool) -> list[GroupRecord]:
    by_team = members_of(conn, [r.id for r in rows]) if members else {}
    return [
        GroupRecord(r.id, r.name, r.external_id, r.created_at, tuple(by_team.get(r.id, ())))
        for r in rows
    ]


def find_group(
    conn: Connection, tenant_id: uuid.UUID, team_id: uuid.UUID, members: bool = True
) -> GroupRecord | None:
    """The organisation's Group ``team_id`` (with its members unless told), or None."""
    rows = conn.execute(_groups(tenant_id).where(_T.c.id == team_id)).all()
    found = _with_members(conn, rows, members)
    return found[0] if found else None


def list_groups(
    conn: Connection,
    tenant_id: uuid.UUID,
    filter_text: str | None,
    start: int,
    count: int,
    members: bool = True,
) -> tuple[int, list[GroupRecord]]:
    """A page of the organisation's Groups (see :func:`list_users`)."""
    query = _groups(tenant_id)
    if filter_text:
        query = query.where(GROUP_FILTERS.compile(filter_text))
    total = conn.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    if count <= 0:
        return total, []
    page = query.order_by(_T.c.created_at, _T.c.id).offset(start - 1).limit(count)
    return total, _with_members(conn, conn.execute(page).all(), members)


def visible_people(
    conn: Connection, tenant_id: uuid.UUID, ids: Sequence[uuid.UUID]
) -> set[uuid.UUID]:
    """Which of ``ids`` are Users of the organisation (active or not: a group may hold a
    person who left, who is in its team again when they return)."""
    if not ids:
        return set()
    query = _users(tenant_id).with_only_columns(_P.c.id).where(_P.c.id.in_(ids))
    return set(conn.execute(query).scalars())

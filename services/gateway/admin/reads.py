"""What the admin console reads from the directory (the read model the organisation's
commands keep in their own transaction): people with their team, the team tree with sizes
and managers. One organisation at a time, a page at a time."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Select, bindparam, false, func, or_, select, true

from shared.directory import Person, Team, TeamMember

PAGE_SIZE = 50
STATUSES = ("invited", "active", "left", "erased")


@dataclass(frozen=True)
class PeopleQuery:
    """The people page's filters (empty: any)."""

    q: str = ""
    team: str = ""
    role: str = ""
    status: str = ""
    page: int = 1

    @classmethod
    def of(cls, args: Any) -> PeopleQuery:
        try:
            page = max(1, min(10_000, int(args.get("page", "1"))))
        except ValueError:
            page = 1
        return cls(
            q=args.get("q", "").strip()[:200],
            team=args.get("team", "").strip(),
            role=args.get("role", "").strip(),
            status=args.get("status", "").strip(),
            page=page,
        )


@dataclass(frozen=True)
class PersonRow:
    id: uuid.UUID
    email: str | None
    display_name: str | None
    role: str
    status: str
    team_id: uuid.UUID | None
    team: str | None
    invited_at: Any
    joined_at: Any


def _member_team() -> Any:
    """Each person's team (membership, not management) as a subquery."""
    return (
        select(TeamMember.person_id, TeamMember.team_id, Team.name)
        .join(Team, Team.id == TeamMember.team_id)
        .where(TeamMember.is_manager.is_(False))
        .subquery()
    )


def people_page(
    conn: Connection, tenant_id: uuid.UUID, query: PeopleQuery
) -> tuple[list[PersonRow], int]:
    """One page of the organisation's people matching ``query``, and how many match.

    Parameters:
        conn: a database connection.
        tenant_id: the organisation.
        query: the filters and the page.

    Returns:
        (the page's people by e-mail, the number matching).
    """
    where: list[Any] = [Person.tenant_id == tenant_id]
    membership = select(TeamMember.person_id).where(
        TeamMember.person_id == Person.id, TeamMember.is_manager.is_(False)
    )
    if query.q:
        pattern = "%" + query.q.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_") + "%"
        where.append(or_(Person.email.ilike(pattern), Person.display_name.ilike(pattern)))
    if query.role:
        where.append(Person.role == query.role)
    if query.status:
        where.append(Person.status == query.status)
    if query.team == "none":
        where.append(~membership.exists())
    elif query.team:
        try:
            where.append(membership.where(TeamMember.team_id == uuid.UUID(query.team)).exists())
        except ValueError:
            where.append(false())
    total = conn.execute(select(func.count()).select_from(Person).where(*where)).scalar_one()
    # The page's people first (by the index on tenant, address, id: no sort of everyone),
    # then their teams.
    page = (
        select(Person.id, Person.email)
        .where(*where)
        .order_by(Person.email.nulls_last(), Person.id)
        .limit(PAGE_SIZE)
        .offset((query.page - 1) * PAGE_SIZE)
        .subquery()
    )
    member = _member_team()
    rows = conn.execute(
        select(
            Person.id,
            Person.email,
            Person.display_name,
            Person.role,
            Person.status,
            member.c.team_id,
            member.c.name.label("team"),
            Person.invited_at,
            Person.joined_at,
        )
        .select_from(page)
        .join(Person, Person.id == page.c.id)
        .outerjoin(member, member.c.person_id == Person.id)
        .order_by(page.c.email.nulls_last(), page.c.id)
    ).all()
    return [PersonRow(*r) for r in rows], total


def person(conn: Connection, tenant_id: uuid.UUID, person_id: uuid.UUID) -> PersonRow | None:
    """One person of the organisation with their team (None: not of this organisation)."""
    member = _member_team()
    row = conn.execute(
        select(
            Person.id,
            Person.email,
            Person.display_name,
            Person.role,
            Person.status,
            member.c.team_id,
            member.c.name,
            Person.invited_at,
            Person.joined_at,
        )
        .outerjoin(member, member.c.person_id == Person.id)
        .where(Person.tenant_id == tenant_id, Person.id == person_id)
    ).first()
    return None if row is None else PersonRow(*row)


def person_by_email(conn: Connection, tenant_id: uuid.UUID, email: str) -> uuid.UUID | None:
    """The organisation's person with this address (any case), if any."""
    return conn.execute(
        select(Person.id).where(
            Person.tenant_id == tenant_id, func.lower(Person.email) == email.strip().lower()
        )
    ).scalar()


def team_choices(conn: Connection, tenant_id: uuid.UUID) -> list[tuple[uuid.UUID, str]]:
    """The organisation's teams as (id, name), by name."""
    rows = conn.execute(
        select(Team.id, Team.name).where(Team.tenant_id == tenant_id).order_by(Team.name, Team.id)
    ).all()
    return [(r.id, r.name) for r in rows]


def emails_taken(conn: Connection, tenant_id: uuid.UUID) -> dict[str, uuid.UUID]:
    """The organisation's addresses (lower case) and whose they are."""
    rows = conn.execute(
        select(func.lower(Person.email), Person.id).where(
            Person.tenant_id == tenant_id, Person.email.is_not(None)
        )
    ).all()
    return {r[0]: r[1] for r in rows}


@dataclass
class TeamNode:
    id: uuid.UUID
    name: str
    parent_id: uuid.UUID | None
    members: int = 0
    total: int = 0  # members of the team and every team below it
    managers: list[str] = field(default_factory=list)
    children: list[TeamNode] = field(default_factory=list)
    depth: int = 0
    parent_name: str = ""


_COUNTED = (Person.status == "active", ~TeamMember.is_manager.is_(True))
"""Who counts in a team's size: its joined members, not its managers."""


def team_size(conn: Connection, tenant_id: uuid.UUID, team_id: uuid.UUID) -> int:
    """A team's :attr:`TeamNode.total` (its members and those of every team below it)
    without reading the whole organisation's tree.

    Parameters:
        conn: a database connection.
        tenant_id: the organisation.
        team_id: the team (0 if it is not the organisation's).

    Returns:
        The count, as :func:`team_tree` gives it.
    """
    return int(conn.execute(_TEAM_SIZE, {"t": tenant_id, "team": team_id}).scalar_one())


def _team_size_statement() -> Select[tuple[Any]]:
    """:func:`team_size`'s statement, built once. The team and the teams below it (UNION, not
    ALL: a cycle in the tree cannot loop), each counted through a lateral join: the primary
    key's index reads one team's rows, where a semi-join on the tree seq-scanned every member
    of the organisation. Who counts is :data:`_COUNTED`."""
    tenant, team = bindparam("t", type_=Team.tenant_id.type), bindparam("team", type_=Team.id.type)
    below = (
        select(Team.id)
        .where(Team.tenant_id == tenant, Team.id == team)
        .cte("below", recursive=True)
    )
    below = below.union(
        select(Team.id).where(Team.tenant_id == tenant, Team.parent_team_id == below.c.id)
    )
    counted = (
        select(func.count().label("n"))
        .select_from(TeamMember)
        .join(Person, Person.id == TeamMember.person_id)
        .where(TeamMember.tenant_id == tenant, TeamMember.team_id == below.c.id, *_COUNTED)
        .lateral("counted")
    )
    return select(func.coalesce(func.sum(counted.c.n), 0)).select_from(below.join(counted, true()))


_TEAM_SIZE = _team_size_statement()


def team_tree(conn: Connection, tenant_id: uuid.UUID) -> list[TeamNode]:
    """The organisation's teams in tree order (parents before their children, by name), each
    with its joined members (managers not counted) and its managers' names (joined or
    invited).

    Parameters:
        conn: a database connection.
        tenant_id: the organisation.

    Returns:
        Every team once, ``depth`` 0 at the top.
    """
    nodes = {
        r.id: TeamNode(r.id, r.name, r.parent_team_id)
        for r in conn.execute(
            select(Team.id, Team.name, Team.parent_team_id).where(Team.tenant_id == tenant_id)
        )
    }
    manages = TeamMember.is_manager.is_(True)
    counts = conn.execute(
        select(
            TeamMember.team_id,
            func.count().filter(*_COUNTED),
            func.array_agg(func.coalesce(Person.display_name, Person.email)).filter(manages),
        )
        .join(Person, Person.id == TeamMember.person_id)
        .where(TeamMember.tenant_id == tenant_id, Person.status.in_(("invited", "active")))
        .group_by(TeamMember.team_id)
    ).all()
    for team_id, n, names in counts:
        node = nodes.get(team_id)
        if node is None:
            continue
        node.members = n
        node.managers = sorted(str(x) for x in names or () if x)
    roots: list[TeamNode] = []
    for node in nodes.values():
        parent = nodes.get(node.parent_id) if node.parent_id else None
        (parent.children if parent else roots).append(node)
        node.parent_name = parent.name if parent else ""
    ordered: list[TeamNode] = []
    stack = [(n, 0) for n in sorted(roots, key=_by_name, reverse=True)]
    while stack:
        node, depth = stack.pop()
        node.depth = depth
        ordered.append(node)
        stack.extend((c, depth + 1) for c in sorted(node.children, key=_by_name, reverse=True))
    for node in reversed(ordered):  # children come after their parent
        node.total = node.members + sum(c.total for c in node.children)
    return ordered


def team_managers(
    conn: Connection, tenant_id: uuid.UUID, team_id: uuid.UUID
) -> list[tuple[uuid.UUID, str]]:
    """The team's managers (id, name or address), by name."""
    rows = conn.execute(
        select(Person.id, func.coalesce(Person.display_name, Person.email, "(erased)"))
        .join(TeamMember, TeamMember.person_id == Person.id)
        .where(
            TeamMember.team_id == team_id,
            TeamMember.tenant_id == tenant_id,
            TeamMember.is_manager.is_(True),
        )
    ).all()
    return sorted(((r[0], str(r[1])) for r in rows), key=lambda r: r[1].lower())


def _by_name(node: TeamNode) -> tuple[str, str]:
    return (node.name.lower(), str(node.id))

"""SCIM resources <-> what Compound keeps of them.

A User or Group is answered as a plain dict (built here, the schema being scim2-models');
a request's resource is read with scim2-models and reduced to :class:`DesiredUser` or
:class:`DesiredGroup`, the state the provider wants, which :mod:`shared.scim.provisioning`
turns into events. What Compound does not keep (phone numbers, addresses ...) is accepted
and not stored, so the answer shows what is kept.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from scim2_models import EnterpriseUser, Group, InvalidValueException, User

from shared.eventlog.events import ROLES
from shared.scim.reads import GROUP_SCHEMA, USER_SCHEMA, GroupRecord, UserRecord

UserModel = User[EnterpriseUser]
ENTERPRISE_SCHEMA = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
DISPLAY_NAME_MAX = 200
ID_MAX = 320


@dataclass(frozen=True)
class DesiredUser:
    """The state of a person an identity provider asks for."""

    user_name: str
    external_id: str | None
    email: str | None
    display_name: str
    active: bool
    role: str | None
    """None: keep the person's role (``employee`` for a new person)."""


@dataclass(frozen=True)
class DesiredGroup:
    """The state of a team an identity provider asks for."""

    name: str
    external_id: str | None
    members: tuple[uuid.UUID, ...]


def etag(resource: dict[str, Any]) -> str:
    """A weak ETag of a resource: a digest of its content without ``meta``."""
    content = {k: v for k, v in resource.items() if k != "meta"}
    digest = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()
    return f'W/"{digest[:20]}"'


def _meta(resource: dict[str, Any], kind: str, created: Any, location: str) -> dict[str, Any]:
    tag = etag(resource)
    resource["meta"] = {
        "resourceType": kind,
        "created": created.isoformat(),
        "lastModified": created.isoformat(),
        "location": location,
        "version": tag,
    }
    return resource


def user_resource(record: UserRecord, base_url: str) -> dict[str, Any]:
    """The User of ``record`` (meta.version is its ETag)."""
    resource: dict[str, Any] = {
        "schemas": [USER_SCHEMA],
        "id": str(record.id),
        "userName": record.user_name,
        "active": record.active,
    }
    if record.external_id is not None:
        resource["externalId"] = record.external_id
    if record.display_name:
        resource["displayName"] = record.display_name
    if record.email:
        resource["emails"] = [{"value": record.email}]
    return _meta(resource, "User", record.created, f"{base_url}/Users/{record.id}")


def group_resource(record: GroupRecord, base_url: str, members: bool = True) -> dict[str, Any]:
    """The Group of ``record`` (members unless told; meta.version is its ETag)."""
    resource: dict[str, Any] = {
        "schemas": [GROUP_SCHEMA],
        "id": str(record.id),
        "displayName": record.name,
    }
    if record.external_id is not None:
        resource["externalId"] = record.external_id
    if members:
        resource["members"] = [
            {
                "value": str(m.id),
                "$ref": f"{base_url}/Users/{m.id}",
                "type": "User",
            }
            for m in record.members
        ]
    return _meta(resource, "Group", record.created, f"{base_url}/Groups/{record.id}")


def _bounded(value: str | None, name: str, limit: int = ID_MAX) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if not value or len(value) > limit:
        raise InvalidValueException(detail=f"{name} must have 1 to {limit} characters")
    return value


def _email(user: Any) -> str | None:
    emails = [e for e in user.emails or () if e.value]
    if not emails:
        return None
    chosen = next((e for e in emails if e.primary), emails[0])
    value = _bounded(chosen.value, "emails.value")
    if value is None or "@" not in value.strip("@"):
        raise InvalidValueException(detail=f"{chosen.value!r} is not an e-mail address")
    return value


def _display_name(user: Any, user_name: str) -> str:
    name = user.name
    candidates = [
        user.display_name,
        name.formatted if name else None,
        " ".join(p for p in (name.given_name, name.family_name) if p) if name else None,
        user_name,
    ]
    chosen = next(c.strip() for c in candidates if c and c.strip())
    return chosen[:DISPLAY_NAME_MAX]


def _role(user: Any) -> str | None:
    values = [r for r in user.roles or () if r.value]
    if not values:
        return None
    chosen = next((r for r in values if r.primary), values[0])
    if chosen.value not in ROLES:
        raise InvalidValueException(detail=f"a role is one of {', '.join(ROLES)}")
    return str(chosen.value)


def desired_user(user: Any) -> DesiredUser:
    """The state a User asks for.

    Parameters:
        user: a User read by scim2-models (with the enterprise extension or not).

    Returns:
        The desired state.

    Raises:
        InvalidValueException: a value Compound cannot keep (an empty ``userName``, an
            e-mail without ``@``, an unknown role ...).
    """
    user_name = _bounded(user.user_name, "userName")
    if user_name is None:
        raise InvalidValueException(detail="userName is required")
    return DesiredUser(
        user_name=user_name,
        external_id=_bounded(user.external_id, "externalId"),
        email=_email(user),
        display_name=_display_name(user, user_name),
        active=True if user.active is None else bool(user.active),
        role=_role(user),
    )


def member_ids(values: Iterable[Any]) -> tuple[uuid.UUID, ...]:
    """The person ids of a Group's ``members`` (each an id this server gave).

    Raises:
        InvalidValueException: a member's ``value`` is not such an id.
    """
    found: dict[uuid.UUID, None] = {}
    for member in values:
        try:
            found[uuid.UUID(str(member.value))] = None
        except ValueError as err:
            raise InvalidValueException(detail=f"no User {member.value!r}") from err
    return tuple(found)


def desired_group(group: Group) -> DesiredGroup:
    """The state a Group asks for.

    Raises:
        InvalidValueException: no ``displayName``, or a member that is not a User id.
    """
    name = _bounded(group.display_name, "displayName", DISPLAY_NAME_MAX)
    if name is None:
        raise InvalidValueException(detail="displayName is required")
    return DesiredGroup(
        name=name,
        external_id=_bounded(group.external_id, "externalId"),
        members=member_ids(group.members or ()),
    )

"""Typed models of the directory tables (migrations 0002 and 0023)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class ReadModel(DeclarativeBase):
    """Base of read-model tables: disposable, rebuilt from the event log."""


class Organization(ReadModel):
    __tablename__ = "organizations"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    name: Mapped[str]
    created_at: Mapped[datetime]
    position: Mapped[int]


class Team(ReadModel):
    __tablename__ = "teams"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    name: Mapped[str]
    parent_team_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("teams.id"))
    created_at: Mapped[datetime]


class Person(ReadModel):
    __tablename__ = "people"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    email: Mapped[str | None]
    display_name: Mapped[str | None]
    role: Mapped[str]
    status: Mapped[str]
    time_zone: Mapped[str]
    password_hash: Mapped[str | None]
    invited_at: Mapped[datetime]
    joined_at: Mapped[datetime | None]
    credentials_valid_after: Mapped[datetime | None]
    """Every session and token created at or before this moment is refused (migration 0023;
    see shared/directory/projector.py ``_end_credentials``)."""


class TeamMember(ReadModel):
    __tablename__ = "team_members"

    team_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("teams.id"), primary_key=True)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"), primary_key=True)
    tenant_id: Mapped[uuid.UUID]
    is_manager: Mapped[bool]


class AccessToken(ReadModel):
    __tablename__ = "access_tokens"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    tenant_id: Mapped[uuid.UUID]
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"))
    name: Mapped[str]
    kind: Mapped[str]
    token_hash: Mapped[str]
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    scopes: Mapped[list[str] | None] = mapped_column(ARRAY(Text))
    """None: every scope of the person's role (session tokens)."""


class ScimToken(ReadModel):
    """A SCIM bearer token of an organisation, as its SHA-256 (migration 0028)."""

    __tablename__ = "scim_tokens"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    tenant_id: Mapped[uuid.UUID]
    token_hash: Mapped[str]
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class ScimIdentity(ReadModel):
    """The identity provider's names of a person; ``removed`` once it deleted them."""

    __tablename__ = "scim_identities"

    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"), primary_key=True)
    tenant_id: Mapped[uuid.UUID]
    user_name: Mapped[str | None]
    external_id: Mapped[str | None]
    removed: Mapped[bool]


class ScimGroup(ReadModel):
    """The identity provider's name of a team; ``removed`` once it deleted the group."""

    __tablename__ = "scim_groups"

    team_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("teams.id"), primary_key=True)
    tenant_id: Mapped[uuid.UUID]
    external_id: Mapped[str | None]
    removed: Mapped[bool]

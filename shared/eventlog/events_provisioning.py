"""The events of SCIM provisioning (issue #21, docs/scim.md).

An identity provider's changes become the organisation's own events (``PersonInvited``,
``PersonJoined``, ``PersonMovedTeam``, ``PersonRoleChanged``, ``PersonLeft``); these are the
facts the organisation had no event for: the provider's names for people and teams, a
changed e-mail address or name, a person taken out of a team, and the bearer tokens. A
token is stored only as its SHA-256.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate


def _personal(required: bool, max_len: int) -> fields.String:
    if required:
        return fields.String(
            required=True,
            validate=validate.Length(min=1, max=max_len),
            metadata={"personal": True},
        )
    return fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(min=1, max=max_len),
        metadata={"personal": True},
    )


class ScimTokenIssued(Schema):
    """Only the token's SHA-256 is kept; the token is shown once, to the admin."""

    token_id = fields.UUID(required=True)
    token_hash = fields.String(required=True, validate=validate.Length(equal=64))


class ScimTokenRevoked(Schema):
    token_id = fields.UUID(required=True)


class PersonProvisioned(Schema):
    """The provider's ``userName`` and ``externalId`` of a person (set again on a change)."""

    person_id = fields.UUID(required=True)
    user_name = _personal(True, 320)
    external_id = _personal(False, 320)


class PersonDeprovisioned(Schema):
    """The provider deleted the person: they left, and the provider's names are free again."""

    person_id = fields.UUID(required=True)


class PersonEmailChanged(Schema):
    """A person's address changed (None: they have none, and cannot sign in by e-mail)."""

    person_id = fields.UUID(required=True)
    email = _personal(False, 320)


class PersonRenamed(Schema):
    person_id = fields.UUID(required=True)
    display_name = _personal(True, 200)


class PersonReturned(Schema):
    """A person who left is active again, in the team they were put in meanwhile (None: in
    no team); the sessions and tokens they had stay ended."""

    person_id = fields.UUID(required=True)
    team_id = fields.UUID(load_default=None, allow_none=True)


class PersonRemovedFromTeam(Schema):
    """A person is no longer a member of a team (and stays in the organisation)."""

    person_id = fields.UUID(required=True)
    team_id = fields.UUID(required=True)


class TeamProvisioned(Schema):
    """The provider's ``externalId`` of a team (None: it has none)."""

    team_id = fields.UUID(required=True)
    external_id = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(min=1, max=320)
    )


class TeamDeprovisioned(Schema):
    """The provider deleted the group: the team keeps its history and leaves SCIM's view."""

    team_id = fields.UUID(required=True)


PROVISIONING_EVENTS: list[tuple[type[Schema], str | None, str]] = [
    (ScimTokenIssued, None, "An admin issued a SCIM bearer token for the organisation."),
    (ScimTokenRevoked, None, "A SCIM bearer token was revoked."),
    (PersonProvisioned, "person_id", "An identity provider named a person (userName, externalId)."),
    (PersonDeprovisioned, None, "An identity provider deleted a person (who left)."),
    (PersonEmailChanged, "person_id", "A person's e-mail address changed."),
    (PersonRenamed, "person_id", "A person's display name changed."),
    (PersonReturned, None, "A person who left became active again."),
    (PersonRemovedFromTeam, None, "A person was taken out of a team."),
    (TeamProvisioned, None, "An identity provider named a team (externalId)."),
    (TeamDeprovisioned, None, "An identity provider deleted the group of a team."),
]

"""The events of API tokens and of "log out everywhere" (issue #20).

A token is stored only as its SHA-256; the token itself is shown once to its owner. Old
``AccessTokenCreated`` events carry no ``scopes``: the directory reads them as every scope
of the role, ending 90 days after their creation (shared/directory/projector.py).
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from shared.domain.scopes import SCOPES
from shared.eventlog.time_fields import Timestamp


class AccessTokenCreated(Schema):
    """Only the token's SHA-256 is kept; the token itself is shown once to its owner."""

    token_id = fields.UUID(required=True)
    person_id = fields.UUID(required=True)
    name = fields.String(
        required=True, validate=validate.Length(min=1, max=100), metadata={"personal": True}
    )
    kind = fields.String(required=True, validate=validate.OneOf(["personal", "session"]))
    token_hash = fields.String(required=True, validate=validate.Length(equal=64))
    expires_at = Timestamp(load_default=None, allow_none=True)
    scopes = fields.List(
        fields.String(validate=validate.OneOf(list(SCOPES))),
        load_default=None,
        allow_none=True,
        validate=validate.Length(min=1, max=len(SCOPES)),
    )


class AccessTokenRevoked(Schema):
    token_id = fields.UUID(required=True)
    person_id = fields.UUID(required=True)


class SignedOutEverywhere(Schema):
    """The person ended every session and token of theirs ("log out everywhere")."""

    person_id = fields.UUID(required=True)


CREDENTIAL_EVENTS: list[tuple[type[Schema], str | None, str]] = [
    (AccessTokenCreated, "person_id", "An API token was created (session or personal)."),
    (AccessTokenRevoked, None, "An API token was revoked."),
    (
        SignedOutEverywhere,
        None,
        "A person logged out everywhere: every session and token made before it ends.",
    ),
]

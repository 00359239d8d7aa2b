"""The events of the Teams bot (docs/chat.md, "Microsoft Teams"): each person's link between
a Teams user (an Azure AD tenant and object id) and themselves.

The Azure AD object id names a person outside Compound, so it is a personal field: erasure
shreds it with the person's key. Conversation references (where proactive messages go) are
not in the log: they are the Bot Framework's addresses, kept in ``msteams_conversations``.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

AAD_ID = validate.Length(min=1, max=64)
"""Azure AD ids are GUIDs; their shape is Microsoft's to choose."""


def _aad_id(personal: bool = False) -> fields.String:
    return fields.String(required=True, validate=AAD_ID, metadata={"personal": personal})


class TeamsAccountLinked(Schema):
    person_id = fields.UUID(required=True)
    aad_tenant_id = _aad_id()
    aad_object_id = _aad_id(personal=True)


class TeamsAccountUnlinked(Schema):
    person_id = fields.UUID(required=True)
    aad_tenant_id = _aad_id()
    aad_object_id = _aad_id(personal=True)
    by = fields.String(required=True, validate=validate.OneOf(("person", "teams")))


MSTEAMS_EVENTS = [
    (
        TeamsAccountLinked,
        "person_id",
        "A person tied a Microsoft Teams account to themselves: its e-mail address was theirs "
        "and they confirmed it.",
    ),
    (
        TeamsAccountUnlinked,
        "person_id",
        "A person's Teams account was unlinked, from the portal or from Teams.",
    ),
]
"""The entries events.py registers."""


def link_stream(person_id: object) -> str:
    """The stream of one person's Teams links."""
    return f"msteams-person-{person_id}"

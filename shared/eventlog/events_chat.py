"""The events of the Slack app (docs/chat.md): an organisation's installation, and each
person's link between a Slack account and themselves.

The bot token is never in the log: it is sealed in ``slack_installations`` under the master
keys (shared/chat/installations.py). A Slack user id names a person outside Compound, so it
is a personal field: erasure shreds it with the person's key.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from shared.domain.working_hours import DAYS
from shared.eventlog.time_fields import TimeZone

SLACK_ID = validate.Length(min=2, max=32)
"""Slack ids (``T0123ABC``, ``U0456DEF``): their shape is Slack's to choose."""


def _slack_id(personal: bool = False) -> fields.String:
    return fields.String(required=True, validate=SLACK_ID, metadata={"personal": personal})


class SlackAppInstalled(Schema):
    team_id = _slack_id()
    team_name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    bot_user_id = _slack_id()
    installed_by = fields.UUID(required=True)


class SlackAppUninstalled(Schema):
    team_id = _slack_id()
    reason = fields.String(
        required=True, validate=validate.OneOf(("admin", "revoked", "uninstalled"))
    )


class SlackAccountLinked(Schema):
    person_id = fields.UUID(required=True)
    team_id = _slack_id()
    slack_user_id = _slack_id(personal=True)


class SlackAccountUnlinked(Schema):
    person_id = fields.UUID(required=True)
    team_id = _slack_id()
    slack_user_id = _slack_id(personal=True)
    by = fields.String(required=True, validate=validate.OneOf(("person", "slack")))


class SlackDigestTimeSet(Schema):
    """When the weekly digest reaches the person in Slack: ``day`` (``mon`` ... ``sun``) and
    ``hour`` (0-23) in ``time_zone`` (their working hours' zone when they chose)."""

    person_id = fields.UUID(required=True)
    day = fields.String(required=True, validate=validate.OneOf(DAYS))
    hour = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=23))
    time_zone = TimeZone(required=True, validate=validate.Length(min=1, max=64))


CHAT_EVENTS = [
    (
        SlackAppInstalled,
        None,
        "An admin installed the Slack app in a workspace for the organisation (OAuth v2).",
    ),
    (SlackAppUninstalled, None, "The Slack app stopped serving a workspace."),
    (
        SlackAccountLinked,
        "person_id",
        "A person tied a Slack account to themselves: its verified e-mail address was theirs "
        "and they confirmed it.",
    ),
    (
        SlackAccountUnlinked,
        "person_id",
        "A person's Slack account was unlinked, from the portal or from Slack.",
    ),
    (
        SlackDigestTimeSet,
        "person_id",
        "A person chose the day and hour (in their zone) of their weekly digest in Slack.",
    ),
]
"""The entries events.py registers."""


def installation_stream(tenant_id: object) -> str:
    """The stream of an organisation's Slack installations."""
    return f"slack-{tenant_id}"


def link_stream(person_id: object) -> str:
    """The stream of one person's Slack links."""
    return f"slack-person-{person_id}"

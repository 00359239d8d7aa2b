"""The events of what people do that the audit must show and no other event records (issue
22): signing in to the portal and exporting data. They live in the stream
``activity-<person id>`` (not the person's own stream, whose version the organisation's
commands check), one append per sign-in or export.

Nothing personal: who (the person's id), when (the event's time) and how (the method, what
was exported, its format); no address, no IP, no user agent (the session's row keeps those
for the person's own list of sessions, and ends with it).
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

SIGN_IN_METHODS = ("password", "password+totp", "sso")
"""How a portal sign-in passed: a password alone, a password and a second factor (a TOTP
code or a recovery code, which its own ``RecoveryCodeUsed`` records), or the organisation's
identity provider."""
EXPORTS = ("personal_data", "team_levers", "organisation_levers", "audit")
"""What was exported: a person's own data, a team's or the organisation's lever figures (the
dashboards' CSV), the audit's CSV."""


class SignedIn(Schema):
    """A person signed in to the portal (a browser session began)."""

    person_id = fields.UUID(required=True)
    method = fields.String(required=True, validate=validate.OneOf(SIGN_IN_METHODS))


class DataExported(Schema):
    """A person downloaded an export."""

    person_id = fields.UUID(required=True)
    export = fields.String(required=True, validate=validate.OneOf(EXPORTS))
    format = fields.String(required=True, validate=validate.OneOf(("csv", "json")))
    team_id = fields.UUID(load_default=None, allow_none=True)
    lever = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=40))


ACTIVITY_EVENTS: list[tuple[type[Schema], str | None, str]] = [
    (
        SignedIn,
        "person_id",
        "A person signed in to the portal (how: password, second factor, SSO).",
    ),
    (
        DataExported,
        "person_id",
        "A person downloaded an export (their data, lever figures, audit).",
    ),
]

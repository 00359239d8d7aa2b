"""The events of single sign-on with OpenID Connect (issue 21, docs/sso.md).

An organisation's SSO connection lives in the stream ``sso-<tenant id>``: each
``SsoConfigured`` replaces the previous one, ``SsoRemoved`` ends it. The client secret is
sealed under the master keys (a MultiFernet token, like calendar and Slack tokens): the log
never holds it in clear. A person's first SSO sign-in links their identity at the provider
to them (``SsoIdentityLinked``, in the person's stream), kept as a SHA-256 of issuer and
subject only.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

_URL = validate.Length(min=8, max=500)


class SsoConfigured(Schema):
    """An admin (or the CLI) set the organisation's OpenID Connect provider."""

    issuer = fields.String(required=True, validate=_URL)
    client_id = fields.String(required=True, validate=validate.Length(min=1, max=500))
    client_secret_sealed = fields.String(required=True, validate=validate.Length(max=4000))
    domains = fields.List(
        fields.String(validate=validate.Length(min=3, max=253)),
        required=True,
        validate=validate.Length(min=1, max=50),
    )
    sso_required = fields.Boolean(required=True)
    jit_accounts = fields.Boolean(required=True)
    break_glass_person_id = fields.UUID(load_default=None, allow_none=True)


class SsoRemoved(Schema):
    """The organisation stopped signing in through its provider."""

    issuer = fields.String(required=True, validate=_URL)


class SsoIdentityLinked(Schema):
    """A person signed in through the provider for the first time (matched by verified
    e-mail, or created just in time): their identity there is theirs from now on."""

    person_id = fields.UUID(required=True)
    identity_hash = fields.String(required=True, validate=validate.Length(equal=64))
    created = fields.Boolean(load_default=False)


SSO_EVENTS = [
    (SsoConfigured, None, "An organisation's OpenID Connect provider was set (secret sealed)."),
    (SsoRemoved, None, "An organisation stopped signing in with OpenID Connect."),
    (
        SsoIdentityLinked,
        None,
        "A person's identity at the organisation's provider was linked to them (hashed).",
    ),
]

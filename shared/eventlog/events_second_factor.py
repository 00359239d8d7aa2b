"""The events of a person's second factor (TOTP, issue 20): enrolled, a recovery code used,
removed. They live in the stream ``second-factor-<person id>``.

The TOTP secret is personal: encrypted with the person's data key like any personal field,
so an operator holding the database (not the master keys) cannot read it, and erasure
shreds it. Recovery codes are kept as SHA-256 digests only (80 random bits each: a digest
does not give them away); the codes themselves are shown once.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

RECOVERY_CODES = 10
_DIGEST = validate.Length(equal=64)


class SecondFactorEnrolled(Schema):
    """A person confirmed a TOTP secret with a code from their app."""

    person_id = fields.UUID(required=True)
    secret = fields.String(
        required=True, validate=validate.Length(min=16, max=64), metadata={"personal": True}
    )
    recovery_code_hashes = fields.List(
        fields.String(validate=_DIGEST),
        required=True,
        validate=validate.Length(equal=RECOVERY_CODES),
    )


class RecoveryCodeUsed(Schema):
    """A recovery code stood in for a TOTP code once; it is spent."""

    person_id = fields.UUID(required=True)
    code_hash = fields.String(required=True, validate=_DIGEST)


class SecondFactorRemoved(Schema):
    """A person turned their second factor off (with their password or a code)."""

    person_id = fields.UUID(required=True)


SECOND_FACTOR_EVENTS = [
    (
        SecondFactorEnrolled,
        "person_id",
        "A person enrolled a TOTP second factor (the secret encrypted, recovery codes hashed).",
    ),
    (RecoveryCodeUsed, "person_id", "A person used one of their recovery codes (now spent)."),
    (SecondFactorRemoved, "person_id", "A person removed their second factor."),
]

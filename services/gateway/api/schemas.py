"""Request and response schemas of the public API v1 (docs/api.md). Unknown fields: 422."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from marshmallow import INCLUDE, Schema, ValidationError, fields, validate

from services.gateway.api.positions import POSITION_TOKEN, WrittenPosition
from shared.domain import errors as domain
from shared.domain.errors import N_
from shared.domain.scopes import SCOPES, TOKEN_DAYS_DEFAULT, TOKEN_DAYS_MAX
from shared.domain.tactics import AUDIENCES, OUTCOME_KINDS, TACTICS
from shared.eventlog.events import PULSE_ITEMS, ROLES, IsoWeek

NUL_MESSAGE = N_("Must not contain NUL characters.")


class Text(fields.String):
    """A string PostgreSQL can store: one with a NUL character is refused (422), not a 500."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if "\x00" in text:
            raise ValidationError(domain.Text(NUL_MESSAGE))
        return text


class Moment(fields.AwareDateTime):
    """A time with an offset PostgreSQL can store: real zones run from -12:00 to +14:00, and
    PostgreSQL refuses offsets beyond 15:59 (a 500 before this check: found by the
    hostile-input corpus, tests/security/test_hostile_input.py)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        moment = super()._deserialize(value, attr, data, **kwargs)
        offset = moment.utcoffset()
        if offset is not None and abs(offset) > timedelta(hours=14):
            raise ValidationError(domain.Text("Use a UTC offset between -14:00 and +14:00."))
        return moment


def _storable(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" not in value
    if isinstance(value, dict):
        return all(_storable(k) and _storable(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_storable(v) for v in value)
    return True


def no_nul_inside(value: Any) -> None:
    """Validate a free-form JSON value: no string in it has a NUL character."""
    if not _storable(value):
        raise ValidationError(domain.Text(NUL_MESSAGE))


class Party(fields.String):
    """A named party: a person id of the caller's organisation, or an e-mail address of
    someone outside it (loaded as a UUID or as the address)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        try:
            return uuid.UUID(text)
        except ValueError:
            pass
        if len(text) > 320 or "\x00" in text:
            raise ValidationError(domain.Text("Give a person id or an e-mail address."))
        try:
            return validate.Email()(text)
        except ValidationError:
            raise ValidationError(domain.Text("Give a person id or an e-mail address.")) from None


PARTY_DOC = "A person id of your organisation, or an e-mail address of someone outside it."
TACTIC = validate.OneOf(sorted(TACTICS))
NOTE = validate.Length(max=2000)


class Problem(Schema):
    """An error (RFC 9457 ``application/problem+json``); documentation only."""

    class Meta:
        unknown = INCLUDE  # problem types may add members of their own

    type = fields.String(required=True, metadata={"example": "about:blank"})
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"description": "Validation messages per field."},
    )


class Credentials(Schema):
    email = fields.Email(required=True, validate=validate.Length(max=320))
    password = Text(required=True, validate=validate.Length(min=1, max=200))
    totp = Text(
        load_default=None,
        validate=validate.Length(min=1, max=64),
        metadata={
            "description": "with a second factor enrolled: a code of the app, or a recovery "
            "code (without it: 401 `totp-required`)"
        },
    )


class TokenOut(Schema):
    access_token = fields.String(required=True)
    token_type = fields.String(required=True, metadata={"example": "bearer"})
    expires_at = fields.AwareDateTime(allow_none=True)
    token_id = fields.UUID()
    scopes = fields.List(
        fields.String(), allow_none=True, metadata={"description": "null: every scope"}
    )


class NewPersonalToken(Schema):
    name = Text(required=True, validate=validate.Length(min=1, max=100))
    scopes = fields.List(
        Text(validate=validate.Length(max=40)),
        load_default=None,
        validate=validate.Length(max=10),
        metadata={
            "description": f"of {', '.join(SCOPES)}; default: every scope of my role",
        },
    )
    expires_in_days = fields.Integer(
        load_default=TOKEN_DAYS_DEFAULT,
        metadata={"description": f"1 to {TOKEN_DAYS_MAX} (default {TOKEN_DAYS_DEFAULT})"},
    )


class PersonalTokenOut(Schema):
    id = fields.UUID(required=True)
    name = fields.String(required=True)
    scopes = fields.List(fields.String(), allow_none=True)
    created_at = fields.AwareDateTime(required=True)
    expires_at = fields.AwareDateTime(allow_none=True)


class SessionOut(Schema):
    id = fields.UUID(required=True)
    created_at = fields.AwareDateTime(required=True)
    last_seen_at = fields.AwareDateTime(required=True)
    user_agent = fields.String(required=True)
    address = fields.String(required=True)
    current = fields.Boolean(
        required=True, metadata={"description": "the session this request came with"}
    )


class TeamRef(Schema):
    id = fields.UUID(required=True)
    name = fields.String(required=True)
    role = fields.String(required=True, metadata={"description": "member or manager"})


class MeOut(Schema):
    person_id = fields.UUID(required=True)
    email = fields.String(allow_none=True)
    display_name = fields.String(allow_none=True)
    roles = fields.List(fields.String(), required=True)
    teams = fields.List(fields.Nested(TeamRef), required=True)


class Appended(Schema):
    event_id = fields.UUID(required=True)
    position = WrittenPosition(required=True, metadata={"description": POSITION_TOKEN})


class ActionIn(Schema):
    tactic = fields.String(required=True, validate=TACTIC)
    minutes = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=480))
    audience = fields.String(required=True, validate=validate.OneOf(AUDIENCES))
    note = Text(load_default=None, allow_none=True, validate=NOTE)
    occurred_at = Moment(load_default=None, allow_none=True)
    counterpart = fields.UUID(
        load_default=None,
        allow_none=True,
        metadata={"description": "A relationship action's colleague (a person id), who confirms."},
    )


class ActionOut(Appended):
    action_id = fields.UUID(required=True)
    confirmation_link = fields.Url(
        allow_none=True, metadata={"description": "The counterpart's page (they log in)."}
    )


class OutcomeIn(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(OUTCOME_KINDS))
    action_id = fields.UUID(load_default=None, allow_none=True)
    note = Text(load_default=None, allow_none=True, validate=NOTE)
    occurred_at = Moment(load_default=None, allow_none=True)
    confirmer = Party(load_default=None, allow_none=True, metadata={"description": PARTY_DOC})


class OutcomeOut(Appended):
    outcome_id = fields.UUID(required=True)
    confirmation_link = fields.Url(
        allow_none=True,
        metadata={"description": "The confirmer's page (mail adds a one-time address token)."},
    )


class ConfirmationIn(Schema):
    confirmed = fields.Boolean(required=True, metadata={"description": "true confirms."})


class ConfirmationOut(Appended):
    confirmed = fields.Boolean(required=True)
    replayed = fields.Boolean(required=True, metadata={"description": "Answered so before."})


class PlannedAction(Schema):
    tactic = fields.String(required=True, validate=TACTIC)
    label = Text(load_default=None, allow_none=True, validate=validate.Length(max=200))


class PlanIn(Schema):
    actions = fields.List(
        fields.Nested(PlannedAction), required=True, validate=validate.Length(min=1, max=6)
    )


class PlanOut(Appended):
    week = fields.String(required=True)


class ExperimentIn(Schema):
    tactic = fields.String(required=True, validate=TACTIC)
    weeks = fields.Integer(load_default=4, strict=True, validate=validate.Range(min=1, max=12))
    starts_on = fields.Date(load_default=None, allow_none=True)
    hypothesis = Text(load_default=None, allow_none=True, validate=NOTE)


class ExperimentEndIn(Schema):
    reflection = Text(load_default=None, allow_none=True, validate=NOTE)


class ExperimentOut(Appended):
    experiment_id = fields.UUID(required=True)


class FeedbackRequestIn(Schema):
    question = Text(required=True, validate=validate.Length(min=1, max=300))
    action_id = fields.UUID(load_default=None, allow_none=True)
    expires_in_days = fields.Integer(
        load_default=14, strict=True, validate=validate.Range(min=1, max=60)
    )
    colleague = Party(load_default=None, allow_none=True, metadata={"description": PARTY_DOC})


class FeedbackRequestOut(Appended):
    request_id = fields.UUID(required=True)
    link = fields.Url(required=True)


class FeedbackAnswerOut(Appended):
    request_id = fields.UUID(required=True)
    confirmed = fields.Boolean(required=True)


class FeedbackAnswerIn(Schema):
    useful = fields.Boolean(required=True)
    comment = Text(load_default=None, allow_none=True, validate=validate.Length(max=1000))


class PulseIn(Schema):
    answers = fields.Dict(
        keys=fields.String(validate=validate.OneOf(PULSE_ITEMS)),
        values=fields.Integer(strict=True, validate=validate.Range(min=1, max=7)),
        required=True,
        validate=validate.Length(min=1),
        metadata={"description": "Items of the pulse (docs/levers.md), each 1..7."},
    )
    team_id = fields.UUID(load_default=None, allow_none=True)
    week = IsoWeek(load_default=None, allow_none=True)


class PulseOut(Schema):
    recorded = fields.Boolean(required=True, metadata={"description": "always true"})
    week = fields.String(required=True)
    closes_at = fields.AwareDateTime(
        required=True, metadata={"description": "when the pulse period closes"}
    )
    detail = fields.String(required=True)


class ImportedEvent(Schema):
    type = Text(required=True, validate=validate.Length(min=1, max=100))
    data = fields.Dict(required=True, validate=no_nul_inside)
    occurred_at = Moment(load_default=None, allow_none=True)


class ImportIn(Schema):
    events = fields.List(
        fields.Nested(ImportedEvent), required=True, validate=validate.Length(min=1, max=50_000)
    )


class ImportOut(Schema):
    imported = fields.Integer(required=True)
    replayed = fields.Boolean(required=True)
    first_position = WrittenPosition(allow_none=True, metadata={"description": POSITION_TOKEN})
    last_position = WrittenPosition(allow_none=True, metadata={"description": POSITION_TOKEN})


class TeamIn(Schema):
    name = Text(required=True, validate=validate.Length(min=1, max=200))
    parent_team_id = fields.UUID(load_default=None, allow_none=True)


class TeamOut(Schema):
    id = fields.UUID(required=True)
    name = fields.String(required=True)
    parent_team_id = fields.UUID(allow_none=True)


class InvitationIn(Schema):
    email = fields.Email(required=True, validate=validate.Length(max=320))
    role = fields.String(load_default="employee", validate=validate.OneOf(ROLES))
    team_id = fields.UUID(load_default=None, allow_none=True)


class InvitationOut(Schema):
    person_id = fields.UUID(required=True)
    link = fields.Url(required=True, require_tld=False)
    mail = fields.String(
        required=True,
        validate=validate.OneOf(("sent", "logged", "failed")),
        metadata={
            "description": "sent: the mail server accepted the invitation mail; logged: no "
            "SMTP server is set (COMPOUND_SMTP_HOST); failed: give the link yourself"
        },
    )


class ManagerIn(Schema):
    person_id = fields.UUID(required=True)


class PersonOut(Schema):
    id = fields.UUID(required=True)
    email = fields.String(allow_none=True)
    display_name = fields.String(allow_none=True)
    role = fields.String(required=True)
    status = fields.String(required=True)

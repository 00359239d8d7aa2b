"""The event catalogue of Compound, model version 1: every event type and its fields.

docs/events.md is this module in prose (tests/unit/test_catalogue.py checks they agree).
Fields marked ``personal`` are encrypted with the subject's data key."""

from __future__ import annotations

from datetime import date
from typing import Any

from marshmallow import Schema, fields, validate

from shared.domain.bounds import ABSENCE_MAX_DAYS
from shared.domain.tactics import AUDIENCES, OUTCOME_KINDS, TACTICS
from shared.domain.working_hours import DAYS
from shared.eventlog.catalogue import Catalogue, Rules
from shared.eventlog.events_activity import ACTIVITY_EVENTS
from shared.eventlog.events_behaviour import BEHAVIOUR
from shared.eventlog.events_calendar import CALENDAR_EVENTS, CALENDAR_RULES
from shared.eventlog.events_chat import CHAT_EVENTS
from shared.eventlog.events_credentials import CREDENTIAL_EVENTS
from shared.eventlog.events_msteams import MSTEAMS_EVENTS
from shared.eventlog.events_provisioning import PROVISIONING_EVENTS
from shared.eventlog.events_releases import RELEASE_EVENTS
from shared.eventlog.events_second_factor import SECOND_FACTOR_EVENTS
from shared.eventlog.events_sso import SSO_EVENTS
from shared.eventlog.events_teams import TEAM_EVENTS
from shared.eventlog.iso_week_field import IsoWeek
from shared.eventlog.time_fields import Day, Timestamp, TimeZone
from shared.i18n.catalogue import LOCALES

ROLES = ("employee", "manager", "admin")
PULSE_ITEMS = (
    "ps1_mistakes_held_against",
    "ps2_raise_problems",
    "ps3_reject_different",
    "ps4_safe_to_take_risk",
    "ps5_hard_to_ask_help",
    "ps6_no_undermining",
    "ps7_skills_valued",
    "workload",
    "evaluation_clarity",
    "incentives",
)

TEXT_MAX = 2000


def _personal_text(required: bool = False, max_len: int = TEXT_MAX) -> fields.String:
    if required:
        return fields.String(
            required=True,
            validate=validate.Length(min=1, max=max_len),
            metadata={"personal": True},
        )
    return fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=max_len),
        metadata={"personal": True},
    )


def _optional_email() -> fields.String:
    """An e-mail address, encrypted; absent (not null) when not given."""
    return fields.String(
        allow_none=True, validate=validate.Length(min=3, max=320), metadata={"personal": True}
    )


def _choice(options: tuple[str, ...] | list[str], **kw: Any) -> fields.String:
    return fields.String(validate=validate.OneOf(list(options)), **kw)


def _tactic(**kw: Any) -> fields.String:
    return _choice(sorted(TACTICS), **kw)


class OrganizationCreated(Schema):
    organization_id = fields.UUID(required=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))


class OrganizationSettingsChanged(Schema):
    """An admin changed the organisation's privacy threshold, pulse cadence, whether
    everyone must log in with a second factor (absent in older events: not required) or the
    organisation's default language (absent in older events: English)."""

    k = fields.Integer(required=True, strict=True, validate=validate.Range(min=3, max=100))
    pulse_cadence_weeks = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=4)
    )
    require_totp = fields.Boolean(load_default=False)
    default_locale = _choice(LOCALES, load_default="en")


class LanguageChosen(Schema):
    """A person chose the language of their pages, e-mails and chat messages (``""``:
    automatic, from their browser, then the organisation's default). Stream
    ``preferences-<person id>``."""

    person_id = fields.UUID(required=True)
    locale = _choice(("", *LOCALES), required=True)


class TeamCreated(Schema):
    team_id = fields.UUID(required=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    parent_team_id = fields.UUID(load_default=None, allow_none=True)


class TeamManagerAssigned(Schema):
    team_id = fields.UUID(required=True)
    person_id = fields.UUID(required=True)


class PersonInvited(Schema):
    """``email`` is None for a person provisioned without one (SCIM: docs/scim.md)."""

    person_id = fields.UUID(required=True)
    email = fields.String(
        required=True,
        allow_none=True,
        validate=validate.Length(min=1, max=320),
        metadata={"personal": True},
    )
    role = _choice(ROLES, required=True)
    team_id = fields.UUID(load_default=None, allow_none=True)
    display_name = _personal_text(max_len=200)
    """The name the admin gave (a CSV import); the person chooses theirs when joining."""


class PersonJoined(Schema):
    person_id = fields.UUID(required=True)
    display_name = _personal_text(required=True, max_len=200)
    time_zone = TimeZone(load_default="UTC", validate=validate.Length(min=1, max=64))


class PasswordSet(Schema):
    """An argon2 hash, encrypted like any personal field: erasure shreds it too."""

    person_id = fields.UUID(required=True)
    password_hash = _personal_text(required=True, max_len=200)


class PersonRoleChanged(Schema):
    person_id = fields.UUID(required=True)
    role = _choice(ROLES, required=True)


class PersonMovedTeam(Schema):
    person_id = fields.UUID(required=True)
    from_team_id = fields.UUID(load_default=None, allow_none=True)
    to_team_id = fields.UUID(required=True)


class WorkingHoursSet(Schema):
    """A person's working window (``start_minute`` to ``end_minute`` after midnight on each
    working day) in their IANA time zone, from the ISO week of the event's ``occurred_at`` on.
    The command checks the rest (start before end, a known zone, each day once):
    ``shared.domain.working_hours.working_hours_errors``."""

    person_id = fields.UUID(required=True)
    start_minute = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=0, max=24 * 60 - 1)
    )
    end_minute = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=24 * 60)
    )
    working_days = fields.List(
        _choice(DAYS), required=True, validate=validate.Length(min=1, max=len(DAYS))
    )
    time_zone = TimeZone(required=True, validate=validate.Length(min=1, max=64))


class PersonLeft(Schema):
    person_id = fields.UUID(required=True)


class PersonErased(Schema):
    person_id = fields.UUID(required=True)


class MicroActionLogged(Schema):
    action_id = fields.UUID(required=True)
    person_id = fields.UUID(required=True)
    tactic = _tactic(required=True)
    minutes = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=480))
    audience = _choice(AUDIENCES, required=True)
    note = _personal_text()
    counterpart_id = fields.UUID(allow_none=True)


class MicroActionRetracted(Schema):
    """Undoes a ``MicroActionLogged`` (a compensating event: the log keeps both).

    Carries the retracted action's tactic, minutes and audience, and its ``occurred_at`` is
    the action's, so every projection can subtract exactly what the action added.
    """

    action_id = fields.UUID(required=True)
    person_id = fields.UUID(required=True)
    tactic = _tactic(required=True)
    minutes = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=480))
    audience = _choice(AUDIENCES, required=True)


class WeeklyPlanSet(Schema):
    person_id = fields.UUID(required=True)
    week = IsoWeek(required=True)
    tactics = fields.List(_tactic(), required=True, validate=validate.Length(min=1, max=6))
    labels = fields.List(
        fields.String(validate=validate.Length(max=200)),
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=6),
        metadata={"personal": True},
    )


class ExperimentStarted(Schema):
    experiment_id = fields.UUID(required=True)
    person_id = fields.UUID(required=True)
    tactic = _tactic(required=True)
    weeks = fields.Integer(load_default=4, strict=True, validate=validate.Range(min=1, max=12))
    starts_on = Day(required=True)
    hypothesis = _personal_text()


class ExperimentEnded(Schema):
    experiment_id = fields.UUID(required=True)
    person_id = fields.UUID(required=True)
    reflection = _personal_text()


class OutcomeRecorded(Schema):
    outcome_id = fields.UUID(required=True)
    person_id = fields.UUID(required=True)
    kind = _choice(OUTCOME_KINDS, required=True)
    action_id = fields.UUID(load_default=None, allow_none=True)
    note = _personal_text()
    confirmer_id = fields.UUID(allow_none=True)
    confirmer_email = _optional_email()


class OutcomeConfirmed(Schema):
    """The confirmer an outcome names confirmed (or declined) it; in the outcome owner's stream."""

    outcome_id = fields.UUID(required=True)
    person_id = fields.UUID(required=True)
    confirmed = fields.Boolean(required=True)


class ActionConfirmed(Schema):
    """A colleague (a relationship action's counterpart) confirmed or declined an action."""

    action_id = fields.UUID(required=True)
    person_id = fields.UUID(required=True)
    confirmed = fields.Boolean(required=True)


class FeedbackRequested(Schema):
    request_id = fields.UUID(required=True)
    person_id = fields.UUID(required=True)
    action_id = fields.UUID(load_default=None, allow_none=True)
    question = _personal_text(required=True, max_len=300)
    expires_at = Timestamp(required=True)
    colleague_id = fields.UUID(allow_none=True)
    colleague_email = _optional_email()


class FeedbackGiven(Schema):
    """An answer; ``confirmed`` when it came from the colleague the request named."""

    request_id = fields.UUID(required=True)
    person_id = fields.UUID(required=True)
    useful = fields.Boolean(required=True)
    comment = _personal_text(max_len=1000)
    confirmed = fields.Boolean()


class AbsenceDeclared(Schema):
    """A person will be (or was) away from ``starts_on`` to ``ends_on``, both included."""

    absence_id = fields.UUID(required=True)
    person_id = fields.UUID(required=True)
    starts_on = Day(required=True)
    ends_on = Day(required=True)


class AbsenceWithdrawn(Schema):
    absence_id = fields.UUID(required=True)
    person_id = fields.UUID(required=True)


class PulseResponseSubmitted(Schema):
    """Anonymous: no person id; ``responder_hash`` is keyed by the period's key (shared/pulses)."""

    team_id = fields.UUID(required=True)
    week = IsoWeek(required=True)
    responder_hash = fields.String(required=True, validate=validate.Length(equal=64))
    answers = fields.Dict(
        keys=_choice(PULSE_ITEMS),
        values=fields.Integer(strict=True, validate=validate.Range(min=1, max=7)),
        required=True,
        validate=validate.Length(min=1),
    )


def absence_rules(data: dict[str, Any]) -> dict[str, list[str]]:
    """An ``AbsenceDeclared``'s end on or after its start, at most 366 days later.

    Parameters:
        data: the normalised payload (days as ISO text).

    Returns:
        Messages per field; empty when the absence is one Compound keeps.
    """
    start, end = date.fromisoformat(data["starts_on"]), date.fromisoformat(data["ends_on"])
    if end < start:
        return {"ends_on": ["Must be on or after starts_on."]}
    if (end - start).days > ABSENCE_MAX_DAYS:
        return {"ends_on": [f"An absence lasts at most {ABSENCE_MAX_DAYS} days."]}
    return {}


RULES: dict[str, tuple[Rules, str]] = {
    **CALENDAR_RULES,
    "AbsenceDeclared": (
        absence_rules,
        "`ends_on` on or after `starts_on`, at most 366 days later.",
    ),
}
"""Each type's rules over several fields, and the same in words for docs/events.md."""

_V1: list[tuple[type[Schema], str | None, str]] = [
    (OrganizationCreated, None, "An organisation (tenant) was created."),
    (
        OrganizationSettingsChanged,
        None,
        "An admin set the organisation's k (privacy threshold), pulse cadence and whether "
        "a second factor is required.",
    ),
    (TeamCreated, None, "A team was created, optionally below a parent team."),
    (TeamManagerAssigned, None, "A person became a manager of a team."),
    *TEAM_EVENTS,
    (PersonInvited, "person_id", "An admin invited a person by e-mail, or SCIM created one."),
    (PersonJoined, "person_id", "An invited person joined (at once when SCIM created them)."),
    (PasswordSet, "person_id", "A person set (or changed) their password."),
    (PersonRoleChanged, None, "An admin changed a person's role."),
    *CREDENTIAL_EVENTS,
    (PersonMovedTeam, None, "A person moved to another team."),
    (
        WorkingHoursSet,
        "person_id",
        "A person set their working hours and time zone (from the event's ISO week on).",
    ),
    (PersonLeft, None, "A person left the organisation."),
    (PersonErased, None, "A person's data key was deleted: their personal data is gone."),
    (MicroActionLogged, "person_id", "A person logged a micro-advancement action."),
    (
        MicroActionRetracted,
        "person_id",
        "A person undid a micro-action within a minute of logging it (compensating event).",
    ),
    (WeeklyPlanSet, "person_id", "A person chose up to 6 micro-actions for an ISO week."),
    (ExperimentStarted, "person_id", "A person started a time-boxed experiment with a tactic."),
    (ExperimentEnded, "person_id", "A person ended an experiment."),
    (OutcomeRecorded, "person_id", "An invitation, assignment, recognition ... was recorded."),
    (FeedbackRequested, "person_id", "A person asked a colleague one micro-feedback question."),
    (FeedbackGiven, "person_id", "A colleague answered a feedback request."),
    (OutcomeConfirmed, "person_id", "The confirmer an outcome named confirmed or declined it."),
    (ActionConfirmed, "person_id", "A relationship action's counterpart confirmed or declined it."),
    (LanguageChosen, "person_id", "A person chose their language (or automatic)."),
    (AbsenceDeclared, "person_id", "A person declared an absence (leave pauses capital decay)."),
    (AbsenceWithdrawn, "person_id", "A person withdrew a declared absence."),
    (PulseResponseSubmitted, None, "An anonymous pulse response, appended in a shuffled batch."),
    *CALENDAR_EVENTS,
    *RELEASE_EVENTS,
    *SECOND_FACTOR_EVENTS,
    *CHAT_EVENTS,
    *MSTEAMS_EVENTS,
    *SSO_EVENTS,
    *PROVISIONING_EVENTS,
    *ACTIVITY_EVENTS,
]


def build_catalogue() -> Catalogue:
    """The catalogue with every event type of model version 1.

    Returns:
        A new catalogue (the store uses :data:`CATALOGUE`, built once).
    """
    catalogue = Catalogue()
    for schema, subject, description in _V1:
        rules, rules_text = RULES.get(schema.__name__, (None, ""))
        catalogue.register(
            schema.__name__,
            1,
            schema,
            subject=subject,
            description=description,
            rules=rules,
            rules_text=rules_text,
            behaviour=BEHAVIOUR.get(schema.__name__, ()),
        )
    return catalogue


CATALOGUE = build_catalogue()

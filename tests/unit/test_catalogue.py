"""The event catalogue, without a database."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from marshmallow import Schema, fields

from shared.eventlog import CATALOGUE, Catalogue, EventValidationError, UnknownEventType
from shared.eventlog.reference import catalogue_markdown

DOCS = Path(__file__).resolve().parents[2] / "docs" / "events.md"
DESIGN_MINIMUM = [
    "OrganizationCreated",
    "TeamCreated",
    "TeamManagerAssigned",
    "PersonInvited",
    "PersonJoined",
    "PersonMovedTeam",
    "PersonLeft",
    "PersonErased",
    "MicroActionLogged",
    "WeeklyPlanSet",
    "ExperimentStarted",
    "ExperimentEnded",
    "OutcomeRecorded",
    "FeedbackRequested",
    "FeedbackGiven",
    "PulseResponseSubmitted",
    "CalendarConnected",
    "CalendarDisconnected",
    "MeetingObserved",
    "MeetingCancelled",
]


def test_catalogue_has_every_event_of_the_design():
    assert all(name in CATALOGUE for name in DESIGN_MINIMUM)


def test_docs_list_every_type_and_field():
    doc = DOCS.read_text()
    reference = doc.split("<!-- reference:start -->\n")[1].split("<!-- reference:end -->")[0]
    assert reference.strip() == catalogue_markdown(CATALOGUE).strip(), (
        "docs/events.md is out of date: run `compound events reference`"
    )
    for event_type in CATALOGUE:
        assert f"### {event_type.name} v{event_type.version}" in reference


def test_personal_fields_have_a_subject():
    for event_type in CATALOGUE:
        if event_type.personal:
            assert event_type.subject in event_type.schema.fields
    assert CATALOGUE.current("MicroActionLogged").personal == {"note"}
    assert CATALOGUE.current("PulseResponseSubmitted").subject is None  # anonymous


def test_meetings_carry_no_title_description_or_attendees():
    names = set(CATALOGUE.current("MeetingObserved").schema.fields)
    assert not names & {"title", "summary", "description", "attendees", "location", "email"}


def test_unknown_fields_are_rejected():
    with pytest.raises(EventValidationError) as err:
        CATALOGUE.normalise("PersonLeft", {"person_id": str(uuid.uuid4()), "reason": "x"})
    assert err.value.errors == {"reason": ["Unknown field."]}


@pytest.mark.parametrize(
    ("week", "ok"),
    [("2026-W53", True), ("2025-W53", False), ("2026-W00", False), ("2026-47", False)],
)
def test_iso_week_fields_accept_only_real_weeks(week: str, ok: bool):
    data = {"person_id": str(uuid.uuid4()), "week": week, "tactics": ["learning_bit"]}
    if ok:
        assert CATALOGUE.normalise("WeeklyPlanSet", data)[1]["week"] == week
    else:
        with pytest.raises(EventValidationError, match="week"):
            CATALOGUE.normalise("WeeklyPlanSet", data)


def test_plans_hold_at_most_six_actions():
    data = {"person_id": str(uuid.uuid4()), "week": "2026-W47", "tactics": ["learning_bit"] * 7}
    with pytest.raises(EventValidationError, match="tactics"):
        CATALOGUE.normalise("WeeklyPlanSet", data)


def test_registration_errors_are_explicit():
    class Secret(Schema):
        note = fields.String(metadata={"personal": True})

    cat = Catalogue()
    with pytest.raises(ValueError, match="no subject"):
        cat.register("Secret", 1, Secret)
    cat.register("Plain", 1, Schema)
    with pytest.raises(ValueError, match="registered already"):
        cat.register("Plain", 1, Schema)
    with pytest.raises(UnknownEventType):
        cat.current("Nope")


def test_missing_upcaster_is_an_error():
    class V(Schema):
        x = fields.Integer()

    cat = Catalogue()
    cat.register("T", 1, V)
    cat.register("T", 2, V)
    with pytest.raises(UnknownEventType, match="no upcaster from version 1"):
        cat.upcast("T", 1, {"x": 1})

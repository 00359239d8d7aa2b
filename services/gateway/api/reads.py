"""Read models of the caller: capital, experiments, the feedback loop and weekly plans.

Every response carries ``as_of_position`` (a token of where its projection stands) and
accepts ``?min_position=<token>`` (a write's ``position`` or a read's ``as_of_position``): the
server waits up to 2 s for the projection to reach it, so a client reads its own writes.
Tokens are opaque and per organisation (services/gateway/api/positions.py).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask_smorest import Blueprint
from marshmallow import RAISE, Schema, fields, validate

from services.gateway.api.positions import POSITION_TOKEN, AsOfPosition, PositionToken
from services.gateway.auth import current_caller
from services.gateway.resources import resources
from shared.commands.verification import named_in
from shared.domain.bounds import not_a_week
from shared.domain.errors import InvalidInput
from shared.domain.nudges import employee_nudges
from shared.domain.weeks import InvalidIsoWeek, parse_iso_week
from shared.eventlog import RecordedEvent
from shared.eventlog.named_items import answers_in
from shared.projections import journal
from shared.projections.capital import read_capital

blp = Blueprint("reads", __name__, url_prefix="/api/v1", description="The caller's read models")
MAX_WAIT_SECONDS = 2.0
FEEDBACK_ITEMS = 100


class ReadArgs(Schema):
    min_position = PositionToken(load_default=0, metadata={"description": POSITION_TOKEN})


class CapitalOut(Schema):
    as_of_position = AsOfPosition(required=True, metadata={"description": POSITION_TOKEN})
    model_version = fields.Integer(required=True, metadata={"description": "2: docs/scoring.md"})
    week = fields.String(required=True)
    scores = fields.Dict(
        required=True,
        metadata={
            "description": "per dimension: value, its confirmed and self_reported points, "
            "explanation (the 10 largest contributions) and others (the rest's count and "
            "share; the shares sum to 1)"
        },
    )
    history = fields.List(fields.Dict(), required=True)
    leave = fields.List(
        fields.Dict(),
        required=True,
        metadata={"description": "declared absences in or after the history's weeks"},
    )
    next_action = fields.Dict(
        required=True,
        metadata={
            "description": "per dimension: the tactic whose 10-minute action today raises it "
            "most, an example from the seed, its gain and its gain if a colleague confirms it"
        },
    )
    signal_vs_substance = fields.Dict(required=True)
    rotation = fields.Dict(required=True)
    consistency = fields.Dict(required=True)
    tactic_conversion = fields.Dict(required=True)
    flags = fields.List(fields.String(), required=True)
    nudges = fields.List(fields.Dict(), required=True)


class ExperimentWindow(Schema):
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True, metadata={"description": "exclusive"})


class SignalChange(Schema):
    before = fields.Integer(required=True)
    during = fields.Integer(required=True)
    difference = fields.Integer(required=True, metadata={"description": "during - before"})
    direction = fields.String(required=True, validate=validate.OneOf(["up", "down", "same"]))


class ExperimentComparison(Schema):
    before = fields.Nested(ExperimentWindow, required=True)
    during = fields.Nested(ExperimentWindow, required=True)
    invitations = fields.Nested(SignalChange, required=True)
    useful_feedback = fields.Nested(SignalChange, required=True)
    assignments = fields.Nested(SignalChange, required=True)


class MyExperiment(Schema):
    experiment_id = fields.UUID(required=True)
    tactic = fields.String(required=True)
    starts_on = fields.Date(required=True)
    weeks = fields.Integer(required=True)
    ends_on = fields.Date(required=True, metadata={"description": "starts_on + weeks"})
    ended_at = fields.AwareDateTime(required=True, allow_none=True)
    status = fields.String(required=True, validate=validate.OneOf(["running", "ended"]))
    period_complete = fields.Boolean(
        required=True,
        metadata={"description": "ends_on has passed: until then the 'during' counts grow"},
    )
    comparison = fields.Nested(ExperimentComparison, required=True)


class MyExperimentsOut(Schema):
    as_of_position = AsOfPosition(required=True, metadata={"description": POSITION_TOKEN})
    model_version = fields.Integer(required=True)
    experiments = fields.List(fields.Nested(MyExperiment), required=True)


class MyFeedbackRequest(Schema):
    request_id = fields.UUID(required=True)
    action_id = fields.UUID(required=True, allow_none=True)
    question = fields.String(required=True, allow_none=True)
    asked_at = fields.AwareDateTime(required=True)
    expires_at = fields.AwareDateTime(required=True)
    answered_at = fields.AwareDateTime(required=True, allow_none=True)
    useful = fields.Boolean(required=True, allow_none=True)
    status = fields.String(required=True, validate=validate.OneOf(["open", "answered", "expired"]))
    colleague_named = fields.Boolean(
        required=True, metadata={"description": "The request names the colleague asked."}
    )
    confirmed = fields.Boolean(
        required=True, metadata={"description": "Answered by the colleague named (proof)."}
    )


class MyFeedbackOut(Schema):
    as_of_position = AsOfPosition(required=True, metadata={"description": POSITION_TOKEN})
    model_version = fields.Integer(required=True)
    requests = fields.Integer(required=True)
    answers = fields.Integer(required=True)
    useful = fields.Integer(required=True)
    response_rate = fields.Float(
        required=True, allow_none=True, metadata={"description": "answers / requests"}
    )
    usefulness_rate = fields.Float(
        required=True, allow_none=True, metadata={"description": "useful / answers"}
    )
    items = fields.List(
        fields.Nested(MyFeedbackRequest),
        required=True,
        metadata={"description": f"the latest {FEEDBACK_ITEMS} requests"},
    )


class MyPlanItem(Schema):
    tactic = fields.String(required=True)
    label = fields.String(required=True, allow_none=True)
    done = fields.Boolean(required=True)


class MyPlanOut(Schema):
    as_of_position = AsOfPosition(required=True, metadata={"description": POSITION_TOKEN})
    model_version = fields.Integer(required=True)
    week = fields.String(required=True)
    planned = fields.Integer(required=True)
    done = fields.Integer(required=True)
    items = fields.List(fields.Nested(MyPlanItem), required=True)
    actions = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        required=True,
        metadata={"description": "the week's actions per tactic, planned or not"},
    )


def as_of(projection: str, min_position: int) -> int:
    """The projection's position, after waiting (bounded) for ``min_position``."""
    return resources().projections.wait_for(
        projection, min_position, MAX_WAIT_SECONDS if min_position else 0.0
    )


@blp.route("/me/capital")
@blp.arguments(ReadArgs(), location="query", unknown=RAISE)  # unknown parameters: 422
@blp.response(200, CapitalOut)
def my_capital(args: dict[str, Any]) -> Any:
    """My career capital: scores, 12-week history, explanations, flags and nudges."""
    caller = current_caller()
    position = as_of("capital", args["min_position"])
    with resources().engine.connect() as conn:
        capital = read_capital(conn, caller.tenant_id, caller.person_id, datetime.now(UTC).date())
    return {"as_of_position": position, **capital, "nudges": employee_nudges(capital)}


def _logged(positions: list[int]) -> dict[int, RecordedEvent]:
    """The journal events at ``positions``, decrypted: personal text is read from the log."""
    if not positions:
        return {}
    with resources().engine.connect() as conn:
        return {e.position: e for e in resources().store.read_positions(conn, positions)}


@blp.route("/me/experiments")
@blp.arguments(ReadArgs(), location="query", unknown=RAISE)
@blp.response(200, MyExperimentsOut)
def my_experiments(args: dict[str, Any]) -> Any:
    """My experiments, each compared with the 4 weeks before it: invitations, useful
    feedback and assignments."""
    caller = current_caller()
    position = as_of("experiments", args["min_position"])
    with resources().engine.connect() as conn:
        experiments = journal.read_experiments(conn, caller.tenant_id, caller.person_id)
    today = datetime.now(UTC).date()
    return {
        "as_of_position": position,
        "model_version": journal.MODEL_VERSION,
        "experiments": [{**x, "period_complete": x["ends_on"] <= today} for x in experiments],
    }


@blp.route("/me/feedback")
@blp.arguments(ReadArgs(), location="query", unknown=RAISE)
@blp.response(200, MyFeedbackOut)
def my_feedback(args: dict[str, Any]) -> Any:
    """My feedback loop: requests, answers, response and usefulness rates, latest requests."""
    caller = current_caller()
    position = as_of("feedback_loop", args["min_position"])
    with resources().engine.connect() as conn:
        feedback = journal.read_feedback(
            conn, caller.tenant_id, caller.person_id, limit=FEEDBACK_ITEMS
        )
        answered = [str(i["request_id"]) for i in feedback["items"] if i["answered_at"]]
        confirmed = answers_in(
            resources().store, conn, caller.person_id, "FeedbackGiven", "request_id", answered
        )
    asked = _logged([item["asked_position"] for item in feedback["items"]])
    now = datetime.now(UTC)
    items = []
    for item in feedback["items"]:
        event = asked.get(item.pop("asked_position"))
        items.append(
            {
                **item,
                "question": event.data["question"] if event is not None else None,
                "colleague_named": event is not None
                and named_in("feedback", event.data) is not None,
                "confirmed": bool(confirmed.get(str(item["request_id"]))),
                "status": "answered"
                if item["answered_at"] is not None
                else "expired"
                if item["expires_at"] < now
                else "open",
            }
        )
    return {
        "as_of_position": position,
        "model_version": journal.MODEL_VERSION,
        **feedback,
        "items": items,
    }


@blp.route("/me/plan/<string:isoweek>")
@blp.arguments(ReadArgs(), location="query", unknown=RAISE)
@blp.response(200, MyPlanOut)
def my_plan(args: dict[str, Any], isoweek: str) -> Any:
    """My plan for an ISO week and which planned micro-actions are done (an empty plan when
    none was set)."""
    try:
        parse_iso_week(isoweek)
    except InvalidIsoWeek:
        raise InvalidInput(not_a_week(isoweek), {"isoweek": [not_a_week(isoweek)]}) from None
    caller = current_caller()
    position = as_of("plan_progress", args["min_position"])
    with resources().engine.connect() as conn:
        plan = journal.read_plan(conn, caller.tenant_id, caller.person_id, isoweek)
    plan_position = plan.pop("plan_position")
    event = _logged([plan_position]).get(plan_position) if plan_position else None
    labels = event.data.get("labels") if event is not None else None
    if not isinstance(labels, list) or len(labels) != len(plan["items"]):
        labels = [None] * len(plan["items"])  # none given, or erased with their owner
    return {
        "as_of_position": position,
        "model_version": journal.MODEL_VERSION,
        **plan,
        "items": [
            {**item, "label": label or None}
            for item, label in zip(plan["items"], labels, strict=True)
        ],
    }

"""The employee's writes: actions, outcomes, plans, experiments, feedback requests, pulse."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from flask_smorest import Blueprint

from services.gateway.api.fast_dump import compile_dump, json_response
from services.gateway.api.idempotency import idempotent
from services.gateway.api.schemas import (
    ActionIn,
    ActionOut,
    ExperimentEndIn,
    ExperimentIn,
    ExperimentOut,
    FeedbackRequestIn,
    FeedbackRequestOut,
    OutcomeIn,
    OutcomeOut,
    PlanIn,
    PlanOut,
    PulseIn,
    PulseOut,
)
from services.gateway.auth import current_caller
from services.gateway.confirmations import announce, asked_to_confirm
from services.gateway.feedback import feedback_token
from services.gateway.links import public_url_for
from services.gateway.resources import resources
from shared.domain.bounds import not_a_week
from shared.domain.errors import N_, InvalidInput, Text
from shared.domain.weeks import InvalidIsoWeek, iso_week_of, parse_iso_week

blp = Blueprint(
    "journal",
    __name__,
    url_prefix="/api/v1",
    description="What an employee logs, plans, tries and asks",
)


PULSE_RECORDED = N_(
    "Recorded. Your answer counts once it is released with your team's others in a shuffled "
    "batch: when k answers of your team wait, or when this pulse closes."
)


def _written(written: Any, **extra: Any) -> dict[str, Any]:
    return {"event_id": written.event_id, "position": written.position, **extra}


_DUMP_ACTION = compile_dump(ActionOut())


@blp.route("/actions", methods=["POST"])
@idempotent
@blp.arguments(ActionIn())
@blp.response(201, ActionOut)
def log_action(body: dict[str, Any]) -> Any:
    """Log a micro-action for the caller. A relationship action may name its ``counterpart``
    (a colleague's person id), who confirms it through ``confirmation_link``."""
    written = resources().journal.log_action(current_caller().actor("api"), **body)
    link = None
    if body["counterpart"] is not None:
        link = announce("action", written, {"item_id": written.id}, asked_to_confirm(body))
    # The busiest write: its answer encoded by orjson, as ``ActionOut`` dumps it.
    return json_response(
        _DUMP_ACTION(_written(written, action_id=written.id, confirmation_link=link)), 201
    )


@blp.route("/actions/<uuid:action_id>/undo", methods=["POST"])
@idempotent
@blp.response(200, ActionOut)
def undo_action(action_id: uuid.UUID) -> Any:
    """Undo one of my actions within a minute of logging it: a compensating
    ``MicroActionRetracted`` event (the log keeps the action). 410 after the minute, 409 when
    undone already."""
    written = resources().journal.undo_action(current_caller().actor("api"), action_id)
    return _written(written, action_id=action_id)


@blp.route("/outcomes", methods=["POST"])
@idempotent
@blp.arguments(OutcomeIn())
@blp.response(201, OutcomeOut)
def record_outcome(body: dict[str, Any]) -> Any:
    """Record an invitation, assignment, recognition ..., optionally for an action. With a
    ``confirmer`` (a colleague's person id or an outside address), the answer carries the
    confirmer's page (``confirmation_link``) and a link is mailed to them."""
    written = resources().journal.record_outcome(current_caller().actor("api"), **body)
    link = None
    if body["confirmer"] is not None:
        link = announce("outcome", written, {"item_id": written.id}, asked_to_confirm(body))
    return _written(written, outcome_id=written.id, confirmation_link=link)


@blp.route("/plans/<string:isoweek>", methods=["POST"])
@idempotent
@blp.arguments(PlanIn())
@blp.response(201, PlanOut)
def set_plan(body: dict[str, Any], isoweek: str) -> Any:
    """Set the caller's plan for an ISO week (up to 6 micro-actions); replaces the last one."""
    try:
        parse_iso_week(isoweek)
    except InvalidIsoWeek:
        raise InvalidInput(not_a_week(isoweek), {"isoweek": [not_a_week(isoweek)]}) from None
    actions = body["actions"]
    labels = [a["label"] or "" for a in actions]
    try:
        written = resources().journal.set_plan(
            current_caller().actor("api"),
            isoweek,
            [a["tactic"] for a in actions],
            labels if any(labels) else None,
        )
    except InvalidInput as err:  # the week is the path's ``isoweek`` here
        if "week" in err.errors:
            err.errors["isoweek"] = err.errors.pop("week")
        raise
    return _written(written, week=isoweek)


@blp.route("/experiments", methods=["POST"])
@idempotent
@blp.arguments(ExperimentIn())
@blp.response(201, ExperimentOut)
def start_experiment(body: dict[str, Any]) -> Any:
    """Start a time-boxed experiment with one tactic (4 weeks by default)."""
    written = resources().journal.start_experiment(current_caller().actor("api"), **body)
    return _written(written, experiment_id=written.id)


@blp.route("/experiments/<uuid:experiment_id>/end", methods=["POST"])
@idempotent
@blp.arguments(ExperimentEndIn())
@blp.response(200, ExperimentOut)
def end_experiment(body: dict[str, Any], experiment_id: uuid.UUID) -> Any:
    """End a running experiment."""
    written = resources().journal.end_experiment(
        current_caller().actor("api"), experiment_id, body["reflection"]
    )
    return _written(written, experiment_id=experiment_id)


@blp.route("/feedback-requests", methods=["POST"])
@idempotent
@blp.arguments(FeedbackRequestIn())
@blp.response(201, FeedbackRequestOut)
def request_feedback(body: dict[str, Any]) -> Any:
    """Ask a colleague one question; the link answers it without login. With ``colleague``
    named, only they answer (logged in, or through the link mailed to them): a confirmed
    answer; the asker's own session is refused."""
    caller = current_caller()
    written = resources().journal.request_feedback(
        caller.actor("api"),
        body["question"],
        body["action_id"],
        body["expires_in_days"],
        colleague=body["colleague"],
    )
    token = feedback_token(caller.tenant_id, caller.person_id, written.id)
    link = public_url_for("feedback.answer", token=token)
    if body["colleague"] is not None:
        announce("feedback", written, {"token": token}, asked_to_confirm(body))
    return _written(written, request_id=written.id, link=link)


@blp.route("/pulse", methods=["POST"])
@blp.arguments(PulseIn())
@blp.response(201, PulseOut)
def submit_pulse(body: dict[str, Any]) -> Any:
    """An anonymous pulse response for the caller's team and period: recorded now, counted
    once it enters the log in a shuffled batch (k answers of the team, or the period's close).

    Idempotent by nature (a repeat with the same answers returns the first response) and
    deliberately not through ``Idempotency-Key`` records, which would link it to the caller.
    """
    actor = current_caller().actor("api")
    week = body["week"] or iso_week_of(datetime.now(UTC))
    receipt = resources().journal.submit_pulse(actor, body["answers"], body["team_id"], week)
    return {
        "recorded": True,
        "week": receipt.week,
        "closes_at": receipt.closes_at,
        "detail": Text(PULSE_RECORDED),
    }

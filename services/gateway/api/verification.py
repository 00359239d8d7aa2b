"""Confirmations by the party an item names: an outcome's confirmer, a relationship
action's counterpart, a feedback request's colleague (logged in: a token or the portal
session). Anyone else gets 403; another organisation's ids, 404."""

from __future__ import annotations

import uuid
from typing import Any

from flask_smorest import Blueprint

from services.gateway.api.idempotency import idempotent
from services.gateway.api.schemas import (
    ConfirmationIn,
    ConfirmationOut,
    FeedbackAnswerIn,
    FeedbackAnswerOut,
)
from services.gateway.auth import current_caller
from services.gateway.resources import resources
from shared.domain.errors import NotFound, Text
from shared.domain.verification import Witness
from shared.eventlog.named_items import find_named

blp = Blueprint(
    "verification",
    __name__,
    url_prefix="/api/v1",
    description="Confirm what names you: outcomes, relationship actions, feedback requests",
)


def _witness() -> Witness:
    caller = current_caller()
    return Witness(caller.tenant_id, caller.person_id, caller.email)


def _confirmed(kind: str, item_id: uuid.UUID, confirmed: bool) -> dict[str, Any]:
    written = resources().journal.confirm(_witness(), kind, item_id, confirmed)
    return {
        "event_id": written.event_id,
        "position": written.position,
        "confirmed": confirmed,
        "replayed": written.result.replayed,
    }


@blp.route("/outcomes/<uuid:outcome_id>/confirmation", methods=["POST"])
@idempotent
@blp.arguments(ConfirmationIn())
@blp.response(200, ConfirmationOut)
def confirm_outcome(body: dict[str, Any], outcome_id: uuid.UUID) -> Any:
    """Confirm (or decline) an outcome that names me as its confirmer. The same answer again
    is answered 200 with ``replayed``; another answer, 409."""
    return _confirmed("outcome", outcome_id, body["confirmed"])


@blp.route("/actions/<uuid:action_id>/confirmation", methods=["POST"])
@idempotent
@blp.arguments(ConfirmationIn())
@blp.response(200, ConfirmationOut)
def confirm_action(body: dict[str, Any], action_id: uuid.UUID) -> Any:
    """Confirm (or decline) a relationship action that names me as its counterpart."""
    return _confirmed("action", action_id, body["confirmed"])


@blp.route("/feedback-requests/<uuid:request_id>/answer", methods=["POST"])
@idempotent
@blp.arguments(FeedbackAnswerIn())
@blp.response(201, FeedbackAnswerOut)
def answer_feedback(body: dict[str, Any], request_id: uuid.UUID) -> Any:
    """Answer a feedback request that names me as the colleague asked: a confirmed answer.
    Once per request (409 after); a request naming nobody is answered through its link."""
    witness = _witness()
    journal = resources().journal
    with resources().engine.connect() as conn:
        asked = find_named(
            resources().store, conn, witness.tenant_id, "FeedbackRequested", request_id
        )
    if asked is None:
        raise NotFound(Text("No feedback request with this id names a colleague."))
    owner = uuid.UUID(asked.data["person_id"])
    written = journal.give_feedback(
        witness.tenant_id, owner, request_id, body["useful"], body["comment"], witness=witness
    )
    return {
        "event_id": written.event_id,
        "position": written.position,
        "request_id": request_id,
        "confirmed": True,
    }

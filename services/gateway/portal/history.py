"""My actions of the last 12 weeks, each correctable or removable at any time: a correction
retracts the action and logs the corrected one at the same moment, a removal retracts it
(compensating events: the log keeps everything, every read model subtracts what it added)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import redirect, render_template, request, url_for

from services.gateway.confirmations import announce, asked_to_confirm
from services.gateway.portal.blueprint import bp
from services.gateway.portal.forms import FormState, form_input, me, refused, sealed, seen
from services.gateway.portal.today import ACTION_FORM, AUDIENCE_LABELS, MINUTE_CHOICES, recent
from services.gateway.portal.verification import PROOF_LABELS, with_proof
from services.gateway.resources import resources
from shared.domain.errors import DomainError
from shared.domain.tactics import TACTICS

HISTORY_WEEKS = 12


def render_history(
    state: FormState | None = None, editing: object = None, status: int = 200
) -> Any:
    """The page; ``editing``: the action whose correction form is open."""
    seen("capital")
    since = datetime.now(UTC) - timedelta(weeks=HISTORY_WEEKS)
    with resources().engine.connect() as conn:  # the page's reads share one connection
        actions = with_proof("action", recent("action", since, limit=300, conn=conn), conn)
    return render_template(
        "portal/history.html",
        actions=actions,
        state=state if state is not None else FormState(),
        editing=str(editing) if editing else None,
        tactics=TACTICS,
        audiences=AUDIENCE_LABELS,
        minute_choices=MINUTE_CHOICES,
        proof_labels=PROOF_LABELS,
    ), status


@bp.get("/history")
def history() -> Any:
    return render_history(editing=request.args.get("edit"))


@bp.post("/history/<uuid:action_id>/correct")
def correct_action(action_id: uuid.UUID) -> Any:
    body, state = form_input(ACTION_FORM, integers=["minutes"], optional=["note"])
    if body is None:
        return render_history(state, action_id, 422)
    fields = {k: body[k] for k in ("tactic", "minutes", "audience", "note")}
    try:
        written = resources().journal.correct_action(me().actor(), action_id, **fields)
    except DomainError as err:
        return render_history(refused(state, err), action_id, err.status)
    announce("action", written, {"item_id": written.id}, asked_to_confirm(fields))
    return redirect(
        url_for(
            "portal.history",
            after=sealed(written.position),
            corrected=1,
            _anchor=f"action-{written.id}",
        )
    )


@bp.post("/history/<uuid:action_id>/remove")
def remove_action(action_id: uuid.UUID) -> Any:
    try:
        written = resources().journal.retract_action(me().actor(), action_id)
    except DomainError as err:
        return render_history(FormState(message=err.detail), None, err.status)
    return redirect(url_for("portal.history", after=sealed(written.position), removed=1))

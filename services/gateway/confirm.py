"""``/confirm/outcomes/<id>`` and ``/confirm/actions/<id>``: the party an outcome or a
relationship action names confirms or declines it in one click.

Logged in as the named person, or through the link mailed to the named address (its ``t``
token: :mod:`services.gateway.confirmations`); anyone else is refused.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, Flask, redirect, render_template, request, url_for
from flask_login import current_user

from services.gateway.auth import csrf, limiter
from services.gateway.confirmations import (
    outcome_name,
    session_witness,
    tactic_name,
    token_claims,
    token_witness,
)
from services.gateway.i18n import set_page_tenant
from services.gateway.resources import resources
from shared.commands.verification import named_in
from shared.domain.errors import DomainError, Forbidden
from shared.domain.verification import Witness, names
from shared.i18n import gettext

bp = Blueprint("confirm", __name__)
ANSWERS = {"confirm": True, "decline": False}


def _what(kind: str, data: dict[str, Any]) -> str:
    return outcome_name(data["kind"]) if kind == "outcome" else tactic_name(data["tactic"])


def _page(kind: str, item_id: uuid.UUID) -> Any:
    if request.method == "POST":
        csrf.protect()  # first: a forged post learns nothing, not even whether the item exists
    token = request.values.get("t") or None
    journal = resources().journal
    try:
        if token is None and session_witness_tenant() is None:
            return redirect(url_for("auth.login", next=request.full_path))
        tenant = token_claims(kind, token)[0] if token else session_witness_tenant()
        assert tenant is not None
        set_page_tenant(tenant)  # a visitor without a login reads the organisation's language
        item = journal.confirmable(tenant, kind, item_id)
        witness = token_witness(kind, token, item) if token else session_witness(tenant)
        _check_named(kind, item.data, witness)
    except DomainError as err:
        return render_template("confirm.html", error=err.detail), err.status
    owner = journal.person_of(item.tenant_id, uuid.UUID(item.data["person_id"]))
    shown = {
        "kind": kind,
        "what": _what(kind, item.data),
        "owner": (owner.display_name if owner else None) or gettext("Someone"),
        "when": item.occurred_at,
        "token": token,
    }
    answer = journal.confirmation(kind, item)
    if request.method == "GET":
        return render_template("confirm.html", item=shown, answer=answer, error=None)
    assert witness is not None  # _check_named refused an unknown witness
    choice = request.form.get("answer")
    if choice not in ANSWERS:
        return render_template(
            "confirm.html", item=shown, answer=answer, error=gettext("Choose confirm or decline.")
        ), 422
    try:
        journal.confirm(witness, kind, item_id, ANSWERS[choice], single_use=token is not None)
    except DomainError as err:
        return render_template("confirm.html", item=shown, answer=answer, error=err.detail), (
            err.status
        )
    return render_template("confirm.html", item=shown, thanks=ANSWERS[choice], error=None), 201


def session_witness_tenant() -> uuid.UUID | None:
    """The logged-in person's organisation, or None for an anonymous visitor."""
    return current_user.tenant_id if current_user.is_authenticated else None


def _check_named(kind: str, data: dict[str, Any], witness: Witness | None) -> None:
    named = named_in(kind, data)
    owner = uuid.UUID(data["person_id"])
    if witness is not None and witness.person_id == owner:
        raise Forbidden(
            gettext("You cannot confirm your own outcome.")
            if kind == "outcome"
            else gettext("You cannot confirm your own action.")
        )
    if witness is None or named is None or not names(named, witness, owner):
        raise Forbidden(
            gettext("This outcome names someone else to confirm it.")
            if kind == "outcome"
            else gettext("This action names someone else to confirm it.")
        )


@bp.route("/confirm/outcomes/<uuid:item_id>", methods=["GET", "POST"])
@limiter.limit("30 per minute", methods=["POST"])
def outcome(item_id: uuid.UUID) -> Any:
    return _page("outcome", item_id)


@bp.route("/confirm/actions/<uuid:item_id>", methods=["GET", "POST"])
@limiter.limit("30 per minute", methods=["POST"])
def action(item_id: uuid.UUID) -> Any:
    return _page("action", item_id)


def init_app(app: Flask) -> None:
    csrf.exempt(bp)  # checked by hand first in _page (its errors render as pages)
    app.register_blueprint(bp)

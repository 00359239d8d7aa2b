"""``/f/<token>``: a colleague answers a micro-feedback request, without an account.

The link is signed (``COMPOUND_SECRET_KEY``) and names the request; it works once, until the
request expires. Browsers get a one-click page; JSON clients get JSON. Both say who asks and,
when the question is about one of their actions, that action's tactic and day (never its
private note).

A request naming a colleague is answered only by them: logged in as that person, or
through the link mailed to their address (the same link with an address token ``t``,
:mod:`services.gateway.confirmations`); their answer is ``confirmed``. The asker's own
session is refused (403): nobody answers their own question.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import Blueprint, Flask, jsonify, render_template, request, url_for
from itsdangerous import BadSignature, URLSafeSerializer
from marshmallow import ValidationError

from services.gateway.api.schemas import FeedbackAnswerIn
from services.gateway.auth import csrf, limiter
from services.gateway.confirmations import session_witness, token_witness
from services.gateway.i18n import set_page_tenant
from services.gateway.problems import flatten, problem
from services.gateway.resources import resources
from shared.domain.errors import DomainError, NotFound
from shared.domain.tactics import TACTICS
from shared.domain.verification import Witness
from shared.eventlog import RecordedEvent
from shared.i18n import gettext

bp = Blueprint("feedback", __name__)


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(resources().settings.require_secret_key(), salt="feedback")


def feedback_token(tenant_id: uuid.UUID, person_id: uuid.UUID, request_id: uuid.UUID) -> str:
    return str(_serializer().dumps([str(tenant_id), str(person_id), str(request_id)]))


def _claims(token: str) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
    try:
        tenant, person, req = _serializer().loads(token)
        return uuid.UUID(tenant), uuid.UUID(person), uuid.UUID(req)
    except (BadSignature, ValueError, TypeError):
        raise NotFound(gettext("This feedback link is not valid.")) from None


def _witness(asked: RecordedEvent) -> Witness | None:
    """Who answers: the mailed link's address (``t``), else the logged-in person."""
    address_token = request.values.get("t")
    if address_token:
        return token_witness("feedback", address_token, asked)
    return session_witness(asked.tenant_id)


@dataclass(frozen=True)
class Asked:
    """What the colleague is told about a request: who asks, and about which action."""

    asker: str | None
    tactic: str | None
    action_on: date | None

    @property
    def tactic_label(self) -> str | None:
        found = TACTICS.get(self.tactic or "")
        return found.label if found else None

    def as_json(self) -> dict[str, Any]:
        action = None
        if self.tactic is not None:
            on = self.action_on.isoformat() if self.action_on else None
            action = {"tactic": self.tactic, "occurred_on": on}
        return {"asked_by": self.asker, "action": action}


def asked_about(asked: RecordedEvent) -> Asked:
    """Who asked (their display name; None once they left or were erased) and the action the
    question is about (its tactic and day; the note stays private)."""
    person = uuid.UUID(asked.data["person_id"])
    owner = resources().journal.person_of(asked.tenant_id, person)
    action_id = asked.data.get("action_id")
    action = None
    if action_id:
        action = resources().store.find(
            f"journal-{person}", "MicroActionLogged", {"action_id": str(action_id)}
        )
    return Asked(
        asker=owner.display_name if owner else None,
        tactic=action.data["tactic"] if action else None,
        action_on=action.occurred_at.date() if action else None,
    )


def _wants_json() -> bool:
    return request.is_json or request.accept_mimetypes.best == "application/json"


@bp.route("/f/<token>", methods=["GET", "POST"])
@limiter.limit("30 per minute", methods=["POST"])
def answer(token: str) -> Any:
    try:
        tenant, person, req = _claims(token)
        set_page_tenant(tenant)  # the organisation's default language, for a stranger
        asked, answered = resources().journal.feedback_request(tenant, person, req)
        witness = _witness(asked)
        resources().journal.feedback_confirms(asked, witness)  # refuses the wrong person
    except DomainError as err:
        if _wants_json():
            return problem(err.status, err.title, err.detail)
        login = url_for("auth.login", next=request.full_path) if err.status == 401 else None
        return render_template("feedback.html", error=err.detail, login=login), err.status
    question = asked.data["question"]
    about = asked_about(asked)
    if request.method == "GET":
        if _wants_json():
            return jsonify(
                question=question,
                answered=answered is not None,
                expires_at=asked.data["expires_at"],
                **about.as_json(),
            )
        return render_template(
            "feedback.html",
            question=question,
            about=about,
            answered=answered is not None,
            error=None,
        )
    if request.is_json:
        raw = request.get_json(silent=True)
        try:
            body = FeedbackAnswerIn().load(raw if isinstance(raw, dict) else {})
        except ValidationError as err:
            return problem(
                422, "Unprocessable Content", "invalid answer", flatten(err.messages), "validation"
            )
    else:
        csrf.protect()
        useful = request.form.get("useful")
        if useful not in ("yes", "no"):
            return render_template(
                "feedback.html",
                question=question,
                about=about,
                answered=False,
                error=gettext("Choose yes or no."),
            ), 422
        comment = (request.form.get("comment") or "").strip() or None
        if comment and len(comment) > 1000:
            return render_template(
                "feedback.html",
                question=question,
                about=about,
                answered=False,
                error=gettext("The comment is too long (1000 characters at most)."),
            ), 422
        body = {"useful": useful == "yes", "comment": comment}
    try:
        resources().journal.give_feedback(
            tenant, person, req, body["useful"], body["comment"], witness=witness
        )
    except DomainError as err:
        if request.is_json:
            return problem(err.status, err.title, err.detail)
        return render_template(
            "feedback.html", question=question, about=about, answered=True, error=err.detail
        ), err.status
    if request.is_json:
        return jsonify(status="thanks"), 201
    return render_template(
        "feedback.html", question=question, about=about, answered=True, thanks=True, error=None
    ), 201


def init_app(app: Flask) -> None:
    csrf.exempt(bp)  # checked by hand above for form posts; JSON posts need none
    app.register_blueprint(bp)

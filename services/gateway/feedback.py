"""``/f/<token>``: a colleague answers a micro-feedback request, without an account.

The link is signed (``COMPOUND_SECRET_KEY``) and names the request; it works once, until the
request expires. Browsers get a one-click page; JSON clients get JSON.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, Flask, jsonify, render_template, request
from itsdangerous import BadSignature, URLSafeSerializer
from marshmallow import ValidationError

from services.gateway.api.schemas import FeedbackAnswerIn
from services.gateway.auth import csrf, limiter
from services.gateway.problems import flatten, problem
from services.gateway.resources import resources
from shared.domain.errors import DomainError, NotFound

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
        raise NotFound("this feedback link is not valid") from None


def _wants_json() -> bool:
    return request.is_json or request.accept_mimetypes.best == "application/json"


@bp.route("/f/<token>", methods=["GET", "POST"])
@limiter.limit("30 per minute", methods=["POST"])
def answer(token: str) -> Any:
    try:
        tenant, person, req = _claims(token)
        asked, answered = resources().journal.feedback_request(tenant, person, req)
    except DomainError as err:
        if _wants_json():
            return problem(err.status, err.title, err.detail)
        return render_template("feedback.html", error=err.detail), err.status
    question = asked.data["question"]
    if request.method == "GET":
        if _wants_json():
            return jsonify(
                question=question,
                answered=answered is not None,
                expires_at=asked.data["expires_at"],
            )
        return render_template(
            "feedback.html", question=question, answered=answered is not None, error=None
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
                "feedback.html", question=question, answered=False, error="Choose yes or no."
            ), 422
        comment = (request.form.get("comment") or "").strip() or None
        if comment and len(comment) > 1000:
            return render_template(
                "feedback.html",
                question=question,
                answered=False,
                error="The comment is too long (1000 characters at most).",
            ), 422
        body = {"useful": useful == "yes", "comment": comment}
    try:
        resources().journal.give_feedback(tenant, person, req, body["useful"], body["comment"])
    except DomainError as err:
        if request.is_json:
            return problem(err.status, err.title, err.detail)
        return render_template(
            "feedback.html", question=question, answered=True, error=err.detail
        ), err.status
    if request.is_json:
        return jsonify(status="thanks"), 201
    return render_template(
        "feedback.html", question=question, answered=True, thanks=True, error=None
    ), 201


def init_app(app: Flask) -> None:
    csrf.exempt(bp)  # checked by hand above for form posts; JSON posts need none
    app.register_blueprint(bp)

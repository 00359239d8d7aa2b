"""Micro-feedback: ask a colleague one question about one action; a copyable link that
works without login; the answers, with their comments, on the asker's page. A request may
name the colleague (a person, or an address outside): the link is mailed to them, only
their answer counts, and the page marks it confirmed."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import redirect, render_template, request, url_for

from services.gateway.api.schemas import FeedbackRequestIn
from services.gateway.confirmations import announce, asked_to_confirm
from services.gateway.feedback import feedback_token
from services.gateway.links import public_url_for
from services.gateway.portal.blueprint import bp
from services.gateway.portal.forms import (
    FormState,
    connection,
    form_input,
    me,
    refused,
    sealed,
    seen,
)
from services.gateway.portal.today import recent
from services.gateway.portal.verification import colleagues, party_from_form
from services.gateway.resources import resources
from shared.commands.verification import named_in
from shared.database import as_psycopg
from shared.domain.errors import DomainError
from shared.domain.tactics import TACTICS
from shared.i18n import N_, gettext
from shared.projections.journal import read_feedback

ASK_FORM = FeedbackRequestIn()
SHOWN = 20
SUGGESTIONS = (
    N_("Was that summary useful?"),
    N_("Did my update make the trade-off clear?"),
    N_("Was my question in the meeting helpful?"),
)


def link_for(request_id: Any) -> str:
    user = me()
    token = feedback_token(user.tenant_id, user.person_id, request_id)
    return public_url_for("feedback.answer", token=token)


def my_requests(conn: Any = None) -> dict[str, Any]:
    user = me()
    store = resources().store
    with connection(conn) as conn:
        loop = read_feedback(conn, user.tenant_id, user.person_id, limit=SHOWN)
        asked = {
            e.position: e
            for e in store.read_positions(conn, [i["asked_position"] for i in loop["items"]])
        }
        answers = answers_to(conn, user.person_id, loop["items"])
    now = datetime.now(UTC)
    for item in loop["items"]:
        event = asked.get(item["asked_position"])
        item["question"] = event.data["question"] if event is not None else None
        item["named"] = event is not None and named_in("feedback", event.data) is not None
        item["comment"] = None
        if item["answered_at"] is not None:
            item["status"] = "answered"
            answer = answers.get(str(item["request_id"]))
            item["comment"] = answer.data.get("comment") if answer is not None else None
            item["confirmed"] = bool(answer.data.get("confirmed")) if answer else False
        elif item["expires_at"] < now:
            item["status"] = "expired"
        else:
            item["status"] = "open"
            item["link"] = link_for(item["request_id"])
    return loop


def answers_to(conn: Any, person_id: Any, items: list[dict[str, Any]]) -> dict[str, Any]:
    """The first ``FeedbackGiven`` of the person's journal for each answered request (as
    ``store.find`` per request answers, ``data @> {"request_id": ...}``), by request id:
    one statement and one read for the page, not a connection and a read per answer."""
    wanted = [str(i["request_id"]) for i in items if i["answered_at"] is not None]
    if not wanted:
        return {}
    positions = [
        row[0]
        for row in as_psycopg(conn).execute(
            "SELECT DISTINCT ON (data->>'request_id') position FROM events "
            "WHERE stream_id = %s AND type = 'FeedbackGiven' "
            "AND data->>'request_id' = ANY(%s) ORDER BY data->>'request_id', position",
            (f"journal-{person_id}", wanted),
        )
    ]
    found = resources().store.read_positions(conn, positions) if positions else []
    return {e.data["request_id"]: e for e in found}


def render_asks(state: FormState | None = None, status: int = 200) -> Any:
    seen("feedback_loop")
    try:
        asked_now: uuid.UUID | None = uuid.UUID(request.args.get("asked", ""))
    except ValueError:
        asked_now = None
    with resources().engine.connect() as conn:  # the page's reads share one connection
        fb = my_requests(conn)
        actions = recent("action", datetime.now(UTC) - timedelta(days=14), limit=20, conn=conn)
        people = colleagues(conn)
    return render_template(
        "portal/feedback.html",
        state=state if state is not None else FormState(values={"expires_in_days": "14"}),
        fb=fb,
        actions=actions,
        tactics=TACTICS,
        suggestions=[gettext(s) for s in SUGGESTIONS],
        new_link=link_for(asked_now) if asked_now else None,
        colleagues=people,
    ), status


@bp.get("/feedback")
def feedback() -> Any:
    return render_asks()


@bp.post("/feedback")
def ask_feedback() -> Any:
    body, state = form_input(
        ASK_FORM, integers=["expires_in_days"], optional=["action_id", "colleague"]
    )
    colleague = party_from_form(request.form, "colleague", state)
    if body is None or state.errors:
        return render_asks(state, 422)
    try:
        written = resources().journal.request_feedback(
            me().actor(),
            body["question"],
            body["action_id"],
            body["expires_in_days"],
            colleague=colleague,
        )
    except DomainError as err:
        return render_asks(refused(state, err), err.status)
    if colleague is not None:
        token = feedback_token(me().tenant_id, me().person_id, written.id)
        announce("feedback", written, {"token": token}, asked_to_confirm(body))
    return redirect(
        url_for(
            "portal.feedback", after=sealed(written.position), asked=str(written.id), _anchor="link"
        )
    )

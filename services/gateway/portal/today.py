"""Today: log a micro-action in seconds, undo it beside its confirmation, see the week's
actions (each correctable later on the history page);
record an outcome (invitation, assignment, recognition ...), optionally for an action.
A relationship action may name its counterpart, an outcome its confirmer: each item shows
whether it was confirmed, declined, awaits its named party, or is self-reported."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta
from typing import Any

from flask import redirect, render_template, request, url_for

from services.gateway.api.schemas import ActionIn, OutcomeIn
from services.gateway.confirmations import announce, asked_to_confirm
from services.gateway.portal.blueprint import bp
from services.gateway.portal.forms import (
    FormState,
    connection,
    form_input,
    me,
    refused,
    sealed,
    seen,
    this_week,
)
from services.gateway.portal.verification import (
    PROOF_LABELS,
    colleagues,
    party_from_form,
    with_proof,
)
from services.gateway.resources import resources
from shared.calendar.nudges import TACTIC as NUDGE_TACTIC
from shared.calendar.nudges import Offer, offer
from shared.commands.meeting_nudges import nudges_on, recent_meetings
from shared.commands.working_hours import working_hours_of
from shared.domain.errors import DomainError
from shared.domain.nudges import DEPOSIT_WEEKS, employee_nudges
from shared.domain.tactics import AUDIENCES, OUTCOME_KINDS, TACTICS
from shared.domain.verification import RELATIONSHIP_TACTICS
from shared.domain.weeks import week_start
from shared.i18n import N_, format_decimal, gettext, ngettext
from shared.projections.capital import read_recent
from shared.projections.capital.memo import read_capital_seen
from shared.projections.journal import read_plan

ACTION_FORM = ActionIn()
OUTCOME_FORM = OutcomeIn()
MINUTE_CHOICES = (5, 10, 20, 30, 60)
DEFAULTS = {"minutes": "10", "audience": "team"}
AUDIENCE_LABELS = {
    "private": N_("Just me"),
    "team": N_("My team"),
    "decision_makers": N_("Decision-makers"),
}
"""Each audience's name, English: translate where shown (``_(label)``)."""
OUTCOME_LABELS = {
    "invitation": N_("Invitation"),
    "assignment": N_("Assignment"),
    "recognition": N_("Recognition"),
    "useful_feedback": N_("Useful feedback"),
    "new_responsibility": N_("New responsibility"),
    "sponsorship": N_("Sponsorship"),
}
"""Each outcome kind's name, English: translate where shown (``_(label)``)."""
SUGGESTIONS = {
    "relationship_deposit": N_(
        "Send a thank-you note or do a one-minute check-in with a teammate."
    ),
    "all_signal_no_substance": N_(
        "Alternate with private skill-building: a short stretch task, then ask one "
        "colleague whether it was useful."
    ),
    "steady_accumulation": N_(
        "Pick one or two micro-actions for this week and put them in your plan."
    ),
}
"""The suggestion of each rule of :func:`shared.domain.nudges.employee_nudges`, as it words
them (English), for the catalogue."""
assert set(AUDIENCE_LABELS) == set(AUDIENCES) and set(OUTCOME_LABELS) == set(OUTCOME_KINDS)


def recent(
    kind: str, since: datetime | None, limit: int = 50, conn: Any = None
) -> list[dict[str, Any]]:
    """My latest actions or outcomes with their details read from the log (decrypted), in
    ``conn`` (None: a new connection)."""
    user = me()
    store = resources().store
    with connection(conn) as conn:
        rows = read_recent(conn, user.tenant_id, user.person_id, kind, since, limit)
        events = {e.position: e for e in store.read_positions(conn, [r["position"] for r in rows])}
    items = []
    for row in rows:
        event = events.get(row["position"])
        data = event.data if event is not None else {}
        items.append({**row, **data, "id": row["ref_id"]})
    return items


def nudges_read(nudges: list[dict[str, Any]], consistency: dict[str, Any]) -> list[dict[str, str]]:
    """Today's nudges in the reader's language: each rule's suggestion, and why, as whole
    sentences with its number (:func:`shared.domain.nudges.employee_nudges` words them in
    English for the API)."""
    read = []
    for n in nudges:
        rule, value = n["rule"], n["value"]
        if rule == "relationship_deposit":
            because = (
                ngettext(
                    "You logged no relationship deposit in the last %(num)d week.",
                    "You logged no relationship deposit in the last %(num)d weeks.",
                    DEPOSIT_WEEKS,
                )
                if value is None
                else ngettext(
                    "Your last relationship deposit was %(num)d week ago.",
                    "Your last relationship deposit was %(num)d weeks ago.",
                    value,
                )
            )
        elif rule == "all_signal_no_substance":
            because = (
                gettext("No colleague confirmed any capability of yours over 4 weeks.")
                if value is None
                else gettext(
                    "Your visibility is %(ratio)s times the capability colleagues confirmed "
                    "over 4 weeks.",
                    ratio=format_decimal(value),
                )
            )
        elif rule == "steady_accumulation":
            because = ngettext(
                "No micro-action this week or last; %(active)d active of the last %(num)d week.",
                "No micro-action this week or last; %(active)d active of the last %(num)d weeks.",
                consistency.get("span") or 0,
                active=value or 0,
            )
        else:  # a rule this page does not know yet: its English words
            because = n["because"]
        suggestion = SUGGESTIONS.get(rule)
        read.append(
            {
                "suggestion": gettext(suggestion) if suggestion else n["suggestion"],
                "because": because,
            }
        )
    return read


def week_began() -> datetime:
    return datetime.combine(week_start(this_week()), time(), tzinfo=UTC)


def meeting_offer(conn: Any, actions: list[dict[str, Any]]) -> Offer | None:
    """The after-meeting offer of shared/calendar/nudges.py, when the person turned it on."""
    user, store, now = me(), resources().store, datetime.now(UTC)
    if not nudges_on(store, conn, user.tenant_id, user.person_id):
        return None
    meetings = recent_meetings(store, conn, user.tenant_id, user.person_id, now)
    acted = [_aware(a["occurred_at"]) for a in actions if a.get("tactic") == NUDGE_TACTIC]
    zone = working_hours_of(store, conn, user.tenant_id, user.person_id).time_zone
    return offer(meetings, now, zone, max(acted, default=None))


def _aware(value: Any) -> datetime:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def render_today(state: FormState | None = None, status: int = 200) -> Any:
    user = me()
    position = seen("capital")
    with resources().engine.connect() as conn:
        actions = with_proof("action", recent("action", week_began(), conn=conn), conn)
        plan = read_plan(conn, user.tenant_id, user.person_id, this_week())
        today = datetime.now(UTC).date()
        capital = read_capital_seen(conn, user.tenant_id, user.person_id, today, position)
        after_meeting = meeting_offer(conn, actions)
        people = colleagues(conn)
    logged = request.args.get("logged", "")
    just_logged = next((a for a in actions if str(a["id"]) == logged), None)
    return render_template(
        "portal/today.html",
        state=state if state is not None else FormState(values=DEFAULTS),
        actions=actions,
        plan=plan,
        nudges=nudges_read(employee_nudges(capital), capital["consistency"]),
        streak=capital["consistency"],
        tactics=TACTICS,
        minute_choices=MINUTE_CHOICES,
        audiences=AUDIENCE_LABELS,
        week=this_week(),
        colleagues=people,
        relationship_tactics=RELATIONSHIP_TACTICS,
        proof_labels=PROOF_LABELS,
        meeting_offer=after_meeting,
        meeting_tactic=NUDGE_TACTIC,
        just_logged=just_logged,
    ), status


@bp.get("/")
def index() -> Any:
    return render_today()


@bp.post("/actions")
def log_action() -> Any:
    body, state = form_input(
        ACTION_FORM, integers=["minutes"], optional=["note", "occurred_at", "counterpart"]
    )
    if body is None:
        return render_today(state, 422)
    try:
        written = resources().journal.log_action(me().actor(), **body)
    except DomainError as err:
        return render_today(refused(state, err), err.status)
    if body["counterpart"] is not None:
        announce("action", written, {"item_id": written.id}, asked_to_confirm(body))
    return redirect(url_for("portal.index", after=sealed(written.position), logged=written.id))


@bp.post("/actions/<uuid:action_id>/undo")
def undo_action(action_id: uuid.UUID) -> Any:
    """Undo from the confirmation: a retraction, whenever the button is pressed."""
    try:
        written = resources().journal.retract_action(me().actor(), action_id)
    except DomainError as err:
        return render_today(FormState(message=err.detail), err.status)
    return redirect(url_for("portal.index", after=sealed(written.position), undone=1))


# -- outcomes ------------------------------------------------------------------------------------


def render_outcomes(state: FormState | None = None, status: int = 200) -> Any:
    seen("capital")
    since = datetime.now(UTC) - timedelta(days=42)
    with resources().engine.connect() as conn:  # the page's reads share one connection
        outcomes = with_proof("outcome", recent("outcome", None, limit=30, conn=conn), conn)
        actions = recent("action", since, limit=30, conn=conn)
        people = colleagues(conn)
    return render_template(
        "portal/outcomes.html",
        state=state if state is not None else FormState(),
        outcomes=outcomes,
        actions=actions,
        kinds=OUTCOME_LABELS,
        tactics=TACTICS,
        colleagues=people,
        proof_labels=PROOF_LABELS,
    ), status


@bp.get("/outcomes")
def outcomes() -> Any:
    return render_outcomes()


@bp.post("/outcomes")
def record_outcome() -> Any:
    body, state = form_input(
        OUTCOME_FORM, optional=["action_id", "note", "occurred_at", "confirmer"]
    )
    confirmer = party_from_form(request.form, "confirmer", state)
    if body is None or state.errors:
        return render_outcomes(state, 422)
    body["confirmer"] = confirmer
    try:
        written = resources().journal.record_outcome(me().actor(), **body)
    except DomainError as err:
        return render_outcomes(refused(state, err), err.status)
    if confirmer is not None:
        announce("outcome", written, {"item_id": written.id}, asked_to_confirm(body))
    return redirect(url_for("portal.outcomes", after=sealed(written.position), recorded=1))

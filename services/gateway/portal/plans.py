"""The week plan (up to 6 micro-actions, ticked off by logging them; saving replaces it) and
experiments (one at a time unless chosen otherwise), each compared over the whole days it has
run with as many days before it, with the hypothesis it started from."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import redirect, render_template, request, url_for
from marshmallow import ValidationError

from services.gateway.api.schemas import ExperimentEndIn, ExperimentIn, PlanIn
from services.gateway.portal.blueprint import bp
from services.gateway.portal.forms import (
    FormState,
    form_input,
    me,
    refused,
    sealed,
    seen,
    this_week,
)
from services.gateway.problems import flatten
from services.gateway.resources import resources
from shared.domain.errors import DomainError
from shared.domain.tactics import TACTICS
from shared.domain.weeks import iso_week_of, week_start
from shared.i18n import N_, gettext
from shared.projections.journal import read_experiments, read_like_for_like, read_plan

PLAN_FORM = PlanIn()
EXPERIMENT_FORM = ExperimentIn()
END_FORM = ExperimentEndIn()
PLAN_SLOTS = 6
PAST_WEEKS = 6
SIGNAL_LABELS = {
    "invitations": N_("Invitations"),
    "useful_feedback": N_("Useful feedback"),
    "assignments": N_("Assignments"),
}
"""Each experiment signal's name, English: translated where shown."""


def plans_of(weeks: list[str]) -> list[dict[str, Any]]:
    """My plans for ``weeks`` with the labels I gave their items (read from the log): one
    connection and one read of the log for the page's seven weeks."""
    user = me()
    with resources().engine.connect() as conn:
        plans = [read_plan(conn, user.tenant_id, user.person_id, week) for week in weeks]
        positions = [plan.pop("plan_position") for plan in plans]
        wanted = [position for position in positions if position]
        events = {
            e.position: e
            for e in (resources().store.read_positions(conn, wanted) if wanted else [])
        }
    for plan, position in zip(plans, positions, strict=True):
        event = events.get(position) if position else None
        labels = event.data.get("labels") if event is not None else None
        if not isinstance(labels, list) or len(labels) != len(plan["items"]):
            labels = [None] * len(plan["items"])
        plan["items"] = [
            {**item, "label": label or None}
            for item, label in zip(plan["items"], labels, strict=True)
        ]
    return plans


def render_plan(state: FormState | None = None, status: int = 200) -> Any:
    seen("plan_progress")
    week = this_week()
    monday = week_start(week)
    weeks = [iso_week_of(monday - timedelta(weeks=n)) for n in range(PAST_WEEKS + 1)]
    plan, *past = plans_of(weeks)
    if state is None:  # saving replaces the plan: its rows only when asked to edit them
        values = {}
        if request.args.get("edit"):
            for i, item in enumerate(plan["items"]):
                values[f"tactic_{i}"] = item["tactic"]
                values[f"label_{i}"] = item["label"] or ""
        state = FormState(values=values)
    return render_template(
        "portal/plan.html",
        state=state,
        plan=plan,
        past=past,
        week=week,
        monday=monday,
        slots=range(PLAN_SLOTS),
        tactics=TACTICS,
    ), status


@bp.get("/plan")
def plan() -> Any:
    return render_plan()


@bp.post("/plan")
def set_plan() -> Any:
    state = FormState(values=dict(request.form))
    actions = []
    for i in range(PLAN_SLOTS):
        tactic = request.form.get(f"tactic_{i}", "").strip()
        label = request.form.get(f"label_{i}", "").strip()
        if tactic or label:
            actions.append({"tactic": tactic, "label": label or None, "slot": i})
    try:
        body = PLAN_FORM.load(
            {"actions": [{"tactic": a["tactic"], "label": a["label"]} for a in actions]}
        )
    except ValidationError as err:
        by_slot(state, flatten(err.messages), actions)
        if "actions" in state.errors:
            state.errors["actions"] = [gettext("Choose between 1 and 6 micro-actions.")]
        return render_plan(state, 422)
    planned = body["actions"]
    labels = [a["label"] or "" for a in planned]
    try:
        written = resources().journal.set_plan(
            me().actor(),
            this_week(),
            [a["tactic"] for a in planned],
            labels if any(labels) else None,
        )
    except DomainError as err:
        by_slot(state, err.errors, actions)
        state.message = None if err.errors else err.detail
        return render_plan(state, err.status)
    return redirect(url_for("portal.plan", after=sealed(written.position), saved=1))


def by_slot(state: FormState, errors: dict[str, list[str]], rows: list[dict[str, Any]]) -> None:
    """Messages of ``actions.<n>.<field>`` next to the form's ``<field>_<slot>``."""
    for name, messages in errors.items():
        parts = name.split(".")  # actions.<n>.tactic -> tactic_<slot>
        if len(parts) == 3 and parts[1].isdigit() and int(parts[1]) < len(rows):
            name = f"{parts[2]}_{rows[int(parts[1])]['slot']}"
        state.errors.setdefault(name, []).extend(messages)


# -- experiments ---------------------------------------------------------------------------------


def render_experiments(state: FormState | None = None, status: int = 200) -> Any:
    user = me()
    seen("experiments")
    today = datetime.now(UTC).date()
    with resources().engine.connect() as conn:
        experiments = read_experiments(conn, user.tenant_id, user.person_id)
        compared = read_like_for_like(conn, user.tenant_id, user.person_id, experiments, today)
        texts = own_texts(conn, experiments)
    for x in experiments:
        x["period_complete"] = x["ends_on"] <= today
        x["days_left"] = max(0, (x["ends_on"] - today).days)
        elapsed = (today - x["starts_on"]).days / (7 * x["weeks"])
        x["progress"] = max(0, min(100, round(100 * elapsed)))
        x["compared"] = compared[x["experiment_id"]]
        x["hypothesis"] = texts.get(x["started_position"], {}).get("hypothesis")
        x["reflection"] = texts.get(x["ended_position"], {}).get("reflection")
    running = [x for x in experiments if x["status"] == "running"]
    return render_template(
        "portal/experiments.html",
        state=state if state is not None else FormState(values={"weeks": "4"}),
        experiments=experiments,
        running=running,
        tactics=TACTICS,
        signals=SIGNAL_LABELS,
        today=today,
    ), status


def own_texts(conn: Any, experiments: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """The hypotheses and reflections of ``experiments``, read (decrypted) from the log:
    event position -> its data."""
    positions = [p for x in experiments for p in (x["started_position"], x["ended_position"]) if p]
    return {e.position: e.data for e in resources().store.read_positions(conn, positions)}


@bp.get("/experiments")
def experiments() -> Any:
    return render_experiments()


@bp.post("/experiments")
def start_experiment() -> Any:
    body, state = form_input(
        EXPERIMENT_FORM, integers=["weeks"], optional=["starts_on", "hypothesis"]
    )
    if body is None:
        return render_experiments(state, 422)
    alone = not request.form.get("alongside")
    try:
        written = resources().journal.start_experiment(me().actor(), **body, only_one=alone)
    except DomainError as err:
        return render_experiments(refused(state, err), err.status)
    return redirect(url_for("portal.experiments", after=sealed(written.position), started=1))


@bp.post("/experiments/<uuid:experiment_id>/end")
def end_experiment(experiment_id: uuid.UUID) -> Any:
    body, state = form_input(END_FORM, optional=["reflection"])
    if body is None:
        return render_experiments(state, 422)
    try:
        written = resources().journal.end_experiment(
            me().actor(), experiment_id, body["reflection"]
        )
    except DomainError as err:
        return render_experiments(refused(state, err), err.status)
    return redirect(url_for("portal.experiments", after=sealed(written.position), ended=1))

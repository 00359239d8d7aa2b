"""My declared absences on the account page: declare one (leave pauses capital decay and
streaks, docs/scoring.md) or withdraw it. Bad days re-render the account page with 422 and
the messages beside their fields; nothing is written."""

from __future__ import annotations

import uuid
from typing import Any

from flask import redirect, url_for

from services.gateway.api.absences import AbsenceIn
from services.gateway.portal.account import render_account
from services.gateway.portal.blueprint import bp
from services.gateway.portal.forms import FormState, form_input, me, refused, sealed
from services.gateway.resources import resources
from shared.commands.absences import declare_absence, withdraw_absence
from shared.domain.errors import DomainError

ABSENCE_FORM = AbsenceIn()


@bp.post("/account/absences")
def declare() -> Any:
    """Declare an absence of mine (both days included)."""
    body, state = form_input(ABSENCE_FORM)
    state.values["absence_form"] = True
    if body is None:
        return render_account(state, 422)
    try:
        written = declare_absence(
            resources().store, me().actor(), on_appended=resources().wakeups, **body
        )
    except DomainError as err:
        return render_account(refused(state, err), err.status)
    return redirect(url_for("portal.account", away=1, after=sealed(written.position)))


@bp.post("/account/absences/<uuid:absence_id>/withdraw")
def withdraw(absence_id: uuid.UUID) -> Any:
    """Withdraw one of my declared absences."""
    try:
        written = withdraw_absence(resources().store, me().actor(), absence_id, resources().wakeups)
    except DomainError as err:
        return render_account(refused(FormState(), err), err.status)
    return redirect(url_for("portal.account", back=1, after=sealed(written.position)))

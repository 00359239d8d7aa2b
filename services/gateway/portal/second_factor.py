"""My second factor, on the account pages: enrol (QR code and key, confirmed with a code;
ten recovery codes shown once, after a redirect) and remove (with my password or a code).

Enrolment keeps the secret it shows in the session until the confirming code arrives: only
then is it appended, encrypted (shared/commands/second_factor.py). Removing it asks for a
secret again, throttled like the check it is: the password with ``throttle.PASSWORD``, a
code with ``throttle.SECOND_FACTOR``.
"""

from __future__ import annotations

from typing import Any

from flask import redirect, render_template, request, session, url_for

from services.gateway.auth import password_matches
from services.gateway.portal import shown_once
from services.gateway.portal.account import too_many_passwords
from services.gateway.portal.blueprint import bp
from services.gateway.portal.forms import FormState, me, refused
from services.gateway.resources import resources
from services.gateway.second_factor import (
    check_code,
    code_wait,
    enrol_with_code,
    enrolment,
    too_many_codes,
)
from services.gateway.throttle import PASSWORD
from shared.commands.second_factor import new_secret, remove, second_factor_of
from shared.commands.settings import change_settings, organisation_settings, totp_required
from shared.domain.errors import DomainError, Forbidden
from shared.i18n import gettext

ENROL_SECRET = "totp_enrol_secret"


def render_second_factor(state: FormState | None = None, status: int = 200) -> Any:
    user = me()
    factor = second_factor_of(resources().store, user.person_id)
    with resources().engine.connect() as conn:
        required = totp_required(conn, user.tenant_id)
    shown = None
    if factor is None:
        secret = session.get(ENROL_SECRET) or new_secret()
        session[ENROL_SECRET] = secret
        shown = enrolment(secret, user.email or str(user.person_id))
    return render_template(
        "portal/second_factor.html",
        state=state if state is not None else FormState(),
        factor=factor,
        required=required,
        enrolment=shown,
        is_admin=user.role == "admin",
    ), status


@bp.get("/account/second-factor")
def second_factor() -> Any:
    return render_second_factor()


@bp.post("/account/second-factor")
def enrol_second_factor() -> Any:
    """Confirm the shown secret with a code of the app: on, and the recovery codes once."""
    secret = session.get(ENROL_SECRET)
    if not secret:  # no key shown in this session: no code can match; show one now
        state = FormState(
            errors={"code": [gettext("Scan the key shown here, then type its code.")]}
        )
        return render_second_factor(state, 422)
    try:
        codes = enrol_with_code(me().actor(), secret, request.form.get("code", ""))
    except DomainError as err:
        return render_second_factor(refused(FormState(), err), err.status)
    session.pop(ENROL_SECRET, None)
    # Post-redirect-get: the codes are shown once by the next page; a refresh sends nothing.
    shown_once.keep("recovery_codes", codes)
    return redirect(url_for("portal.recovery_codes"))


@bp.get("/account/second-factor/recovery-codes")
def recovery_codes() -> Any:
    """The recovery codes of the enrolment just confirmed, once; afterwards the factor's page."""
    codes = shown_once.take("recovery_codes")
    if not codes:
        return redirect(url_for("portal.second_factor"))
    next_page = url_for("portal.second_factor")
    return render_template("auth/recovery_codes.html", codes=codes, next=next_page)


def _removal_refused(password: str, code: str) -> tuple[str, str, int, int] | None:
    """Why a removal is refused (field, message, status, seconds to wait), or None when the
    password or the code is right."""
    user = me()
    if password:
        wait = PASSWORD.wait(str(user.person_id))
        if wait:
            return "password", too_many_passwords(wait), 429, wait
        ok = password_matches(user, password)
        PASSWORD.record(str(user.person_id), ok)
        return None if ok else ("password", gettext("That is not your password."), 422, 0)
    if code:
        wait = code_wait(user.actor())
        if wait:
            return "code", too_many_codes(wait), 429, wait
        ok = check_code(user.actor(), code)
        wrong = gettext("Wrong code: type the one your app shows now.")
        return None if ok else ("code", wrong, 422, 0)
    return "password", gettext("Enter your password or a code of your app."), 422, 0


@bp.post("/account/second-factor/organisation")
def require_second_factor() -> Any:
    """An admin requires (or stops requiring) a second factor of everyone in the
    organisation; k and the pulse cadence stay as they are."""
    user = me()
    if user.role != "admin":
        err = Forbidden(gettext("Only an admin can change the organisation's settings."))
        return render_second_factor(refused(FormState(), err), err.status)
    with resources().engine.connect() as conn:
        current = organisation_settings(conn, user.tenant_id, resources().settings)
    required = request.form.get("require_totp") == "on"
    change_settings(
        resources().store, user.actor(), current.k, current.pulse_cadence_weeks, required
    )
    return redirect(url_for("portal.second_factor", organisation=1))


@bp.post("/account/second-factor/remove")
def remove_second_factor() -> Any:
    user = me()
    if second_factor_of(resources().store, user.person_id) is None:
        return render_second_factor(FormState(message=gettext("You have no second factor.")), 409)
    with resources().engine.connect() as conn:
        if totp_required(conn, user.tenant_id):
            state = FormState(
                message=gettext("Your organisation requires a second factor: it stays on.")
            )
            return render_second_factor(state, 409)
    why = _removal_refused(request.form.get("password", ""), request.form.get("code", ""))
    if why is not None:
        field, message, status, wait = why
        page, _ = render_second_factor(FormState(errors={field: [message]}), status)
        return page, status, ({"Retry-After": str(wait)} if wait else {})
    try:
        remove(resources().store, user.actor())
    except DomainError as err:
        return render_second_factor(refused(FormState(), err), err.status)
    return redirect(url_for("portal.second_factor", removed=1))

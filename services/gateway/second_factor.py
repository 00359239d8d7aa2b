"""The second factor at the gateway: checking a code (throttled, never twice), the login's
second step, and the same for ``POST /api/v1/auth/token``.

A code is a TOTP code of the person's app or one of their recovery codes. Every check goes
through :func:`check_code`: it counts failures per person with ``throttle.SECOND_FACTOR``
(shared by every gateway process in Redis), and accepts a TOTP code's 30-second step only
once (a ``SET NX`` in Redis), so a code seen over a shoulder or replayed from a log fails.

The login's second step runs on the half-logged-in note of :mod:`pending_login`: nothing is
granted until :func:`services.gateway.auth.complete_login`.
"""

from __future__ import annotations

from typing import Any

import segno
from flask import Blueprint, Flask, Response, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from services.gateway import pending_login
from services.gateway.auth import (
    REQUIRED,
    TOO_LONG,
    PortalUser,
    complete_login,
    limiter,
    load_person,
)
from services.gateway.problems import problem
from services.gateway.resources import resources
from services.gateway.throttle import SECOND_FACTOR, wait_text
from shared.commands import Actor
from shared.commands.second_factor import (
    DRIFT_STEPS,
    STEP_SECONDS,
    code_step,
    enrol,
    new_secret,
    provisioning_uri,
    second_factor_of,
    use_recovery_code,
)
from shared.commands.settings import totp_required
from shared.domain.errors import Conflict, InvalidInput
from shared.i18n import gettext, lazy_gettext

bp = Blueprint("second_factor", __name__)
_USED_FOR_SECONDS = STEP_SECONDS * (2 * DRIFT_STEPS + 2)  # longer than any step is accepted


def qr_data_uri(uri: str) -> str:
    """The QR code of ``uri`` as an SVG ``data:`` URI, drawn here (the CSP loads no image
    from another host, and the secret must not leave for a QR service)."""
    return str(segno.make(uri, error="m").svg_data_uri(scale=5, border=2))


def enrolment(secret: str, account: str) -> dict[str, str]:
    """What an enrolment page shows: the secret as text (spaced in fours) and as QR code."""
    uri = provisioning_uri(secret, account)
    spaced = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
    return {"secret": secret, "spaced": spaced, "qr": qr_data_uri(uri), "uri": uri}


def _first_use(actor: Actor, step: int) -> bool:
    """Whether the TOTP step is used for the first time (then marked used). Redis down:
    refused, since a replay could not be told apart."""
    try:
        key = f"compound:totp:used:{actor.person_id}:{step}"
        return bool(resources().redis.set(key, 1, nx=True, ex=_USED_FOR_SECONDS))
    except Exception:
        return False


def _verify(actor: Actor, code: str) -> bool:
    assert actor.person_id is not None
    store = resources().store
    factor = second_factor_of(store, actor.person_id)
    if factor is None:
        return False
    step = code_step(factor.secret, code)
    if step is not None:
        return _first_use(actor, step)
    return use_recovery_code(store, actor, code)


def enrol_with_code(actor: Actor, secret: str, code: str) -> list[str]:
    """Enrol ``secret`` (see :func:`shared.commands.second_factor.enrol`); the confirming
    code's step counts as used, so that code cannot log in afterwards.

    Raises:
        InvalidInput, Conflict: as ``enrol``.
    """
    codes = enrol(resources().store, actor, secret, code)
    step = code_step(secret, code)
    if step is not None:
        _first_use(actor, step)
    return codes


def code_wait(actor: Actor) -> int:
    """Seconds ``actor`` must wait before their next code is checked (0: go ahead)."""
    return SECOND_FACTOR.wait(str(actor.person_id))


def check_code(actor: Actor, code: str) -> bool:
    """Check a TOTP or recovery code of ``actor``'s, counting a failure against them.

    Parameters:
        actor: the person (logging in, or changing their factor).
        code: what they typed.

    Returns:
        Whether it is good: a TOTP code of a step not used before, or an unused recovery
        code (spent by this call). The caller asked :func:`code_wait` first.
    """
    ok = _verify(actor, code.strip()[:64])
    SECOND_FACTOR.record(str(actor.person_id), ok)
    return ok


def too_many_codes(seconds: int) -> str:
    return gettext("Too many wrong codes: try again in %(wait)s.", wait=wait_text(seconds))


# -- POST /api/v1/auth/token ---------------------------------------------------------------------


def api_second_factor(user: PortalUser, code: str | None) -> Response | None:
    """The refusal of a bearer-token login that lacks its second factor, or None.

    Returns:
        None when the person has no second factor (and needs none) or ``code`` is good;
        else 401 (``totp`` missing or wrong), 429 with ``Retry-After`` (too many wrong
        codes) or 403 (the organisation requires a factor the person has not enrolled).
    """
    actor = user.actor("api")
    if second_factor_of(resources().store, user.person_id) is None:
        with resources().engine.connect() as conn:
            if not totp_required(conn, user.tenant_id):
                return None
        detail = gettext(
            "Your organisation requires a second factor: enrol one in the portal first."
        )
        return problem(403, "Forbidden", detail, kind="totp-enrolment-required")
    if not code:
        detail = gettext(
            "This account has a second factor: send `totp` (an app's or a recovery code)."
        )
        return problem(401, "Unauthorized", detail, kind="totp-required")
    wait = code_wait(actor)
    if wait:
        return problem(
            429, "Too Many Requests", too_many_codes(wait), headers={"Retry-After": str(wait)}
        )
    if not check_code(actor, code):
        return problem(401, "Unauthorized", gettext("Wrong `totp` code."), kind="totp-required")
    return None


# -- the login's second step ---------------------------------------------------------------------


class CodeForm(FlaskForm):
    code = StringField(
        lazy_gettext("Code"),
        validators=[DataRequired(REQUIRED), Length(max=64, message=TOO_LONG)],
    )


def _pending_user(enrol: bool) -> tuple[pending_login.PendingLogin, PortalUser] | None:
    pending = pending_login.current()
    if pending is None or pending.enrol != enrol:
        return None
    user = load_person(pending.person_id)
    if user is None:
        pending_login.clear()
        return None
    return pending, user


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit("30 per minute", methods=["POST"])
def code() -> Any:
    """The second step for a person with a second factor: a code of their app."""
    found = _pending_user(enrol=False)
    if found is None:
        return redirect(url_for("auth.login"))
    pending, user = found
    form, status, headers = CodeForm(), 200, {}
    if form.validate_on_submit():
        wait = code_wait(user.actor())
        if wait:
            form.code.errors = [too_many_codes(wait)]
            status, headers = 429, {"Retry-After": str(wait)}
        elif check_code(user.actor(), form.code.data or ""):
            complete_login(user, "password+totp")
            return redirect(pending.next_page)
        else:
            form.code.errors = [gettext("Wrong code: type the one your app shows now.")]
            status = 401
    elif request.method == "POST":
        status = 422
    return render_template("auth/code.html", form=form), status, headers


@bp.route("/login/enrol", methods=["GET", "POST"])
@limiter.limit("30 per minute", methods=["POST"])
def enrol_at_login() -> Any:
    """The second step when the organisation requires a second factor the person lacks:
    enrol one now (nothing else is reachable before)."""
    found = _pending_user(enrol=True)
    if found is None:
        return redirect(url_for("auth.login"))
    pending, user = found
    secret = pending.secret or new_secret()
    pending_login.remember_secret(secret)
    form, status = CodeForm(), 200
    if form.validate_on_submit():
        try:
            codes = enrol_with_code(user.actor(), secret, form.code.data or "")
        except InvalidInput as err:
            form.code.errors = err.errors["code"]
            status = 422
        except Conflict:  # enrolled meanwhile (another tab): log in with a code instead
            pending_login.begin(user.person_id, pending.next_page, enrol=False)
            return redirect(url_for("second_factor.code"))
        else:
            complete_login(user, "password+totp")
            page = render_template("auth/recovery_codes.html", codes=codes, next=pending.next_page)
            return page, 201
    elif request.method == "POST":
        status = 422
    shown = enrolment(secret, user.email or str(user.person_id))
    return render_template("auth/enrol.html", form=form, enrolment=shown), status


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)

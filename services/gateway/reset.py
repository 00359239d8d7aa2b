"""Password reset: "Forgot password?" on the login page, a mailed link, a new password.

- ``/password/forgot`` asks for an address and always gives the same answer, in the same
  time, whether or not the address has an account: the one database read happens either
  way and the mail, when there is one, leaves from a background thread (the page never
  waits on the SMTP server). Requests are throttled per address (:data:`REQUESTS`, a wait
  that doubles past three) and per client address (Flask-Limiter).
- ``/password/reset/<token>`` sets the new password with the link of
  :mod:`shared.password_reset` (signed, short-lived, used once) through the ordinary
  ``set_password`` command, which appends ``PasswordSet``.

A reset mail that fails is tried again :data:`RETRY_DELAYS` later, then logged as an error;
the person can ask again (nothing was changed).
"""

from __future__ import annotations

import atexit
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flask import Blueprint, Flask, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from services.gateway.auth import PASSWORD_LENGTH, REQUIRED, TOO_LONG, limiter, storable
from services.gateway.invitation import password_rule
from services.gateway.resources import resources
from services.gateway.throttle import Throttle, wait_text
from shared.commands import Actor
from shared.commands.organization import MIN_PASSWORD
from shared.domain.errors import Gone, InvalidInput, NotFound
from shared.i18n import gettext, lazy_gettext
from shared.notify import Mailer, Message, deliver
from shared.password_reset import ResetLinks

bp = Blueprint("reset", __name__)
log = logging.getLogger("compound.reset")

REQUESTS = Throttle("reset", free=3, max_wait=3600)
"""Reset requests per address (each request counts; a password set clears the count)."""
RETRY_DELAYS = (0.0, 5.0, 30.0)
"""Seconds before each attempt of a reset mail (tests shorten them)."""

_outbox: ThreadPoolExecutor | None = None


class ForgotForm(FlaskForm):
    email = EmailField(
        lazy_gettext("E-mail"),
        validators=[DataRequired(REQUIRED), Length(max=320, message=TOO_LONG), storable],
    )


class ResetForm(FlaskForm):
    password = PasswordField(
        lazy_gettext("New password"),
        validators=[
            DataRequired(REQUIRED),
            Length(min=MIN_PASSWORD, max=200, message=PASSWORD_LENGTH),
        ],
    )


def reset_links() -> ResetLinks:
    return ResetLinks(resources().settings)


def mail_later(mailer: Mailer, message: Message) -> None:
    """Deliver ``message`` from this process's mail thread (created at first use, after
    gunicorn forked), retrying a failed delivery."""
    global _outbox
    if _outbox is None:
        _outbox = ThreadPoolExecutor(max_workers=2, thread_name_prefix="reset-mail")
        atexit.register(_outbox.shutdown, wait=False)
    _outbox.submit(_deliver_with_retries, mailer, message)


def _deliver_with_retries(mailer: Mailer, message: Message) -> None:
    for delay in RETRY_DELAYS:
        time.sleep(delay)
        if deliver(mailer, message, "password reset") != "failed":
            return
    log.error(
        "password reset mail to %s NOT sent after %d attempts; they can ask again",
        message.to,
        len(RETRY_DELAYS),
    )


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit("10 per minute; 60 per hour", methods=["POST"])
def forgot() -> Any:
    form = ForgotForm()
    minutes = resources().settings.reset_minutes
    if form.validate_on_submit():
        email = form.email.data or ""
        wait = REQUESTS.wait(email)
        if wait:
            form.email.errors = [
                gettext(
                    "Too many requests for this address: try again in %(wait)s.",
                    wait=wait_text(wait),
                )
            ]
            return render_template("auth/forgot.html", form=form), 429
        REQUESTS.record(email, ok=False)
        browser = request.headers.get("Accept-Language")
        message = reset_links().mail_for(resources().engine, email, browser)
        if message is not None:
            mail_later(resources().mailer, message)
        return render_template("auth/forgot_sent.html", minutes=minutes)
    status = 422 if request.method == "POST" else 200
    return render_template("auth/forgot.html", form=form), status


@bp.route("/password/reset/<token>", methods=["GET", "POST"])  # shared/password_reset.py
@limiter.limit("30 per minute", methods=["POST"])
def reset(token: str) -> Any:
    try:
        holder = reset_links().check(resources().engine, token)
    except (NotFound, Gone) as err:
        return render_template("auth/reset.html", form=None, error=gettext(err.detail)), err.status
    form = ResetForm()
    status = 200
    if form.validate_on_submit():
        actor = Actor(tenant_id=holder.tenant_id, person_id=holder.person_id, source="reset")
        try:
            resources().organization.set_password(actor, form.password.data or "")
        except InvalidInput as err:
            form.password.errors = err.errors.get("password", [err.detail])
            status = 422
        else:
            REQUESTS.record(holder.email, ok=True)
            flash(gettext("Your new password is set: log in with it."))
            return redirect(url_for("auth.login"))
    elif request.method == "POST":
        status = 422
    page = render_template("auth/reset.html", form=form, error=None, password_rule=password_rule())
    return page, status


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)

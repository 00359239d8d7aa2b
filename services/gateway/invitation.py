"""``/invite/<token>``: the invited person joins (a name and a password) and is logged in.

The link is signed (:mod:`shared.invitations`) and works once, for
:data:`shared.invitations.INVITATION_DAYS` days. The page shows the password rule before
anything is typed; a link used already, expired or not valid says so on opening, without
the form. Joining logs the person in through the same steps as a password login
(:func:`services.gateway.auth.after_password`): the second factor first where the
organisation requires one, the login page where it signs in with single sign-on only.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, Flask, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from itsdangerous import BadSignature, SignatureExpired
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from services.gateway.auth import (
    INVITE_MAX_AGE,
    PASSWORD_LENGTH,
    REQUIRED,
    SSO,
    TOO_LONG,
    after_password,
    end_session,
    invitation_serializer,
    landing_for,
    limiter,
    load_person,
    storable,
)
from services.gateway.resources import resources
from shared import invitations
from shared.commands.organization import MIN_PASSWORD
from shared.domain.errors import Conflict, InvalidInput, NotFound
from shared.i18n import N_, gettext, lazy_gettext, ngettext

bp = Blueprint("invitation", __name__)


def password_rule() -> str:
    """The rule of a new password, shown beside the field before anyone types."""
    return ngettext(
        "At least %(num)d character: a few words you will remember are best.",
        "At least %(num)d characters: a few words you will remember are best.",
        MIN_PASSWORD,
    )


class InvitationForm(FlaskForm):
    display_name = StringField(
        lazy_gettext("Your name"),
        validators=[DataRequired(REQUIRED), Length(max=200, message=TOO_LONG), storable],
    )
    password = PasswordField(
        lazy_gettext("Choose a password"),
        validators=[
            DataRequired(REQUIRED),
            Length(min=MIN_PASSWORD, max=200, message=PASSWORD_LENGTH),
        ],
    )


INVITATION_EXPIRED = N_("This invitation has expired: ask your admin for a new one.")
INVITATION_INVALID = N_("This invitation link is not valid.")
INVITATION_USED = N_("This invitation has been used already: log in with its address.")


def _invitation_closed(error: str, status: int) -> tuple[str, int]:
    """The invitation page without its form: why the link cannot be used, and what to do."""
    return render_template("auth/invitation.html", form=None, error=gettext(error)), status


@bp.route("/invite/<token>", methods=["GET", "POST"])  # shared/invitations.py links here
@limiter.limit("30 per minute", methods=["POST"])
def accept_invitation(token: str) -> Any:
    """Join: the invited person chooses a name and password, and is logged in at once."""
    try:
        claims = invitation_serializer().loads(token, max_age=INVITE_MAX_AGE)
        tenant_id, person_id = uuid.UUID(claims["t"]), uuid.UUID(claims["p"])
    except SignatureExpired:
        return _invitation_closed(INVITATION_EXPIRED, 410)
    except (BadSignature, KeyError, ValueError, TypeError):
        return _invitation_closed(INVITATION_INVALID, 404)
    if not invitations.is_open(resources().engine, tenant_id, person_id):
        return _invitation_closed(INVITATION_USED, 410)  # said at once, not after the form
    form = InvitationForm()
    status = 422 if request.method == "POST" else 200
    if form.validate_on_submit():
        name = form.display_name.data or ""
        try:
            resources().organization.accept_invitation(
                tenant_id, person_id, name, form.password.data or ""
            )
        except (Conflict, NotFound):  # used meanwhile (another tab)
            return _invitation_closed(INVITATION_USED, 409)
        except InvalidInput as err:
            form.password.errors = err.errors.get("password", [err.detail])
        else:
            return _joined(person_id, name)
    page = render_template(
        "auth/invitation.html", form=form, error=None, password_rule=password_rule()
    )
    return page, status


def _joined(person_id: uuid.UUID, name: str) -> Any:
    """Log the person who just joined in (no second login), through the same steps as a
    password login: a second factor first when the organisation requires one, the login
    page when it signs in with single sign-on only."""
    if current_user.is_authenticated:  # someone else's session in this browser ends first
        end_session()
    user = load_person(person_id)
    if user is None:  # left or erased in the meantime
        return _invitation_closed(INVITATION_USED, 409)
    if SSO.password_refusal(user.tenant_id, user.person_id):
        response = redirect(url_for("auth.login"))
    else:
        response = after_password(user, landing_for(user))
    flash(gettext("Welcome to Compound, %(name)s!", name=name))  # after the login: it empties
    return response


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)

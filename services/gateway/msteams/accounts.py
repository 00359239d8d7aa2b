"""The portal's Teams page: a person links the Teams account the bot sent them here for, and
unlinks it.

Linking needs both proofs: the Connector gave the Teams account's e-mail address (from the
organisation's directory, carried signed in the link) and it is the person's, and the
logged-in person confirms it here.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required

from services.gateway.resources import resources
from shared.domain.errors import DomainError
from shared.eventlog import AppendContext
from shared.i18n import gettext
from shared.msteams.link_tokens import LinkRequest, read_link_token
from shared.msteams.links import TeamsLinks

bp = Blueprint("msteams_accounts", __name__, url_prefix="/msteams")


def teams_links() -> TeamsLinks:
    """The links on this gateway's store (made on first use, after the fork)."""
    found = current_app.extensions.get("compound_msteams")
    if found is None:
        found = TeamsLinks(resources().store)
        current_app.extensions["compound_msteams"] = found  # a race makes two: harmless
    assert isinstance(found, TeamsLinks)
    return found


def _context() -> AppendContext:
    return AppendContext(actor=str(current_user.person_id), source="portal")


def _page(template: str, status: int = 200, **context: Any) -> Response:
    return make_response(render_template(f"msteams/{template}", **context), status)


@bp.get("")
@login_required
def account() -> Response:
    return _page("account.html", links=teams_links().links_of_person(current_user.person_id))


def _request(token: str) -> LinkRequest:
    return read_link_token(resources().settings.require_secret_key(), token)


@bp.get("/link/<token>")
@login_required
def link(token: str) -> Response:
    try:
        asked = _request(token)
    except DomainError as err:
        return _page("link.html", err.status, error=err.detail)
    return _page("link.html", asked=asked)


@bp.post("/link/<token>")
@login_required
def confirm_link(token: str) -> Any:
    try:
        asked = _request(token)
    except DomainError as err:
        return _page("link.html", err.status, error=err.detail)
    email = str(current_user.email or "").strip().casefold()
    if not email or asked.email.strip().casefold() != email:
        error = gettext("This Teams account's e-mail address is not yours: nothing was linked.")
        return _page("link.html", 403, error=error, asked=asked)
    try:
        teams_links().link(
            asked.aad_tenant_id,
            asked.aad_object_id,
            current_user.tenant_id,
            current_user.person_id,
            _context(),
        )
    except DomainError as err:
        return _page("link.html", err.status, error=err.detail, asked=asked)
    flash(
        gettext("Your Teams account is linked: write to Compound in Teams to log a micro-action.")
    )
    return redirect(url_for(".account"))


@bp.post("/unlink")
@login_required
def unlink() -> Any:
    """Untie one of the person's own Teams accounts."""
    aad_object_id = request.form.get("aad_object_id", "")
    for found in teams_links().links_of_person(current_user.person_id):
        if found.aad_object_id == aad_object_id:
            teams_links().unlink(found, "person", _context())
            flash(gettext("Your Teams account is unlinked."))
            break
    return redirect(url_for(".account"))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)

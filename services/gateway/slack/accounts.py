"""The portal's Slack page: an admin installs the app (OAuth v2), a person links the Slack
account that ``/compound`` sent them here for, and unlinks it.

Linking needs both proofs: Slack says the account's e-mail address is verified and is the
person's (``users.info``, scope ``users:read.email``), and the logged-in person confirms it
here. A link token names a workspace; a workspace of another organisation is "not found".
"""

from __future__ import annotations

import logging
import secrets
from typing import Any
from urllib.parse import urlencode

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required
from slack_sdk.errors import SlackApiError

from services.gateway.slack.services import installations, read_link_token, slack_settings
from shared.chat.digests import SlackDigests
from shared.chat.installations import Installation, require
from shared.chat.settings import BOT_SCOPES
from shared.chat.work import web_client
from shared.domain.errors import DomainError, InvalidInput
from shared.domain.working_hours import DAYS
from shared.eventlog import AppendContext
from shared.i18n import gettext
from shared.i18n.formatting import babel_locale

bp = Blueprint("slack_accounts", __name__, url_prefix="/slack")
log = logging.getLogger("compound.slack")
STATE_KEY = "slack_oauth_state"


def _context() -> AppendContext:
    return AppendContext(actor=str(current_user.person_id), source="portal")


def _page(template: str, status: int = 200, **context: Any) -> Response:
    return make_response(render_template(f"slack/{template}", **context), status)


def _account_page(
    error: str | None = None, status: int = 200, field_errors: dict[str, Any] | None = None
) -> Response:
    svc = installations()
    return _page(
        "account.html",
        status,
        error=error,
        links=svc.links_of_person(current_user.person_id),
        workspaces=svc.of_tenant(current_user.tenant_id),
        can_install=current_user.role == "admin" and bool(slack_settings().client_id),
        digest_time=SlackDigests(svc.store).time_of(current_user.person_id, current_user.tenant_id),
        days=DAYS,
        day_names=day_names(),
        field_errors=field_errors or {},
    )


def day_names() -> dict[str, str]:
    """Each day's code (``mon`` ...) and its name in the reader's language."""
    names = babel_locale().days["format"]["wide"]
    return {code: str(names[i]).capitalize() for i, code in enumerate(DAYS)}


@bp.get("")
@login_required
def account() -> Response:
    return _account_page()


# -- installation (an admin, OAuth v2) --------------------------------------------------------


@bp.get("/install")
@login_required
def install() -> Any:
    """Send the admin to Slack's consent page; ``state`` is kept in their session."""
    settings = slack_settings()
    if current_user.role != "admin" or not settings.client_id:
        abort(404)
    session[STATE_KEY] = state = secrets.token_urlsafe(24)
    query = urlencode(
        {
            "client_id": settings.client_id,
            "scope": ",".join(BOT_SCOPES),
            "state": state,
            "redirect_uri": url_for(".oauth_callback", _external=True),
        }
    )
    return redirect(f"{settings.authorize_url}?{query}")


@bp.get("/oauth/callback")
@login_required
def oauth_callback() -> Any:
    """Slack sends the admin back with a code: exchange it (``oauth.v2.access``) and keep the
    workspace's bot token, sealed."""
    settings = slack_settings()
    if current_user.role != "admin" or not settings.client_id:
        abort(404)
    expected = session.pop(STATE_KEY, None)
    if not expected or not secrets.compare_digest(expected, request.args.get("state", "")):
        return _account_page(
            gettext("The installation could not be verified: start it again."), 400
        )
    if request.args.get("error"):
        return _account_page(gettext("Slack was not connected: access was denied."), 400)
    try:
        answer = web_client(None, settings.api_url).oauth_v2_access(
            client_id=settings.client_id,
            client_secret=settings.client_secret or "",
            code=request.args.get("code", ""),
            redirect_uri=url_for(".oauth_callback", _external=True),
        )
    except SlackApiError as err:
        log.warning("slack oauth.v2.access failed: %s", err.response.get("error"))
        return _account_page(gettext("Slack refused the installation: start it again."), 400)
    team = answer.get("team") or {}
    try:
        installations().install(
            current_user.tenant_id,
            str(team["id"]),
            str(team.get("name") or team["id"]),
            str(answer["bot_user_id"]),
            str(answer["access_token"]),
            _context(),
        )
    except DomainError as err:
        return _account_page(err.detail, err.status)
    flash(gettext("Slack installed in %(workspace)s.", workspace=team.get("name") or team["id"]))
    return redirect(url_for(".account"))


# -- linking (the person's confirmation + Slack's verified address) --------------------------


def _linking(token: str) -> tuple[Installation, str]:
    team_id, slack_user_id = read_link_token(token)
    return require(installations().get(team_id), current_user.tenant_id), slack_user_id


@bp.get("/link/<token>")
@login_required
def link(token: str) -> Response:
    try:
        installation, slack_user_id = _linking(token)
    except DomainError as err:
        return _page("link.html", err.status, error=err.detail)
    return _page("link.html", installation=installation, slack_user_id=slack_user_id)


@bp.post("/link/<token>")
@login_required
def confirm_link(token: str) -> Any:
    try:
        installation, slack_user_id = _linking(token)
    except DomainError as err:
        return _page("link.html", err.status, error=err.detail)
    shown = {"installation": installation, "slack_user_id": slack_user_id}
    try:
        user = web_client(installation.bot_token, slack_settings().api_url).users_info(
            user=slack_user_id
        )["user"]
    except SlackApiError as err:
        log.warning("slack users.info failed: %s", err.response.get("error"))
        return _page("link.html", 502, error=gettext("Slack did not answer: try again."), **shown)
    if not _same_verified_address(user, current_user.email):
        return _page(
            "link.html",
            403,
            error=gettext(
                "This Slack account's verified e-mail address is not yours: nothing was linked."
            ),
            **shown,
        )
    try:
        installations().link(installation, slack_user_id, current_user.person_id, _context())
    except DomainError as err:
        return _page("link.html", err.status, error=err.detail, **shown)
    flash(
        gettext(
            "Your Slack account in %(workspace)s is linked: type %(command)s there.",
            workspace=installation.team_name,
            command="/compound",
        )
    )
    return redirect(url_for(".account"))


def _same_verified_address(user: dict[str, Any], email: str | None) -> bool:
    """Whether Slack's user has a confirmed address equal to the person's."""
    address = str((user.get("profile") or {}).get("email") or "")
    return (
        bool(email)
        and user.get("is_email_confirmed") is True
        and not user.get("deleted")
        and not user.get("is_bot")
        and address.strip().casefold() == str(email).strip().casefold()
    )


@bp.post("/digest-time")
@login_required
def digest_time() -> Any:
    """Choose the day and hour (in the zone of one's working hours) of the digest in Slack."""
    try:
        SlackDigests(installations().store).set_time(
            current_user.tenant_id,
            current_user.person_id,
            request.form.get("day", ""),
            request.form.get("hour", "").strip(),
            _context(),
        )
    except InvalidInput as err:
        return _account_page(status=422, field_errors=err.errors)
    flash(gettext("Your weekly digest in Slack will come at the time you chose."))
    return redirect(url_for(".account"))


@bp.post("/unlink")
@login_required
def unlink() -> Any:
    """Untie one of the person's own Slack accounts."""
    team_id = request.form.get("team_id", "")
    for link in installations().links_of_person(current_user.person_id):
        if link.team_id == team_id:
            installations().unlink(link, "person", _context())
            flash(gettext("Your Slack account is unlinked."))
            break
    return redirect(url_for(".account"))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)

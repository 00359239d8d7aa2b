"""The /calendar page: connect a calendar over OAuth (Authlib client, state + PKCE S256),
the provider's callback, and disconnect (revoke at the provider, delete the tokens).

A connection whose grant stopped working shows "needs reconnect" here; connecting again
renews it. Only timing and counts of meetings ever reach Compound (docs/calendar.md).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cached_property
from typing import Any
from urllib.parse import urlsplit

from authlib.integrations.base_client.errors import MismatchingStateError, OAuthError
from authlib.integrations.flask_client import OAuth
from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
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
from services.gateway.security import CONTENT_SECURITY_POLICY
from shared.calendar.connections import Connections, TokenCipher
from shared.calendar.jobs import send_sync
from shared.calendar.providers import ProviderConfig, configured_providers
from shared.calendar.sync import CalendarSync, GrantRevoked, SyncFailed
from shared.commands.meeting_nudges import nudges_on, set_meeting_nudges
from shared.eventlog import AppendContext
from shared.i18n import gettext

bp = Blueprint("calendar", __name__, url_prefix="/calendar")
log = logging.getLogger("compound.calendar")


@dataclass
class CalendarServices:
    providers: dict[str, ProviderConfig]
    oauth: OAuth

    @cached_property
    def connections(self) -> Connections:
        res = resources()
        return Connections(res.store, TokenCipher(res.settings.master_keys))

    @cached_property
    def sync(self) -> CalendarSync:
        return CalendarSync(self.connections, self.providers, resources().settings.calendar)


def services() -> CalendarServices:
    found = current_app.extensions["compound_calendar"]
    assert isinstance(found, CalendarServices)
    return found


def _provider(name: str) -> ProviderConfig:
    provider = services().providers.get(name)
    if provider is None:
        abort(404)
    return provider


def _context() -> AppendContext:
    return AppendContext(actor=str(current_user.person_id), source="portal")


def _page(error: str | None = None, status: int = 200) -> Response:
    svc = services()
    connections = svc.connections.of_person(current_user.person_id)
    store = resources().store
    with store.engine.connect() as conn:
        nudges = nudges_on(store, conn, current_user.tenant_id, current_user.person_id)
    response = make_response(
        render_template(
            "calendar/index.html",
            providers=svc.providers,
            connections=connections,
            error=error,
            nudges=nudges,
        ),
        status,
    )
    # The "Connect" forms post here and are redirected to the provider's consent page:
    # browsers apply form-action to that redirect, so the providers' origins are allowed.
    origins = sorted({_origin(p.authorize_url) for p in svc.providers.values()})
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY.replace(
        "form-action 'self'", " ".join(["form-action 'self'", *origins])
    )
    return response


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@bp.get("")
@login_required
def index() -> Any:
    return _page()


@bp.post("/connect/<name>")
@login_required
def connect(name: str) -> Any:
    """Send the person to the provider's consent page (state and PKCE kept in the session)."""
    provider = _provider(name)
    client = services().oauth.create_client(provider.name)
    redirect_uri = url_for("calendar.callback", name=provider.name, _external=True)
    return client.authorize_redirect(redirect_uri, **provider.authorize_params)


@bp.get("/callback/<name>")
@login_required
def callback(name: str) -> Any:
    """The provider sends the person back here with a code; exchange it and start a sync."""
    provider = _provider(name)
    client = services().oauth.create_client(provider.name)
    try:
        token = client.authorize_access_token()
    except MismatchingStateError:
        return _page(
            gettext("The sign-in could not be verified (its state did not match): try again."),
            400,
        )
    except OAuthError as err:
        if err.error == "access_denied":
            return _page(
                gettext(
                    "%(provider)s was not connected: access was denied.", provider=provider.title
                ),
                400,
            )
        log.warning("calendar connect to %s failed: %s", name, err.error)
        refused = gettext(
            "%(provider)s refused the connection (%(error)s): try again.",
            provider=provider.title,
            error=err.error,
        )
        return _page(refused, 400)
    if not token.get("refresh_token"):
        return _page(
            gettext(
                "%(provider)s gave no refresh token, so Compound could not keep the calendar "
                "in sync: try again.",
                provider=provider.title,
            ),
            400,
        )
    token.pop("userinfo", None)
    token.pop("id_token", None)
    connection_id = services().connections.connect(
        current_user.tenant_id, current_user.person_id, provider.name, dict(token), _context()
    )
    send_sync(connection_id, resources().broker)
    flash(
        gettext(
            "%(provider)s connected: your meetings' times are being synced.",
            provider=provider.title,
        )
    )
    return redirect(url_for("calendar.index"))


@bp.post("/disconnect/<name>")
@login_required
def disconnect(name: str) -> Any:
    """Revoke the grant at the provider, delete the tokens, append ``CalendarDisconnected``."""
    svc = services()
    connection = svc.connections.of_person(current_user.person_id).get(name)
    if connection is None or connection.status != "active":
        flash(gettext("That calendar is not connected."))
        return redirect(url_for("calendar.index"))
    if name in svc.providers and connection.token:
        try:
            svc.sync.api(connection).revoke()
        except (OAuthError, GrantRevoked, SyncFailed, OSError) as err:
            # The tokens are deleted anyway; an unreachable provider must not keep them here.
            log.warning("calendar revoke at %s failed: %s", name, type(err).__name__)
    svc.connections.end(connection, "user", _context())
    flash(gettext("Calendar disconnected: its tokens are deleted and nothing more is synced."))
    return redirect(url_for("calendar.index"))


@bp.post("/nudges")
@login_required
def nudges() -> Any:
    """Turn the after-meeting nudge on or off (``MeetingNudgesSet``; off by default)."""
    enabled = request.form.get("enabled") == "on"
    set_meeting_nudges(resources().store, current_user.actor(), enabled)
    flash(
        gettext("After a meeting of four or more, Today will offer to send a summary.")
        if enabled
        else gettext("No more after-meeting offers on Today.")
    )
    return redirect(url_for("calendar.index"))


def init_app(app: Flask) -> None:
    settings = app.config["COMPOUND_SETTINGS"]
    providers = configured_providers(settings.calendar)
    oauth = OAuth(app)
    for provider in providers.values():
        oauth.register(
            provider.name,
            client_id=provider.client_id,
            client_secret=provider.client_secret,
            authorize_url=provider.authorize_url,
            access_token_url=provider.token_url,
            client_kwargs={
                "scope": provider.scope,
                "code_challenge_method": "S256",
                "token_endpoint_auth_method": "client_secret_basic",
            },
        )
    app.extensions["compound_calendar"] = CalendarServices(providers, oauth)
    app.register_blueprint(bp)

"""Single sign-on in the portal (docs/sso.md): the login page routes an organisation's
e-mail domains to its OpenID Connect provider, ``/auth/oidc/callback`` signs the person in,
and logging out ends the provider's session too where it offers RP-initiated logout.

The sign-in in progress is a note in the signed session cookie, per ``state`` (a few tabs
may sign in at once): the ``nonce``, the PKCE verifier, the organisation and the page to
land on, for :data:`PENDING_SECONDS`. The callback takes the note out before anything else,
so a replayed callback finds none. A signed-in SSO session keeps the organisation and the
ID token in the cookie, for the logout.
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any
from urllib.parse import urlencode

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from services.gateway.resources import resources
from shared.i18n import N_, gettext
from shared.sso import accounts, oidc
from shared.sso.config import Connection, redirect_uri
from shared.sso.store import connection_for_email, connection_for_tenant, open_secret

bp = Blueprint("sso", __name__)
log = logging.getLogger(__name__)
PENDING_KEY = "sso_pending"
SIGNED_IN_KEY = "sso"
PENDING_SECONDS = 600
MAX_PENDING = 5
REQUIRED = N_("Your organisation signs in with single sign-on: leave the password empty.")


def discovery() -> oidc.Discovery:
    """The process's discovery and JWKS cache (one per app)."""
    found = current_app.extensions.get("sso_discovery")
    assert isinstance(found, oidc.Discovery)
    return found


def _redirect_uri() -> str:
    return redirect_uri(resources().settings.public_url)


def route(email: str, has_password: bool, next_page: str) -> Response | None:
    """Where a login for ``email`` goes: its organisation's provider (no password given, or
    SSO required and not the break-glass admin), or None for the password login."""
    with resources().engine.connect() as conn:
        connection = connection_for_email(conn, email)
        if connection is None:
            return None
        if has_password and not connection.sso_required:
            return None
        if has_password and _is_break_glass(conn, connection, email):
            return None
    return begin(connection, email, next_page)


def _is_break_glass(conn: Any, connection: Connection, email: str) -> bool:
    from sqlalchemy import text

    if connection.break_glass_person_id is None:
        return False
    found = conn.execute(
        text("SELECT 1 FROM people WHERE id = :p AND lower(email) = lower(:e)"),
        {"p": connection.break_glass_person_id, "e": email.strip()},
    ).first()
    return found is not None


def password_refusal(tenant_id: uuid.UUID, person_id: uuid.UUID) -> str | None:
    """Why a password may not sign this person in (their organisation requires SSO and
    they are not its break-glass admin), or None."""
    with resources().engine.connect() as conn:
        connection = connection_for_tenant(conn, tenant_id)
    if connection is None or not connection.sso_required:
        return None
    return None if connection.break_glass_person_id == person_id else gettext(REQUIRED)


def begin(connection: Connection, email: str | None, next_page: str) -> Response:
    """Send the browser to the provider, keeping the note for the callback."""
    try:
        started = oidc.start(
            discovery(), connection.issuer, connection.client_id, _redirect_uri(), email
        )
    except oidc.SsoError as err:
        return _refused(err, 502)
    pending = dict(session.get(PENDING_KEY) or {})
    now = int(time.time())
    pending = {s: n for s, n in pending.items() if now - int(n.get("t", 0)) < PENDING_SECONDS}
    while len(pending) >= MAX_PENDING:
        pending.pop(min(pending, key=lambda s: pending[s]["t"]))
    pending[started.state] = {
        "n": started.nonce,
        "v": started.code_verifier,
        "o": str(connection.tenant_id),
        "i": connection.issuer,
        "next": next_page,
        "t": now,
    }
    session[PENDING_KEY] = pending
    return continue_to(started.url)


def continue_to(target: str, signing_out: bool = False) -> Response:
    """A page sending the browser on to the provider (a meta refresh and a link): the login
    and logout forms cannot be redirected to another origin under ``form-action 'self'``."""
    page = render_template(
        "auth/sso_continue.html",
        target=target,
        heading=gettext("Signing you out") if signing_out else gettext("Signing you in"),
        explanation=gettext("Ending your session at your company's sign-in too.")
        if signing_out
        else gettext("Your company's sign-in takes over from here."),
    )
    response = Response(page, status=200)
    response.headers["Cache-Control"] = "no-store"
    return response


def _refused(err: oidc.SsoError, status: int = 401) -> Response:
    from services.gateway.auth import LoginForm

    log.warning("sso sign-in refused: %s", err.reason)
    page = render_template("auth/login.html", form=LoginForm(), sso_error=gettext(err.message))
    return Response(page, status=status)


def _take_pending(state: str) -> dict[str, Any] | None:
    pending = dict(session.get(PENDING_KEY) or {})
    note = pending.pop(state, None) if state else None
    session[PENDING_KEY] = pending
    if not isinstance(note, dict) or time.time() - int(note.get("t", 0)) > PENDING_SECONDS:
        return None
    return note


@bp.get("/auth/oidc/callback")
def callback() -> Any:
    """The provider's answer: check it, find the person, log them in."""
    from services.gateway.auth import complete_login, load_person

    note = _take_pending(request.args.get("state", ""))
    if note is None:
        expired = N_("This sign-in expired or was used already: start again.")
        return _refused(oidc.SsoError("unknown or used state", expired), 400)
    if request.args.get("error"):
        reason = f"provider error: {request.args.get('error')}"
        refused = N_("The identity provider did not sign you in.")
        return _refused(oidc.SsoError(reason, refused), 401)
    store = resources().store
    with resources().engine.connect() as conn:
        connection = connection_for_tenant(conn, uuid.UUID(note["o"]))
    if connection is None or connection.issuer != note["i"]:
        return _refused(oidc.SsoError("connection changed during sign-in"), 400)
    started = oidc.Started("", "", note["n"], note["v"])
    try:
        claims, raw = oidc.finish(
            discovery(),
            connection.issuer,
            connection.client_id,
            open_secret(store, connection),
            _redirect_uri(),
            request.args.get("code", ""),
            started,
            resources().settings.sso_clock_skew_seconds,
        )
        person_id = accounts.person_for(store, connection, claims)
    except oidc.SsoError as err:
        return _refused(err)
    user = load_person(person_id)
    if user is None:
        return _refused(oidc.SsoError("person not active", accounts.ENDED))
    complete_login(user, "sso")  # the provider did the factors; a fresh cookie (no fixation)
    session[SIGNED_IN_KEY] = {"o": str(connection.tenant_id), "h": raw}
    return redirect(note.get("next") or url_for("portal.index"))


def logout_target() -> str | None:
    """Where logging out ends: the provider's ``end_session_endpoint`` (RP-initiated
    logout) for an SSO session whose provider offers one, else None (our login page)."""
    signed_in = session.get(SIGNED_IN_KEY)
    if not isinstance(signed_in, dict):
        return None
    try:
        with resources().engine.connect() as conn:
            connection = connection_for_tenant(conn, uuid.UUID(signed_in["o"]))
        if connection is None:
            return None
        endpoint = discovery().metadata(connection.issuer).get("end_session_endpoint")
    except (oidc.SsoError, KeyError, ValueError):
        return None
    if not isinstance(endpoint, str):
        return None
    params = {
        "id_token_hint": signed_in.get("h", ""),
        "client_id": connection.client_id,
        "post_logout_redirect_uri": resources().settings.public_url + url_for("auth.login"),
    }
    return endpoint + ("&" if "?" in endpoint else "?") + urlencode(params)


def init_app(app: Flask) -> None:
    from services.gateway import auth

    auth.SSO.route = route
    auth.SSO.password_refusal = password_refusal
    auth.SSO.logout_target = logout_target
    auth.SSO.leave = lambda target: continue_to(target, signing_out=True)
    app.extensions["sso_discovery"] = oidc.Discovery()
    app.register_blueprint(bp)

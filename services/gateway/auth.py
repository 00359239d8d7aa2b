"""Who is calling: portal sessions (Flask-Login), API bearer tokens, login backoff, CSRF.

A request is authenticated by ``Authorization: Bearer <token>`` (a personal access token or
one from ``POST /api/v1/auth/token``) or by the portal's session cookie, which names a row
on the server (services/gateway/web_sessions.py). Session-authenticated writes to the API
must carry the CSRF token (``X-CSRFToken``), as every portal form does. A personal token
reaches only the routes of its scopes (services/gateway/scopes.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial, wraps
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, current_user, logout_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError, CSRFProtect, validate_csrf
from itsdangerous import URLSafeTimedSerializer
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from services.gateway import pending_login, web_sessions
from services.gateway.context import current_request, request_globals
from services.gateway.i18n import keep_language_settings
from services.gateway.problems import problem
from services.gateway.redirects import local_target
from services.gateway.resources import resources
from services.gateway.scopes import require_scope
from services.gateway.throttle import LOGIN, wait_text
from shared import invitations
from shared.commands import Actor, activity
from shared.commands.second_factor import second_factor_of
from shared.commands.settings import totp_required
from shared.directory.callers import Caller, active_person, login_candidate, person_for_token
from shared.domain.errors import Unauthorized
from shared.i18n import N_, gettext, lazy_gettext
from shared.security import token_digest, verify_password

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, swallow_errors=True, headers_enabled=True)

_UNLIMITED: set[str] = set()  # blueprints without rate limits (see ``unlimited``)


def unlimited(blueprint: Any) -> None:
    """Exempt ``blueprint`` from rate limiting, and skip the limiter's per-request work for it
    (an exempt route still costs the limiter its hooks on every request: see
    :func:`_skip_limiter_hooks`)."""
    limiter.exempt(blueprint)
    _UNLIMITED.add(blueprint.name)


def _skip_limiter_hooks(app: Flask) -> None:
    """Flask-Limiter's three hooks (limits check, headers, context reset) return at once for
    the blueprints of :func:`unlimited`. Run on every request, they resolved the limits of an
    exempt route, created the limiter's request context and cleared it again."""

    def unless_unlimited(hook: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(hook)
        def run(*args: Any) -> Any:
            if current_request().blueprint in _UNLIMITED:
                return args[0] if args else None  # after_request hands the response on
            return hook(*args)

        return run

    def is_limiters(hook: Any) -> bool:
        owner = hook.args[0] if isinstance(hook, partial) and hook.args else None
        return getattr(hook, "__self__", owner) is limiter

    registries: list[dict[Any, list[Any]]] = [
        app.before_request_funcs,
        app.after_request_funcs,
        app.teardown_request_funcs,
    ]
    for registry in registries:
        hooks = registry.get(None, [])
        hooks[:] = [unless_unlimited(h) if is_limiters(h) else h for h in hooks]


INVITE_MAX_AGE = invitations.INVITATION_DAYS * 24 * 3600
LOG_IN_OR_TOKEN = N_("Log in, or send `Authorization: Bearer <token>`.")
WRONG_PASSWORD = N_("Wrong e-mail or password.")


@dataclass
class SsoHooks:
    """What single sign-on (services/gateway/sso.py, which sets these) adds to the login:
    routing an e-mail to its provider, refusing passwords where SSO is required, and the
    provider's logout."""

    route: Callable[[str, bool, str], Any] = lambda email, has_password, next_page: None
    password_refusal: Callable[[uuid.UUID, uuid.UUID], str | None] = lambda t, p: None
    logout_target: Callable[[], str | None] = lambda: None
    leave: Callable[[str], Any] = redirect
    """How the browser is sent to the provider after a form (a page, not a redirect: the
    pages' CSP ``form-action 'self'`` would block a redirect to another origin)."""


SSO = SsoHooks()


@dataclass
class PortalUser:
    """The Flask-Login user: a person of the directory."""

    person_id: uuid.UUID
    tenant_id: uuid.UUID
    role: str
    email: str | None
    display_name: str | None
    managed_teams: frozenset[uuid.UUID]
    credential: str = "cookie"
    """``cookie`` (the portal's session), ``session`` (a login token) or ``personal``."""
    scopes: frozenset[str] | None = None
    """A personal token's scopes; None: every scope of the role."""
    session_id: uuid.UUID | None = None
    """The portal session's id (credential ``cookie``)."""

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        return str(self.person_id)

    @property
    def is_manager(self) -> bool:
        return bool(self.managed_teams) or self.role in ("manager", "admin")

    def actor(self, source: str = "portal") -> Actor:
        return Actor(
            tenant_id=self.tenant_id,
            person_id=self.person_id,
            role=self.role,
            managed_teams=self.managed_teams,
            idempotency_key=current_request().headers.get("Idempotency-Key"),
            correlation_id=request_globals().get("request_id"),
            source=source,
        )


def _portal_user(caller: Caller | None, **credential: Any) -> PortalUser | None:
    if caller is None:
        return None
    person_id, tenant_id, role, email, name, managed = caller
    return PortalUser(person_id, tenant_id, role, email, name, frozenset(managed), **credential)


def load_person(person_id: uuid.UUID) -> PortalUser | None:
    """An active person of the directory, or None (left, erased, unknown)."""
    return _portal_user(active_person(resources().engine, person_id))


@login_manager.request_loader
def _load_user(_request: Any) -> PortalUser | None:
    """The person of the session row the cookie names. Deliberately no ``user_loader``: a
    cookie carrying only a person id (Flask-Login's way, and this gateway's before 0023)
    logs no one in."""
    found = web_sessions.from_cookie()
    if found is None:
        return None
    caller = found.caller
    # Read with the session: the page's language needs no look-up of its own.
    keep_language_settings(caller.tenant_id, caller.person_id, found.languages)
    return _portal_user(caller, session_id=found.session_id)


def start_session(user: PortalUser) -> None:
    """Log ``user`` in: a new server-side session, its secret in a fresh cookie."""
    web_sessions.begin(user.tenant_id, user.person_id)
    request_globals()._login_user = user  # Flask-Login's per-request user, as login_user sets


def end_session() -> None:
    """Log out: the session's row ends, the cookie is emptied."""
    web_sessions.end_current("logout")
    logout_user()


def user_for_token(token: str) -> PortalUser | None:
    """The active person a valid (not revoked, not expired, not ended) token belongs to."""
    holder = person_for_token(resources().engine, token_digest(token))
    if holder is None:
        return None
    return _portal_user(holder.caller, credential=holder.kind, scopes=holder.scopes)


def current_caller() -> PortalUser:
    """The caller of an API request.

    Raises:
        Unauthorized: no valid token or session.
        Forbidden: a personal token without the route's scope.
    """
    context = request_globals()
    cached = context.get("caller")
    if cached is not None:
        return cached
    request = current_request()
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized(gettext("Use `Authorization: Bearer <token>`."))
        user = user_for_token(token.strip())
        if user is None:
            raise Unauthorized(gettext("The token is invalid, expired or revoked."))
        require_scope(user.scopes, request, user.person_id)
    elif current_user.is_authenticated:
        user = current_user._get_current_object()
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            try:
                validate_csrf(request.headers.get("X-CSRFToken"))
            except ValidationError as err:  # answered 400 (problem+json), not 500
                raise CSRFError(str(err)) from None
    else:
        raise Unauthorized(gettext(LOG_IN_OR_TOKEN))
    context.caller = user
    return user


# -- failed-login backoff ----------------------------------------------------------------------


def login_backoff(email: str) -> int:
    """Seconds the caller must wait before trying ``email`` again (0: go ahead)."""
    return LOGIN.wait(email)


def record_login(email: str, ok: bool) -> None:
    LOGIN.record(email, ok)


def authenticate(email: str, password: str) -> PortalUser:
    """Check a password login, with backoff after repeated failures.

    Raises:
        Unauthorized: wrong e-mail or password (the same message for both).
    """
    person = login_candidate(resources().engine, email)
    ok = verify_password(person.password_hash if person else None, password)
    ok = ok and person is not None and person.status == "active"
    record_login(email, ok)
    user = load_person(person.id) if ok and person else None
    if user is None:
        raise Unauthorized(gettext(WRONG_PASSWORD))
    refusal = SSO.password_refusal(user.tenant_id, user.person_id)
    if refusal:
        raise Unauthorized(refusal)
    return user


def password_matches(user: PortalUser, password: str) -> bool:
    """Whether ``password`` is ``user``'s own. Counts no failed login: the caller counts
    its failures with its own throttle (``throttle.PASSWORD`` when changing a password)."""
    person = login_candidate(resources().engine, user.email or "")
    ok = verify_password(person.password_hash if person else None, password)
    return ok and person is not None and person.id == user.person_id


def backoff_problem(seconds: int) -> Response:
    return problem(
        429,
        "Too Many Requests",
        gettext("Too many failed logins: try again in %(wait)s.", wait=wait_text(seconds)),
        headers={"Retry-After": str(seconds)},
    )


# -- pages ---------------------------------------------------------------------------------------


def storable(form: FlaskForm, field: Any) -> None:
    """PostgreSQL text cannot hold NUL: refuse it in the form, not with a 500."""
    if field.data and "\x00" in field.data:
        raise ValidationError(gettext("Must not contain NUL characters."))


REQUIRED = lazy_gettext("This field is required.")
PASSWORD_LENGTH = lazy_gettext("Use %(min)d to %(max)d characters.")  # filled by WTForms
TOO_LONG = lazy_gettext("Use at most %(max)d characters.")


class LoginForm(FlaskForm):
    # No wtforms Email(): it needs the optional email_validator package (a 500 without it),
    # and a malformed address simply matches no account.
    email = EmailField(
        lazy_gettext("E-mail"),
        validators=[DataRequired(REQUIRED), Length(max=320, message=TOO_LONG), storable],
    )
    # Optional: an e-mail of an organisation with single sign-on goes to its provider
    # (services/gateway/sso.py); for everyone else the view asks for the password.
    password = PasswordField(
        lazy_gettext("Password"), validators=[Optional(), Length(max=200, message=TOO_LONG)]
    )


def landing_for(user: PortalUser) -> str:
    return url_for("portal.index")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("30 per minute", methods=["POST"])
def login() -> Any:
    if current_user.is_authenticated:
        return redirect(landing_for(current_user))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        next_page = local_target(request.args.get("next"), url_for("portal.index"))
        routed = SSO.route(form.email.data or "", bool(form.password.data), next_page)
        wait = login_backoff(form.email.data or "")
        if routed is not None:
            return routed
        if not form.password.data:
            form.password.errors = [str(REQUIRED)]
            status = 422
        elif wait:
            form.email.errors = [
                gettext("Too many failed attempts: try again in %(wait)s.", wait=wait_text(wait))
            ]
            status = 429
        else:
            try:
                user = authenticate(form.email.data or "", form.password.data or "")
            except Unauthorized as err:
                form.password.errors = [err.detail]
                status = 401
            else:
                return after_password(
                    user, local_target(request.args.get("next"), landing_for(user))
                )
    elif request.method == "POST":
        status = 422
    return render_template("auth/login.html", form=form), status


def after_password(user: PortalUser, next_page: str) -> Any:
    """The password was right: log in now, or first ask for the second factor (a code when
    the person has one; enrolment when their organisation requires one they lack)."""
    if second_factor_of(resources().store, user.person_id) is not None:
        pending_login.begin(user.person_id, next_page, enrol=False)
        return redirect(url_for("second_factor.code"))
    with resources().engine.connect() as conn:
        required = totp_required(conn, user.tenant_id)
    if required:
        pending_login.begin(user.person_id, next_page, enrol=True)
        return redirect(url_for("second_factor.enrol_at_login"))
    complete_login(user)
    return redirect(next_page)


def complete_login(user: PortalUser, method: str = "password") -> None:
    """Log ``user`` in: the one call made once every factor has passed (``method`` says
    which, for the audit's ``SignedIn`` event)."""
    pending_login.clear()
    start_session(user)
    activity.signed_in(resources().store, user.actor(), method)


@bp.post("/logout")
def logout() -> Any:
    provider_logout = SSO.logout_target()  # RP-initiated logout of an SSO session
    pending_login.clear()
    end_session()
    if provider_logout:
        return SSO.leave(provider_logout)
    return redirect(url_for("auth.login"))


def invitation_serializer() -> URLSafeTimedSerializer:
    return invitations.invitation_serializer(resources().settings.require_secret_key())


def init_app(app: Flask) -> None:
    settings = app.config["COMPOUND_SETTINGS"]
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = settings.require_secret_key()
    app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    app.config.setdefault("RATELIMIT_STORAGE_URI", settings.redis_url or "memory://")
    app.config.setdefault("RATELIMIT_ENABLED", True)
    login_manager.login_view = "auth.login"
    login_manager.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    _skip_limiter_hooks(app)
    app.register_blueprint(bp)

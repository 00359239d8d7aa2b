"""Security headers on every response, and the session cookie's flags.

* ``Content-Security-Policy`` (:data:`CONTENT_SECURITY_POLICY`): scripts, styles, images,
  fonts and connections from this host only, no inline scripts, no plugins, never framed.
  Inline *styles* are allowed (a style attribute cannot run code); inline scripts are not,
  so a page needing behaviour loads it from ``static/``.
* ``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY`` (for browsers predating
  ``frame-ancestors``), ``Referrer-Policy: same-origin`` (signed links such as feedback
  tokens never leave in a Referer), ``Cross-Origin-Opener-Policy: same-origin``.
* A JSON body is checked once with orjson before any view sees it: nesting deeper than 1024
  levels, lone surrogates, numbers beyond a double and invalid UTF-8 get a 400 problem
  instead of reaching Python's ``json`` (a RecursionError or a string PostgreSQL cannot store
  there: 500s found by tests/security/test_hostile_input.py).
* Logs never carry the signed tokens of invitation and feedback links (:func:`loggable_path`).
* The session cookie is ``HttpOnly`` and ``SameSite=Lax`` always, and ``Secure`` when the
  request arrived over HTTPS (directly, or through ``COMPOUND_FORWARDED_PROXIES`` trusted
  proxies sending ``X-Forwarded-Proto``) or when ``COMPOUND_SECURE_COOKIES`` is set.
"""

from __future__ import annotations

from typing import Any

import orjson
from flask import Flask, Request, Response, has_request_context, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin
from werkzeug.middleware.proxy_fix import ProxyFix

from services.gateway.context import current_request
from services.gateway.problems import problem
from shared.i18n import gettext
from shared.settings import Settings

# One constant, so whoever adds a page sees what it may load.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

SECURITY_HEADERS: tuple[tuple[str, str], ...] = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "same-origin"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
)


_NAMES = frozenset(name.lower() for name, _ in SECURITY_HEADERS)
_BY_NAME = tuple((name.lower(), (name, value)) for name, value in SECURITY_HEADERS)


class SecurityHeaders:
    """WSGI middleware adding :data:`SECURITY_HEADERS` to every response (a view may set its
    own). At the WSGI level it costs a few microseconds a response, where Flask's
    ``after_request`` with werkzeug's ``Headers`` cost over ten times more."""

    def __init__(self, wsgi_app: Any) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            for name, _ in headers:
                if name.lower() in _NAMES:  # rare: keep what the view chose
                    present = {n.lower() for n, _ in headers}
                    headers.extend(item for lower, item in _BY_NAME if lower not in present)
                    break
            else:
                headers.extend(SECURITY_HEADERS)
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, start)


def loggable_path() -> str:
    """The request's path for logs: a route taking a signed ``token`` (invitation and feedback
    links, which act as credentials) is logged as its rule, ``/invite/<token>``."""
    args = request.view_args
    if args and "token" in args and request.url_rule is not None:
        return request.url_rule.rule
    return request.path


_BODYLESS = frozenset({"GET", "HEAD", "OPTIONS"})


def refuse_malformed_json() -> Response | None:
    """400 for a JSON body Python's parser would choke on or let through unstorable."""
    request = current_request()
    if request.method in _BODYLESS or not request.is_json:
        return None
    limit, length = request.max_content_length, request.content_length
    if limit is not None and length is not None and length > limit:
        # Over the app's limit: a route may raise it later (bulk import allows 32 MB), so
        # reading the body here would refuse what that route accepts. Its parser decides.
        return None
    body = request.get_data(cache=True)  # cached: the view's parser reads it again for free
    if not body:
        return None
    try:
        orjson.loads(body)
    except orjson.JSONDecodeError as err:
        message = gettext("The body is not valid JSON: %(error)s.", error=str(err))
        return problem(400, "Bad Request", message, {"_request": [message]}, kind="invalid-json")
    return None


class SessionCookies(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, ``Secure`` whenever the request came over HTTPS.

    A request without a session cookie (every bearer-token API call) gets an empty session
    without building the cookie's signing serializer, and an empty, unmodified session is not
    saved: what Flask does too, minus the work on the way to it.
    """

    def get_cookie_secure(self, app: Flask) -> bool:
        configured = bool(app.config["SESSION_COOKIE_SECURE"])
        return configured or (has_request_context() and request.is_secure)

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if app.secret_key and not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if not session and not session.modified:
            if session.accessed:
                response.vary.add("Cookie")
            return
        super().save_session(app, session, response)


def init_app(app: Flask) -> None:
    settings: Settings = app.config["COMPOUND_SETTINGS"]
    if settings.forwarded_proxies:
        n = settings.forwarded_proxies
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n, x_prefix=n
        )
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_SECURE"] = settings.secure_cookies
    app.config["REMEMBER_COOKIE_HTTPONLY"] = True
    app.config["REMEMBER_COOKIE_SAMESITE"] = "Lax"
    app.config["REMEMBER_COOKIE_SECURE"] = settings.secure_cookies
    app.session_interface = SessionCookies()
    app.wsgi_app = SecurityHeaders(app.wsgi_app)  # type: ignore[method-assign]
    app.before_request(refuse_malformed_json)

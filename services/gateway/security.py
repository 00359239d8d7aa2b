"""Security headers on every response, and the session cookie's flags.

* ``Content-Security-Policy`` (:data:`CONTENT_SECURITY_POLICY`): scripts, styles, images,
  fonts and connections from this host only, no inline scripts, no plugins, never framed.
  Inline *styles* are allowed (a style attribute cannot run code); inline scripts are not,
  so a page needing behaviour loads it from ``static/``.
* ``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY`` (for browsers predating
  ``frame-ancestors``), ``Referrer-Policy: same-origin`` (signed links such as feedback
  tokens never leave in a Referer), ``Cross-Origin-Opener-Policy: same-origin``.
* The session cookie is ``HttpOnly`` and ``SameSite=Lax`` always, and ``Secure`` when the
  request arrived over HTTPS (directly, or through ``COMPOUND_FORWARDED_PROXIES`` trusted
  proxies sending ``X-Forwarded-Proto``) or when ``COMPOUND_SECURE_COOKIES`` is set.
"""

from __future__ import annotations

from flask import Flask, Response, has_request_context, request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

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


def add_security_headers(response: Response) -> Response:
    """Runs on every response, so it only copies constants (a view may set its own)."""
    headers = response.headers
    for name, value in SECURITY_HEADERS:
        if name not in headers:
            headers[name] = value
    return response


class SessionCookies(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, ``Secure`` whenever the request came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        configured = bool(app.config["SESSION_COOKIE_SECURE"])
        return configured or (has_request_context() and request.is_secure)


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
    app.after_request(add_security_headers)

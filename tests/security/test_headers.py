"""Security headers on every kind of response, and the session cookie's flags."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from services.gateway import create_app
from services.gateway.security import CONTENT_SECURITY_POLICY, SECURITY_HEADERS
from shared.settings import Settings
from tests.conftest import DemoOrg
from tests.reliability.report import Figures

pytestmark = pytest.mark.integration

# A page, a form page, JSON, problem+json (401, 404, 405), a static file, the API docs.
PATHS = [
    "/login",
    "/healthz",
    "/api/v1/me",
    "/api/v1/openapi.json",
    "/no/such/page",
    "/api/v1/docs",
    "/static/compound.css",
]


def directives(policy: str) -> dict[str, list[str]]:
    out = {}
    for part in policy.split(";"):
        name, *values = part.split()
        out[name] = values
    return out


@pytest.mark.parametrize("path", PATHS)
def test_every_response_carries_the_security_headers(client: FlaskClient, path: str) -> None:
    with client.get(path) as response:
        assert response.status_code < 500
        assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"] == "same-origin"


def test_the_policy_refuses_inline_scripts_other_hosts_and_framing() -> None:
    policy = directives(CONTENT_SECURITY_POLICY)
    assert policy["script-src"] == ["'self'"]  # no 'unsafe-inline', no 'unsafe-eval', no hosts
    assert policy["default-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    for values in policy.values():
        assert not any(v.startswith(("http:", "https:", "*")) for v in values), policy


def test_a_refused_method_still_has_the_headers(client: FlaskClient) -> None:
    response = client.put("/healthz")
    assert response.status_code == 405
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY


def test_no_page_served_here_has_an_inline_script(client: FlaskClient) -> None:
    """The policy would block one; the API docs page loads its start-up code from a file."""
    for path in ("/login", "/api/v1/docs"):
        html = client.get(path).get_data(as_text=True)
        scripts = html.split("<script")[1:]
        assert all(" src=" in tag.split(">", 1)[0] for tag in scripts), path
        for tag in scripts:
            src = tag.split('src="', 1)[1].split('"', 1)[0]
            assert src.startswith("/"), src  # this host only
            with client.get(src) as script:
                assert script.status_code == 200, src


def login_cookie(client: FlaskClient, org: DemoOrg, **environ: str) -> str:
    cookies = login_set_cookies(client, org, **environ)
    session_cookies = [c for c in cookies if c.startswith("session=")]
    assert session_cookies, cookies
    return session_cookies[-1]


def login_set_cookies(client: FlaskClient, org: DemoOrg, **environ: str) -> list[str]:
    """The ``Set-Cookie`` headers of the login page and of logging in through it."""
    host = client.application.config.get("SERVER_NAME") or "localhost"
    page = client.get("/login", environ_overrides=environ)
    html = page.get_data(as_text=True)
    csrf = html.split('name="csrf_token"', 1)[1].split('value="', 1)[1].split('"', 1)[0]
    response = client.post(
        "/login",
        data={"email": org.emails["platform-1"], "password": org.password, "csrf_token": csrf},
        environ_overrides=environ,
        # Over HTTPS Flask-WTF also checks the Referer is this host, as a browser sends it.
        headers={"Referer": f"https://{host}/login"},
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return page.headers.getlist("Set-Cookie") + response.headers.getlist("Set-Cookie")


def flags(cookie: str) -> set[str]:
    return {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]} | {
        part.strip().lower() for part in cookie.split(";")[1:] if "samesite" in part.lower()
    }


def test_session_cookie_is_httponly_and_lax_and_not_secure_over_plain_http(
    client: FlaskClient, org: DemoOrg
) -> None:
    cookie = login_cookie(client, org)
    assert {"httponly", "samesite=lax"} <= flags(cookie)
    assert "secure" not in flags(cookie)  # a plain-HTTP demo must still be able to log in


def test_session_cookie_is_secure_over_https(client: FlaskClient, org: DemoOrg) -> None:
    cookie = login_cookie(client, org, **{"wsgi.url_scheme": "https"})
    assert {"httponly", "samesite=lax", "secure"} <= flags(cookie)


@pytest.fixture
def behind_tls_proxy(settings: Settings) -> Iterator[Flask]:
    """A gateway behind one TLS-terminating proxy (``COMPOUND_FORWARDED_PROXIES=1``)."""
    from dataclasses import replace

    app = create_app(
        {
            "COMPOUND_SETTINGS": replace(settings, forwarded_proxies=1),
            "TESTING": True,
            "RATELIMIT_ENABLED": False,
        }
    )
    yield app
    app.extensions["compound"].close()


def test_session_cookie_is_secure_behind_a_trusted_tls_proxy(
    behind_tls_proxy: Flask, org: DemoOrg
) -> None:
    client = behind_tls_proxy.test_client()
    cookie = login_cookie(client, org, HTTP_X_FORWARDED_PROTO="https")
    assert "secure" in flags(cookie)
    # Without the header, the same app sends no Secure flag (nothing to trust).
    assert "secure" not in flags(login_cookie(behind_tls_proxy.test_client(), org))


def test_forwarded_proto_is_ignored_without_a_trusted_proxy(
    client: FlaskClient, org: DemoOrg
) -> None:
    cookie = login_cookie(client, org, HTTP_X_FORWARDED_PROTO="https")
    assert "secure" not in flags(cookie)


def test_secure_cookies_setting_forces_the_flag(settings: Settings, org: DemoOrg) -> None:
    from dataclasses import replace

    app = create_app(
        {
            "COMPOUND_SETTINGS": replace(settings, secure_cookies=True),
            "TESTING": True,
            "RATELIMIT_ENABLED": False,
        }
    )
    try:
        assert "secure" in flags(login_cookie(app.test_client(), org))
    finally:
        app.extensions["compound"].close()


_FORWARDED = {"HTTP_X_FORWARDED_PROTO": "https"}


def test_cookie_flags_and_headers_in_every_setting(
    app: Flask, behind_tls_proxy: Flask, org: DemoOrg, figures: Figures
) -> None:
    """The cookie row of docs/reliability.md: each way a request can reach the gateway, the
    cookies a login sets (the session cookie only: no remember-me cookie, whose flags
    Flask-Login would set without the request's scheme in mind) and their flags."""
    cases = [
        ("plain HTTP", app, {}, False),
        ("HTTPS", app, {"wsgi.url_scheme": "https"}, True),
        ("X-Forwarded-Proto without a trusted proxy", app, _FORWARDED, False),
        ("behind 1 trusted TLS proxy", behind_tls_proxy, _FORWARDED, True),
    ]
    for label, gateway, environ, secure in cases:
        cookies = login_set_cookies(gateway.test_client(), org, **environ)
        assert {c.split("=", 1)[0] for c in cookies} == {"session"}, (label, cookies)
        for cookie in cookies:
            assert {"httponly", "samesite=lax"} <= flags(cookie), label
            assert ("secure" in flags(cookie)) == secure, label
    client = app.test_client()
    for path in PATHS:
        with client.get(path) as response:
            assert all(response.headers.get(n) == v for n, v in SECURITY_HEADERS), path
    figures.record(
        "cookies-and-headers",
        "Security",
        "session cookie HttpOnly and SameSite=Lax always, Secure over HTTPS and behind a "
        "trusted TLS proxy (X-Forwarded-Proto, COMPOUND_FORWARDED_PROXIES), not over plain "
        "HTTP nor on an untrusted X-Forwarded-Proto; no other cookie; the security headers "
        "(CSP, nosniff, frame and referrer policies) on every kind of response",
        "tests/security/test_headers.py",
        ways_of_arriving_checked=len(cases),
        responses_checked_for_headers=len(PATHS),
        headers_per_response=len(SECURITY_HEADERS),
    )

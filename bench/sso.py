"""Single sign-on (issue 21): the server time of ``GET /auth/oidc/callback``.

The local provider runs as its own process (``compound calendar-provider``, its OpenID
Connect side); the gateway runs in this process and is called through Flask's test client,
so the time measured is the gateway's own work for the callback: taking the sign-in's note
from the cookie, the code exchange with the provider over HTTP (PKCE verifier, client
secret), the ID token's checks (RS256 signature against the cached JWKS, claims), finding
the person and starting the portal session.

Each sign-in starts at the login page (e-mail only) and passes the provider (signed in
there once per person, then straight through as with a real provider's session); only the
callback is timed. The first sign-in of each person (which links their identity: events
and rows) is reported apart from the later ones. Target: a median under 100 ms (the
figures of docs/benchmarks.md are medians); the p95 is shown beside it.

Run it alone: ``.venv/bin/python -m bench --only sso --no-write``.
"""

from __future__ import annotations

import html
import re
import secrets
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from bench.calendar import PASSWORD as PROVIDER_PASSWORD
from bench.calendar import Provider
from bench.common import Context, Section, median, percentile, redis_url, verdict
from shared.commands import OrganizationCommands, system_actor
from shared.eventlog import generate_master_key
from shared.settings import Settings
from shared.sso.store import configure

TITLE = "SSO callback"
PEOPLE = 20
TARGET_S = 0.100
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_CONTINUE = re.compile(r'<a href="([^"]+)" data-sso-continue>')


def _progress(message: str) -> None:
    print(f"  [sso] {message}", flush=True)


def _callback_path(app: Any, provider: requests.Session, email: str) -> tuple[Any, str]:
    """Log in with the e-mail only, pass the provider; the callback's path and query."""
    client = app.test_client()
    token = _CSRF.search(client.get("/login").get_data(as_text=True))
    assert token, "no CSRF token on the login page"
    answer = client.post("/login", data={"csrf_token": token.group(1), "email": email})
    assert answer.status_code == 200, answer.status_code
    found = _CONTINUE.search(answer.get_data(as_text=True))
    assert found, "no link to the provider"
    authorize = html.unescape(found.group(1))
    page = provider.get(authorize, allow_redirects=False, timeout=10)
    if page.status_code == 200:
        page = provider.post(
            authorize,
            data={"email": email, "password": PROVIDER_PASSWORD},
            allow_redirects=False,
            timeout=10,
        )
    assert page.status_code == 302, page.text
    back = urlsplit(page.headers["Location"])
    return client, f"{back.path}?{back.query}"


def _timed_callback(app: Any, provider: requests.Session, email: str) -> float:
    client, path = _callback_path(app, provider, email)
    began = time.perf_counter()
    response = client.get(path)
    elapsed = time.perf_counter() - began
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return elapsed


def run(ctx: Context) -> Section:
    from services.gateway import create_app

    timings: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="compound-bench-sso-") as tmp:
        provider = Provider(Path(tmp))
        try:
            with redis_url(Path(tmp)) as redis:
                phase = time.perf_counter()
                settings = Settings(
                    database_url=ctx.database_url,
                    redis_url=redis,
                    master_keys=(generate_master_key(),),
                    secret_key=secrets.token_hex(32),
                    public_url="http://127.0.0.1:1",  # the provider's registered origin
                )
                app = create_app(
                    {
                        "COMPOUND_SETTINGS": settings,
                        "RATELIMIT_ENABLED": False,
                        "RATELIMIT_KEY_PREFIX": f"bench-sso-{uuid.uuid4().hex}",
                    }
                )
                emails = _organisation(app, provider)
                timings["setup"] = time.perf_counter() - phase
                _progress(f"{PEOPLE} people; first sign-ins, then the timed ones")
                phase = time.perf_counter()
                sessions = {email: requests.Session() for email in emails}
                first = [_timed_callback(app, sessions[e], e) for e in emails]
                calls = max(ctx.rounds * 20, 100)
                later = [
                    _timed_callback(app, sessions[emails[i % PEOPLE]], emails[i % PEOPLE])
                    for i in range(calls)
                ]
                timings["sign-ins"] = time.perf_counter() - phase
                app.extensions["compound"].close()
        finally:
            provider.stop()
    return _section(ctx, first, later, timings)


def _organisation(app: Any, provider: Provider) -> list[str]:
    store = app.extensions["compound"].store
    domain = f"bench-{uuid.uuid4().hex[:6]}.test"
    commands = OrganizationCommands(store)
    tenant, _admin = commands.create_organization(
        f"SSO bench {domain}", f"admin@{domain}", "bench-password-1", "Admin"
    )
    emails = []
    for i in range(PEOPLE):
        invited = commands.invite(system_actor(tenant, "bench"), f"person-{i}@{domain}")
        commands.accept_invitation(tenant, invited.person_id, f"Person {i}", "bench-password-1")
        emails.append(f"person-{i}@{domain}")
    configure(
        store,
        system_actor(tenant, "bench"),
        {
            "issuer": provider.url,
            "client_id": "bench",
            "client_secret": provider.secret,
            "domains": [domain],
        },
    )
    return emails


def _section(
    ctx: Context, first: list[float], later: list[float], timings: dict[str, float]
) -> Section:
    p95 = percentile(later, 0.95)
    ok = median(later) < TARGET_S
    rows = [
        (
            f"Callback, returning person (median of {len(later)})",
            f"{median(later) * 1000:.1f} ms (p95 {p95 * 1000:.1f} ms)",
            f"median < {TARGET_S * 1000:.0f} ms",
            verdict(ok),
        ),
        (
            f"Callback, first sign-in: identity linked (median of {len(first)})",
            f"{median(first) * 1000:.1f} ms (p95 {percentile(first, 0.95) * 1000:.1f} ms)",
            "(reported)",
            "",
        ),
    ]
    method = """How it is measured: the local provider runs as its own process; the gateway
runs in the benchmark's process and is called through Flask's test client, so each figure is
the gateway's own time for `GET /auth/oidc/callback`: the note from the cookie, the code
exchange over HTTP with the provider (PKCE, client secret), the ID token's RS256 signature
against the cached JWKS and its claims, the person (by linked identity; on a first sign-in
by verified e-mail, appending `SsoIdentityLinked`) and the new portal session. The login
page and the provider's page are passed before each callback but not timed."""
    raw = {"first_seconds": first, "later_seconds": later, "phase_seconds": timings}
    return Section.build(
        TITLE,
        ok,
        [(("Measure", "Result", "Target", "Verdict"), rows)],
        method,
        timings,
        ctx.machine.markdown(),
        raw,
    )

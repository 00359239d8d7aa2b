"""What the server-side session look-up costs a request (issue #20), for bench/gateway.py.

* The look-up itself: :func:`shared.sessions.caller_for` (the one statement every request
  with a session cookie runs, ``web_sessions`` joined with ``people``), timed in this process
  against the run's database. Target: a median of at most 1 ms.
* Over HTTP, for scale: one employee logs in through the login page (``GET /login`` for the
  CSRF token, ``POST /login``) and keeps the session cookie; then ``GET /api/v1/me`` is sent
  over one keep-alive connection in alternating rounds with that cookie and with the same
  person's bearer token. The cookie's requests also pay for Flask's signed cookie and
  Flask-Login, as they did before sessions moved to the server.

Run it alone with the gateway section: ``.venv/bin/python -m bench --only gateway --no-write``.
"""

from __future__ import annotations

import http.client
import re
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlencode

from sqlalchemy import Engine

from bench.common import median
from shared import sessions
from shared.sessions import Lifetimes

Login = tuple[str, str, str]  # e-mail, password, bearer token

REQUESTS_PER_ROUND = 400
LOOKUP_TARGET = 0.001  # seconds: the session look-up's median, at most
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_COOKIE = re.compile(r"(session=[^;]+)")


@dataclass
class Lookup:
    lookup_p50: float  # shared.sessions.caller_for: median of the rounds' medians
    cookie_p50: float  # GET /api/v1/me with the session cookie: median of the rounds' medians
    token_p50: float  # the same with the bearer token
    requests: int  # per credential (and look-ups), all rounds


def _cookie(headers: list[tuple[str, str]]) -> str:
    for name, value in headers:
        found = _COOKIE.search(value) if name.lower() == "set-cookie" else None
        if found:
            return found.group(1)
    raise RuntimeError(f"no session cookie in {headers}")


def portal_login(port: int, email: str, password: str) -> str:
    """Log in through the login page as a browser does; returns the ``Cookie`` header."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", "/login")
        response = conn.getresponse()
        page = response.read().decode()
        cookie, token = _cookie(response.getheaders()), _CSRF.search(page)
        if token is None:
            raise RuntimeError("the login page has no CSRF token")
        form = urlencode({"email": email, "password": password, "csrf_token": token.group(1)})
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}
        conn.request("POST", "/login", body=form, headers=headers)
        response = conn.getresponse()
        response.read()
        if response.status != 302:
            raise RuntimeError(f"the portal login answered {response.status}")
        return _cookie(response.getheaders())
    finally:
        conn.close()


def _round(conn: http.client.HTTPConnection, headers: dict[str, str]) -> list[float]:
    latencies = []
    for _ in range(REQUESTS_PER_ROUND):
        start = time.perf_counter()
        conn.request("GET", "/api/v1/me", headers=headers)
        response = conn.getresponse()
        response.read()
        latencies.append(time.perf_counter() - start)
        if response.status != 200:
            raise RuntimeError(f"GET /api/v1/me answered {response.status}")
    return latencies


def _lookups(engine: Engine, secret: str) -> list[float]:
    latencies = []
    for _ in range(REQUESTS_PER_ROUND):
        start = time.perf_counter()
        found = sessions.caller_for(engine, secret, datetime.now(UTC), Lifetimes())
        latencies.append(time.perf_counter() - start)
        if found is None:
            raise RuntimeError("the session was not found")
    return latencies


def measure(
    port: int, engine: Engine, person: tuple[uuid.UUID, uuid.UUID], login: Login, rounds: int
) -> Lookup:
    """Time the look-up, then alternate rounds of cookie and token requests (each after one
    untimed round).

    Parameters:
        port: the gateway's port on 127.0.0.1.
        engine: an engine on the run's database.
        person: an employee's ``(tenant id, person id)``.
        login: the same employee's e-mail, password and bearer token.
        rounds: timed rounds of each.

    Returns:
        The medians.
    """
    _, secret = sessions.start(
        engine, *person, "bench", "127.0.0.1", datetime.now(UTC), Lifetimes()
    )
    _lookups(engine, secret)
    lookups = [median(_lookups(engine, secret)) for _ in range(rounds)]
    email, password, token = login
    cookie = {"Cookie": portal_login(port, email, password)}
    bearer = {"Authorization": f"Bearer {token}"}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        _round(conn, cookie)  # warm-up: pools, prepared statements
        _round(conn, bearer)
        by_cookie, by_token = [], []
        for _ in range(rounds):
            by_cookie.append(median(_round(conn, cookie)))
            by_token.append(median(_round(conn, bearer)))
    finally:
        conn.close()
    requests = rounds * REQUESTS_PER_ROUND
    return Lookup(median(lookups), median(by_cookie), median(by_token), requests)

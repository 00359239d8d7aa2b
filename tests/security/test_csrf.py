"""CSRF: every state-changing route of the gateway, pages and API alike, refuses a
session-authenticated request without the CSRF token, and writes nothing.

The routes come from the app's URL map, so a route added later is checked without a change
here (API routes with a bearer token need no CSRF token: no browser sends one by itself).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from shared.eventlog import EventStore
from tests.api.conftest import Person
from tests.reliability.report import Figures
from tests.security.pages import log_in

pytestmark = pytest.mark.integration

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
# Routes that act on no session, so a forged cross-site request gains nothing from one:
NO_SESSION_ROUTES = {
    ("POST", "/api/v1/auth/token"),  # credentials in the body; the answer is unreadable cross-site
    ("POST", "/f/<token>"),  # a colleague's answer: the signed link is the secret, no login
    # Slack's request URLs: its signature is the credential (tests/slack/test_signatures.py)
    ("POST", "/slack/commands"),
    ("POST", "/slack/interactivity"),
    ("POST", "/slack/events"),
    # the Teams bot's messaging endpoint: the Bot Framework's token is the credential
    # (tests/msteams/test_tokens.py)
    ("POST", "/msteams/messages"),
    # SCIM: an identity provider's bearer token is the only credential (a session is ignored)
    *(
        (method, f"/scim/v2/{rule}")
        for rule, methods in {
            "Users": ("POST",),
            "Users/<user_id>": ("PUT", "PATCH", "DELETE"),
            "Groups": ("POST",),
            "Groups/<group_id>": ("PUT", "PATCH", "DELETE"),
            ".search": ("POST",),
            "<path:path>": ("POST", "PUT", "PATCH", "DELETE"),
        }.items()
        for method in methods
    ),
}
SAMPLE = {"uuid": str(uuid.uuid4()), "int": "1", "path": "x", "float": "1.0"}


def concrete(rule: str) -> str:
    """``/people/<uuid:person_id>/role`` -> a URL the rule matches."""

    def value(match: re.Match[str]) -> str:
        converter, _, name = match.group(1).rpartition(":")
        if converter.startswith("any("):
            return converter[4:].split(",")[0].strip(" )'\"")
        if converter in SAMPLE:
            return SAMPLE[converter]
        return "2026-W48" if "week" in name else "x"

    return re.sub(r"<([^>]+)>", value, rule)


def unsafe_routes(app: Flask) -> list[tuple[str, str]]:
    routes = []
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) & UNSAFE):
            routes.append((method, rule.rule))
    return sorted(routes)


def test_every_state_changing_route_needs_the_csrf_token(
    app: Flask,
    client: FlaskClient,
    new_person: Callable[..., Person],
    store: EventStore,
    figures: Figures,
) -> None:
    person = new_person()
    log_in(client, person.email, person.password)
    routes = unsafe_routes(app)
    assert len(routes) >= 20, routes  # the map was read: the loop below means something
    head = store.head()
    accepted = []
    refused_for_csrf = []
    for method, rule in routes:
        url = concrete(rule)
        response = client.open(url, method=method, data={"note": "csrf probe"})
        # 400 (CSRF refused), or a refusal before it: 404/405 for a sample id that names
        # nothing; never a success, never a redirect that means "done".
        if response.status_code < 400 and response.status_code != 302:
            accepted.append((method, rule, response.status_code))
        elif response.status_code == 302:
            accepted.append((method, rule, 302))
        elif response.status_code == 400 and "csrf" in response.get_data(as_text=True).lower():
            refused_for_csrf.append((method, rule))
        else:
            assert response.status_code in (401, 403, 404, 405, 410, 413, 422), (
                method,
                rule,
                response.status_code,
            )
    assert not accepted, f"state-changing routes without a CSRF check: {accepted}"
    others = sorted(set(routes) - set(refused_for_csrf))
    assert others == sorted(NO_SESSION_ROUTES), f"not refused for CSRF: {others}"
    assert store.head() == head, "a request without its CSRF token wrote events"
    # The session still works with the token: the probe above was refused for the token only.
    page = client.get("/login")
    assert page.status_code in (200, 302)
    figures.record(
        "csrf",
        "Security",
        "every state-changing route (from the URL map, pages and API) refuses a "
        "session-authenticated request without its CSRF token and writes nothing",
        "tests/security/test_csrf.py",
        routes_checked=len(routes),
        refused_for_the_missing_token=len(refused_for_csrf),
        accepted_without_token=0,
        events_written=0,
    )

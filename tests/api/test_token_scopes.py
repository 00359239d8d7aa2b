"""Scoped, expiring personal access tokens (issue #20), over HTTP.

Each scope opens its routes and only those (403 problem+json naming the missing scope); a
lifetime runs from 1 to 365 days; a token never mints a token; a token made before scopes
existed keeps every scope and ends 90 days after its creation.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from services.gateway.api import BLUEPRINTS
from services.gateway.scopes import _BY_BLUEPRINT
from shared.commands import Actor, OrganizationCommands
from shared.commands.base import append
from shared.domain.scopes import SCOPES
from shared.eventlog import EventStore, NewEvent
from shared.security import new_token
from tests.api.conftest import Person, assert_problem
from tests.api.test_sessions import csrf_of, mint
from tests.conftest import DemoOrg
from tests.security.pages import log_in

pytestmark = pytest.mark.integration

ACTION = {"tactic": "regular_signaling", "minutes": 10, "audience": "team"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def token_of(store: EventStore, org: DemoOrg, who: str, scopes: list[str], **kw: Any) -> str:
    role = "admin" if who == "admin" else "employee"
    actor = Actor(tenant_id=org.tenant_id, person_id=org.people[who], role=role, source="test")
    _, token = OrganizationCommands(store).create_token(actor, "scoped", scopes=scopes, **kw)
    return token


def routes(org: DemoOrg) -> dict[str, tuple[str, str, str, Any]]:
    """One route per scope: (who calls it, method, path, body)."""
    levers = f"/api/v1/teams/{org.teams['platform']}/levers"
    return {
        "journal:read": ("platform-1", "GET", "/api/v1/me/capital", None),
        "journal:write": ("platform-1", "POST", "/api/v1/actions", ACTION),
        "levers:read": ("platform-manager", "GET", levers, None),
        "admin": ("admin", "GET", "/api/v1/people", None),
    }


@pytest.mark.parametrize("scope", SCOPES)
def test_each_scope_opens_its_routes_and_only_those(
    scope: str, client: FlaskClient, store: EventStore, org: DemoOrg
):
    for route_scope, (who, method, path, body) in routes(org).items():
        # Only an admin holds ``admin``; an admin may call every route of the table.
        token = token_of(store, org, "admin" if scope == "admin" else who, [scope])
        response = client.open(path, method=method, json=body, headers=bearer(token))
        if route_scope == scope:
            assert 200 <= response.status_code < 300, (scope, path, response.get_json())
        else:
            problem = assert_problem(response, 403, "scope")
            assert route_scope in problem["detail"], problem
        # Who am I answers every valid token, whatever its scopes.
        assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200


def test_a_scope_is_a_ceiling_not_a_grant(client: FlaskClient, store: EventStore, org: DemoOrg):
    """An employee cannot hold ``admin``; their journal token cannot erase anyone else."""
    actor = Actor(tenant_id=org.tenant_id, person_id=org.people["platform-2"], source="test")
    with pytest.raises(Exception, match="cannot be made"):
        OrganizationCommands(store).create_token(actor, "x", scopes=["admin"])
    token = token_of(store, org, "admin", ["journal:write"])
    other = org.people["payments-2"]
    assert_problem(client.delete(f"/api/v1/people/{other}", headers=bearer(token)), 403, "scope")


def test_every_api_blueprint_has_its_scopes():
    assert {blueprint.name for blueprint in BLUEPRINTS} == set(_BY_BLUEPRINT)


# -- minting: lifetimes and scopes, from a portal session only ---------------------------------


@pytest.fixture
def portal(app: Flask, new_person: Callable[..., Person]) -> FlaskClient:
    person = new_person()
    client = app.test_client()
    log_in(client, person.email, person.password)
    return client


def test_lifetime_from_1_to_365_days(portal: FlaskClient):
    now = datetime.now(UTC)
    default = mint(portal)
    assert default.status_code == 201, default.get_json()
    expires = datetime.fromisoformat(default.get_json()["expires_at"])
    assert abs(expires - (now + timedelta(days=90))) < timedelta(minutes=5)
    assert sorted(default.get_json()["scopes"]) == ["journal:read", "journal:write", "levers:read"]
    longest = mint(portal, expires_in_days=365)
    assert longest.status_code == 201
    expires = datetime.fromisoformat(longest.get_json()["expires_at"])
    assert abs(expires - (now + timedelta(days=365))) < timedelta(minutes=5)
    for days in (366, 0, -1, 10_000):
        assert_problem(mint(portal, expires_in_days=days), 422, "expires_in_days")


def test_scopes_are_checked_when_minting(portal: FlaskClient):
    assert_problem(mint(portal, scopes=["admin"]), 422, "scopes")  # an employee
    assert_problem(mint(portal, scopes=["everything"]), 422, "scopes")
    assert_problem(mint(portal, scopes=[]), 422, "scopes")
    made = mint(portal, scopes=["levers:read", "journal:read"])
    assert made.status_code == 201
    assert made.get_json()["scopes"] == ["journal:read", "levers:read"]  # in their order
    listed = portal.get("/api/v1/me/tokens").get_json()
    assert [t["scopes"] for t in listed if t["id"] == made.get_json()["token_id"]] == [
        ["journal:read", "levers:read"]
    ]
    assert "access_token" not in str(listed) and made.get_json()["access_token"] not in str(listed)


def test_a_token_never_mints_a_token(
    app: Flask, portal: FlaskClient, new_person: Callable[..., Person]
):
    personal = mint(portal).get_json()["access_token"]
    client = app.test_client()
    refused = client.post("/api/v1/me/tokens", headers=bearer(personal), json={"name": "child"})
    assert_problem(refused, 403)
    person = new_person()
    login = client.post(
        "/api/v1/auth/token", json={"email": person.email, "password": person.password}
    )
    login_token = login.get_json()["access_token"]
    refused = client.post("/api/v1/me/tokens", headers=bearer(login_token), json={"name": "c"})
    assert_problem(refused, 403)
    # The portal's own API calls still need the CSRF token.
    assert_problem(portal.post("/api/v1/me/tokens", json={"name": "no csrf"}), 400)
    assert (
        portal.post(
            "/api/v1/me/tokens", json={"name": "csrf"}, headers={"X-CSRFToken": csrf_of(portal)}
        ).status_code
        == 201
    )


def test_tokens_are_minted_and_listed_on_the_account_page(portal: FlaskClient):
    page = portal.get("/account").get_data(as_text=True)
    for scope in ("journal:read", "journal:write", "levers:read"):
        assert f'value="{scope}"' in page
    assert 'value="admin"' not in page  # an employee
    form = {"csrf_token": csrf_of(portal), "name": "cron", "scopes": ["journal:read"]}
    made = portal.post("/account/tokens", data={**form, "expires_in_days": "30"})
    assert made.status_code == 302  # post-redirect-get: the next page shows the token once
    assert "cron" in portal.get(made.headers["Location"]).get_data(as_text=True)
    too_long = portal.post("/account/tokens", data={**form, "expires_in_days": "400"})
    assert too_long.status_code == 422 and "1 to 365 days" in too_long.get_data(as_text=True)
    none = portal.post("/account/tokens", data={"csrf_token": csrf_of(portal), "name": "x"})
    assert none.status_code == 422 and "at least one scope" in none.get_data(as_text=True)


# -- expiry ----------------------------------------------------------------------------------------


def test_an_expired_personal_token_is_refused(client: FlaskClient, store: EventStore, org: DemoOrg):
    past = datetime.now(UTC) - timedelta(days=31)
    token = token_of(store, org, "platform-1", ["journal:read"], now=past, days=30)
    assert_problem(client.get("/api/v1/me", headers=bearer(token)), 401)
    token = token_of(store, org, "platform-1", ["journal:read"], now=past, days=32)
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200


@pytest.mark.parametrize(("age_days", "works"), [(10, True), (91, False)])
def test_a_token_from_before_scopes_keeps_every_scope_for_90_days(
    age_days: int,
    works: bool,
    client: FlaskClient,
    store: EventStore,
    org: DemoOrg,
    new_person: Callable[..., Person],
):
    # A person whose credentials last ended before the old token was made.
    admin = Actor(tenant_id=org.tenant_id, person_id=org.admin, role="admin", source="test")
    commands = OrganizationCommands(store)
    invited = commands.invite(admin, f"old-{uuid.uuid4().hex[:10]}@demo.test", "admin", None)
    commands.accept_invitation(org.tenant_id, invited.person_id, "Old", org.password)
    token, digest = new_token()
    created = datetime.now(UTC) - timedelta(days=age_days)
    event = NewEvent(
        "AccessTokenCreated",
        {
            "token_id": str(uuid.uuid4()),
            "person_id": str(invited.person_id),
            "name": "from 2025",
            "kind": "personal",
            "token_hash": digest,
            "expires_at": None,
        },
        occurred_at=created,
    )
    actor = Actor(tenant_id=org.tenant_id, person_id=invited.person_id, role="admin")
    with store.engine.begin() as conn:
        # Its person's credentials must not have ended after it: joined before it was made.
        conn.exec_driver_sql(
            "UPDATE people SET credentials_valid_after = %s WHERE id = %s",
            (created - timedelta(days=1), invited.person_id),
        )
        append(store, conn, actor, f"person-{invited.person_id}", [event])
    response = client.get("/api/v1/people", headers=bearer(token))  # the admin scope
    if works:
        assert response.status_code == 200, response.get_json()
    else:
        assert_problem(response, 401)

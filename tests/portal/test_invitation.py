"""The invitation page: the password rule shown before any attempt, the person logged in as
soon as they join (no second login), and a used or expired link said at once, without the
form."""

from __future__ import annotations

import re
import time
import uuid

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from services.gateway.auth import invitation_serializer
from shared.commands import Actor, OrganizationCommands
from shared.eventlog import EventStore
from tests.conftest import DemoOrg, make_org
from tests.portal.conftest import csrf_of

pytestmark = pytest.mark.integration

PASSWORD = "a-long-enough-password"


def invited(app: Flask, store: EventStore, org: DemoOrg) -> tuple[uuid.UUID, str]:
    """A new invitation of ``org``: the person's id and the link's path."""
    admin = Actor(tenant_id=org.tenant_id, person_id=org.admin, role="admin", source="test")
    email = f"join-{uuid.uuid4().hex[:10]}@demo.test"
    invitation = OrganizationCommands(store).invite(admin, email, "employee", org.teams["platform"])
    with app.app_context():
        token = invitation_serializer().dumps(
            {"t": str(org.tenant_id), "p": str(invitation.person_id)}
        )
    return invitation.person_id, f"/invite/{token}"


def join(client: FlaskClient, link: str, name: str = "Nia", password: str = PASSWORD):
    form = {"csrf_token": csrf_of(client, link), "display_name": name, "password": password}
    return client.post(link, data=form)


def test_the_password_rule_is_shown_before_any_attempt(
    app: Flask, store: EventStore, org: DemoOrg
) -> None:
    _, link = invited(app, store, org)
    page = app.test_client().get(link)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    hint = re.search(r'<span class="t-hint" id="password-hint">([^<]+)</span>', html)
    assert hint and "At least 10 characters" in hint.group(1)
    assert re.search(r'<input[^>]*aria-describedby="password-hint"[^>]*name="password"', html)
    assert 'class="error' not in html  # nothing failed yet


def test_a_short_password_names_the_rule_beside_the_field(
    app: Flask, store: EventStore, org: DemoOrg
) -> None:
    _, link = invited(app, store, org)
    response = join(app.test_client(), link, password="short")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert '<p class="error" id="password-error">Use 10 to 200 characters.</p>' in html
    assert 'aria-describedby="password-error password-hint"' in html


def test_joining_logs_the_person_in(app: Flask, store: EventStore, org: DemoOrg) -> None:
    person_id, link = invited(app, store, org)
    client = app.test_client()
    response = join(client, link, name="Nia")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    today = client.get("/")
    assert today.status_code == 200  # no login page in between
    html = today.get_data(as_text=True)
    assert "Welcome to Compound, Nia!" in html
    assert client.get("/api/v1/me").get_json()["display_name"] == "Nia"
    with store.engine.connect() as conn:
        signed_in = conn.execute(
            text("SELECT data FROM events WHERE tenant_id = :t AND type = 'SignedIn'"),
            {"t": org.tenant_id},
        ).scalars()
        mine = [d for d in signed_in if d["person_id"] == str(person_id)]
    assert [d["method"] for d in mine] == ["password"]  # in the audit like any login


def test_joining_in_a_browser_where_someone_is_logged_in_ends_their_session(
    app: Flask, store: EventStore, org: DemoOrg
) -> None:
    client = app.test_client()
    before = client.post(
        "/login",
        data={
            "csrf_token": csrf_of(client),
            "email": org.emails["admin"],
            "password": org.password,
        },
    )
    assert before.status_code == 302
    person_id, link = invited(app, store, org)
    assert join(client, link, name="Ines").status_code == 302
    assert client.get("/api/v1/me").get_json()["person_id"] == str(person_id)


def test_a_used_link_says_so_at_once_without_the_form(
    app: Flask, store: EventStore, org: DemoOrg
) -> None:
    _, link = invited(app, store, org)
    assert join(app.test_client(), link).status_code == 302
    again = app.test_client().get(link)
    assert again.status_code == 410
    html = again.get_data(as_text=True)
    assert "This invitation has been used already" in html
    assert '<form method="post" novalidate>' not in html
    assert 'name="password"' not in html
    assert 'href="/login"' in html and 'href="/password/forgot"' in html


def test_an_expired_link_says_so_at_once(
    app: Flask, store: EventStore, org: DemoOrg, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, link = invited(app, store, org)
    issued = time.time
    monkeypatch.setattr(time, "time", lambda: issued() + 15 * 86400)  # read by itsdangerous
    page = app.test_client().get(link)
    assert page.status_code == 410
    html = page.get_data(as_text=True)
    assert "This invitation has expired: ask your admin for a new one." in html
    assert 'name="password"' not in html


def test_an_organisation_requiring_a_second_factor_enrols_right_after_joining(
    app: Flask, store: EventStore
) -> None:
    strict = make_org(store, people_per_team=1)
    headers = strict.headers(app.test_client(), "admin")
    body = {"k": 5, "pulse_cadence_weeks": 1, "require_totp": True}
    assert (
        app.test_client().put("/api/v1/org/settings", json=body, headers=headers).status_code == 200
    )
    _, link = invited(app, store, strict)
    client = app.test_client()
    response = join(client, link)
    assert response.status_code == 302
    assert response.headers["Location"] == "/login/enrol"
    assert client.get("/").status_code == 302  # not logged in before the second factor

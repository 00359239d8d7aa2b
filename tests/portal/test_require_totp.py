"""``require_totp``, the organisation setting: a person without a second factor is sent to
enrolment after the password and reaches nothing else until enrolled; bearer-token logins
are refused until then; nobody can turn theirs off."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from shared.eventlog import EventStore
from tests.conftest import DemoOrg, make_org
from tests.portal.conftest import Member, csrf_of
from tests.portal.second_factor_steps import RECOVERY, code_at, enrol, password_step, secret_on

pytestmark = pytest.mark.integration


@pytest.fixture
def strict_org(app: Flask, store: EventStore) -> DemoOrg:
    """An organisation of its own whose admin required a second factor (over the API)."""
    org = make_org(store, people_per_team=1)
    headers = org.headers(app.test_client(), "admin")
    body = {"k": 5, "pulse_cadence_weeks": 1, "require_totp": True}
    response = app.test_client().put("/api/v1/org/settings", json=body, headers=headers)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["require_totp"] is True
    return org


def test_the_setting_is_kept_and_unchanged_when_not_sent(app: Flask, store: EventStore) -> None:
    org = make_org(store, people_per_team=1)
    client, headers = app.test_client(), org.headers(app.test_client(), "admin")
    employee = org.headers(client, "platform-1")  # a token from before the requirement
    assert client.get("/api/v1/org/settings", headers=headers).get_json()["require_totp"] is False
    body = {"k": 5, "pulse_cadence_weeks": 1, "require_totp": True}
    assert client.put("/api/v1/org/settings", json=body, headers=headers).status_code == 200
    body = {"k": 6, "pulse_cadence_weeks": 2}
    answer = client.put("/api/v1/org/settings", json=body, headers=headers).get_json()
    assert (answer["k"], answer["require_totp"]) == (6, True)
    # The employee's token predates the requirement and they have no factor: it ended.
    refused = client.put(
        "/api/v1/org/settings", json={**body, "require_totp": False}, headers=employee
    )
    assert refused.status_code == 401


def enrol_at_login(client: FlaskClient) -> tuple[str, str]:
    """Enrol on the login's enrolment step; returns (secret, the page after)."""
    secret = secret_on(client.get("/login/enrol").get_data(as_text=True))
    response = client.post(
        "/login/enrol",
        data={"csrf_token": csrf_of(client, "/login/enrol"), "code": code_at(secret)},
    )
    assert response.status_code == 201, response.get_data(as_text=True)[:400]
    return secret, response.get_data(as_text=True)


def test_a_person_without_a_factor_enrols_before_anything_else(
    app: Flask, strict_org: DemoOrg, store: EventStore
) -> None:
    client = app.test_client()
    email, password = strict_org.emails["platform-1"], strict_org.password
    assert password_step(client, email, password, "/plan") == "/login/enrol"
    for path in ("/", "/plan", "/account", "/account/second-factor", "/api/v1/me"):
        assert client.get(path).status_code in (302, 401), path
    assert client.get("/login/code").status_code == 302  # not the code step: enrolment
    # A wrong code keeps them on the step, with the same key.
    first = secret_on(client.get("/login/enrol").get_data(as_text=True))
    wrong = client.post(
        "/login/enrol", data={"csrf_token": csrf_of(client, "/login/enrol"), "code": "x"}
    )
    assert wrong.status_code == 422
    assert secret_on(wrong.get_data(as_text=True)) == first
    secret, page = enrol_at_login(client)
    assert secret == first
    assert len(RECOVERY.findall(page)) == 10
    assert 'href="/plan"' in page  # continue to where they were going
    assert client.get("/plan").status_code == 200
    assert client.get("/api/v1/me").status_code == 200
    person = strict_org.people["platform-1"]
    signed_in = store.read_stream(f"activity-{person}")  # the audit's sign-in: how
    assert [(e.type, e.data["method"]) for e in signed_in] == [("SignedIn", "password+totp")]


def test_bearer_token_logins_wait_for_enrolment(app: Flask, strict_org: DemoOrg) -> None:
    client = app.test_client()
    body = {"email": strict_org.emails["payments-1"], "password": strict_org.password}
    response = client.post("/api/v1/auth/token", json=body)
    assert response.status_code == 403
    assert response.get_json()["type"].endswith("/totp-enrolment-required")
    password_step(client, body["email"], body["password"])
    secret, _ = enrol_at_login(client)
    response = client.post("/api/v1/auth/token", json={**body, "totp": code_at(secret, 1)})
    assert response.status_code == 200, response.get_json()


def test_nobody_turns_a_required_factor_off(app: Flask, strict_org: DemoOrg) -> None:
    client = app.test_client()
    email = strict_org.emails["platform-manager"]
    password_step(client, email, strict_org.password)
    enrol_at_login(client)
    m = Member(strict_org.people["platform-manager"], email, strict_org.password, client)
    page = m.page("/account/second-factor")
    assert "requires a second factor for everyone" in page
    refused = m.post("/account/second-factor/remove", {"password": strict_org.password})
    assert refused.status_code == 409
    assert 'data-second-factor="on"' in refused.get_data(as_text=True)


def test_an_admin_requires_it_on_the_page(app: Flask, store: EventStore) -> None:
    org = make_org(store, people_per_team=1)
    admin = app.test_client()
    assert password_step(admin, org.emails["admin"], org.password) == "/"
    page = Member(org.admin, org.emails["admin"], org.password, admin)
    assert "Require a second factor of everyone" in page.page("/account/second-factor")
    saved = page.post("/account/second-factor/organisation", {"require_totp": "on"})
    assert saved.status_code == 302
    body = {"email": org.emails["admin"], "password": org.password}
    answer = app.test_client().post("/api/v1/auth/token", json=body)
    assert answer.status_code == 403  # a bearer login waits for the admin's enrolment too
    assert admin.get("/account/second-factor").status_code == 200  # this session goes on
    employee = app.test_client()
    email = org.emails["platform-1"]
    assert password_step(employee, email, org.password) == "/login/enrol"
    # An employee cannot change it.
    other = make_org(store, people_per_team=1)
    client = app.test_client()
    password_step(client, other.emails["platform-1"], other.password)
    member = Member(other.people["platform-1"], other.emails["platform-1"], other.password, client)
    refused = member.post("/account/second-factor/organisation", {})
    assert refused.status_code == 403


def test_requiring_it_ends_the_sessions_and_tokens_of_those_without_one(
    app: Flask, store: EventStore
) -> None:
    """Sessions and tokens made without a second factor end when one becomes required (the
    admin deciding keeps theirs); those of people with a factor go on; saving the settings
    again ends nothing more."""
    org = make_org(store, people_per_team=1)
    admin = org.headers(app.test_client(), "admin")
    portal = app.test_client()
    assert password_step(portal, org.emails["platform-1"], org.password) == "/"
    assert portal.get("/plan").status_code == 200
    token = org.headers(app.test_client(), "platform-1")
    enrolled = app.test_client()
    password_step(enrolled, org.emails["platform-manager"], org.password)
    enrol(
        Member(
            org.people["platform-manager"], org.emails["platform-manager"], org.password, enrolled
        )
    )

    body = {"k": 5, "pulse_cadence_weeks": 1, "require_totp": True}
    client = app.test_client()
    assert client.put("/api/v1/org/settings", json=body, headers=admin).status_code == 200

    gone = portal.get("/plan")
    assert gone.status_code == 302 and "/login" in gone.headers["Location"]
    assert client.get("/api/v1/me", headers=token).status_code == 401
    assert enrolled.get("/plan").status_code == 200  # had a factor: goes on
    assert client.get("/api/v1/org/settings", headers=admin).status_code == 200  # the admin's

    # Back in through enrolment; saving the settings again ends nothing.
    assert password_step(portal, org.emails["platform-1"], org.password) == "/login/enrol"
    enrol_at_login(portal)
    assert portal.get("/plan").status_code == 200
    body = {"k": 6, "pulse_cadence_weeks": 1, "require_totp": True}
    assert client.put("/api/v1/org/settings", json=body, headers=admin).status_code == 200
    assert portal.get("/plan").status_code == 200

"""``/login?next=``: after a successful login the browser goes to a local page only; the
known bypasses (the issue's ``/%09/evil.example`` first) land on the portal's home instead."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from flask import Flask

from tests.conftest import DemoOrg
from tests.unit.test_redirects import BYPASSES

pytestmark = pytest.mark.integration

CSRF = re.compile(r'"X-CSRFToken": "([^"]+)"')


def login_location(app: Flask, org: DemoOrg, target: str) -> str:
    """Where ``POST /login?next=<target>`` (a successful login) redirects to."""
    client = app.test_client()
    query = f"?next={quote(target, safe='')}"
    token = CSRF.search(client.get(f"/login{query}").get_data(as_text=True))
    assert token
    form = {
        "csrf_token": token.group(1),
        "email": org.emails["platform-1"],
        "password": org.password,
    }
    response = client.post(f"/login{query}", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return str(response.headers["Location"])


@pytest.mark.parametrize("target", BYPASSES)
def test_a_bypass_lands_on_the_portal_home(app: Flask, org: DemoOrg, target: str) -> None:
    location = login_location(app, org, target)
    assert location == "/", location


def test_the_issue_case_sent_raw_lands_on_the_portal_home(app: Flask, org: DemoOrg) -> None:
    client = app.test_client()
    token = CSRF.search(client.get("/login").get_data(as_text=True))
    assert token
    form = {
        "csrf_token": token.group(1),
        "email": org.emails["platform-1"],
        "password": org.password,
    }
    response = client.post("/login?next=/%09/evil.example", data=form)
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_a_local_page_is_kept(app: Flask, org: DemoOrg) -> None:
    assert login_location(app, org, "/capital?week=2026-W49") == "/capital?week=2026-W49"

"""The reader's language in the gateway: their own choice, then their browser's
``Accept-Language``, then their organisation's default, then English; the organisation's
default set by an admin over the API; a hostile header never breaks a page."""

from __future__ import annotations

import re
import uuid

import pytest
from flask import Flask
from flask.testing import FlaskClient

from shared.commands import Actor
from shared.domain.errors import InvalidInput
from shared.eventlog import EventStore
from shared.i18n.preferences import choose_language, recipient_locale
from tests.conftest import DemoOrg, make_org
from tests.portal.conftest import csrf_of

NAV = re.compile(r'<nav aria-label="[^"]*">\s*<a href="/"[^>]*>([^<]+)</a>')


def logged_in(app: Flask, email: str, password: str) -> FlaskClient:
    client = app.test_client()
    response = client.post(
        "/login", data={"csrf_token": csrf_of(client), "email": email, "password": password}
    )
    assert response.status_code == 302
    return client


def first_tab(client: FlaskClient, accept_language: str | None = None) -> tuple[str, str]:
    """``(the html lang, the first tab of the navigation)`` of the today page."""
    headers = {"Accept-Language": accept_language} if accept_language is not None else {}
    response = client.get("/", headers=headers)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    lang = re.search(r'<html lang="([^"]+)"', html)
    tab = NAV.search(html)
    assert lang and tab, html[:2000]
    return lang.group(1), tab.group(1)


def test_the_person_then_the_browser_then_the_organisation(app: Flask, store: EventStore):
    org = make_org(store, people_per_team=1)
    client = logged_in(app, org.emails["platform-1"], org.password)
    assert first_tab(client) == ("en", "Today")
    assert first_tab(client, "de-DE,de;q=0.9,en;q=0.8") == ("de", "Heute")
    assert first_tab(client, "fr-CA") == ("fr", "Aujourd'hui")

    person = Actor(tenant_id=org.tenant_id, person_id=org.people["platform-1"], source="test")
    choose_language(store, person, "fr")
    assert first_tab(client, "de") == ("fr", "Aujourd'hui")  # their choice beats the browser
    choose_language(store, person, "")
    assert first_tab(client, "de") == ("de", "Heute")  # automatic again

    admin = _admin_client(app, org)
    response = admin.patch(
        "/api/v1/org/settings", json={"default_locale": "de"}, headers=org.headers(admin, "admin")
    )
    assert response.status_code == 200 and response.get_json()["default_locale"] == "de"
    assert first_tab(client) == ("de", "Heute")  # no header: the organisation's default
    assert first_tab(client, "fr") == ("fr", "Aujourd'hui")  # the browser beats it
    assert first_tab(client, "es, ja") == ("de", "Heute")  # none Compound has: the default
    with app.extensions["compound"].engine.connect() as conn:
        assert recipient_locale(conn, org.tenant_id, org.people["platform-1"]) == "de"
    choose_language(store, person, "en")
    with app.extensions["compound"].engine.connect() as conn:
        assert recipient_locale(conn, org.tenant_id, org.people["platform-1"]) == "en"


def test_one_organisations_default_is_not_anothers(app: Flask, store: EventStore, org: DemoOrg):
    other = make_org(store, people_per_team=1)
    admin = _admin_client(app, other)
    response = admin.patch(
        "/api/v1/org/settings", json={"default_locale": "fr"}, headers=other.headers(admin, "admin")
    )
    assert response.status_code == 200
    client = logged_in(app, org.emails["platform-1"], org.password)
    assert first_tab(client) == ("en", "Today")


def test_a_bad_language_is_refused_with_a_field_message(app: Flask, store: EventStore):
    org = make_org(store, people_per_team=1)
    admin = _admin_client(app, org)
    headers = org.headers(admin, "admin")
    for value in ("xx", "", None, 3, "de" * 100):
        response = admin.patch(
            "/api/v1/org/settings", json={"default_locale": value}, headers=headers
        )
        assert response.status_code == 422, value
        assert response.content_type == "application/problem+json"
        assert "default_locale" in response.get_json()["errors"]
    assert admin.get("/api/v1/org/settings", headers=headers).get_json()["default_locale"] == "en"
    person = Actor(tenant_id=org.tenant_id, person_id=org.people["platform-1"], source="test")
    for locale in ("xx", "de-DE", "EN", " "):
        with pytest.raises(InvalidInput) as refused:
            choose_language(store, person, locale)
        assert "locale" in refused.value.errors


def test_hostile_accept_language_headers_give_a_page(app: Flask, org: DemoOrg):
    client = logged_in(app, org.emails["platform-2"], org.password)
    for header in (
        "",
        "*",
        ";;;",
        "de;q=abc",
        "x" * 5000,
        "de;q=-1, fr;q=2",
        "\u00e9\u00e8",
        "de" + ",de" * 300,
    ):
        lang, _ = first_tab(client, header)
        assert lang in ("en", "de")


def _admin_client(app: Flask, org: DemoOrg) -> FlaskClient:
    return app.test_client()


def test_the_pseudo_locale_is_off_unless_configured(app: Flask, org: DemoOrg):
    client = logged_in(app, org.emails["platform-1"], org.password)
    assert first_tab(client, "en-XA") == ("en", "Today")
    assert uuid.UUID(str(org.tenant_id))

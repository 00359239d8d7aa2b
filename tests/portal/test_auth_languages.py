"""Logging in, joining and resetting a password in the reader's language: every page of the
area through the catalogue (the pseudo-locale, pages the crawl of test_pseudo_locale.py
cannot reach included), German and French with their plurals, problem+json details, and
the mails in the recipient's language."""

from __future__ import annotations

import re
import uuid

import pytest
from flask import Flask
from flask.testing import FlaskClient

from services.gateway import auth
from services.gateway.auth import invitation_serializer
from services.gateway.resources import resources
from shared.commands import Actor, OrganizationCommands
from shared.eventlog import EventStore
from shared.i18n.preferences import choose_language
from shared.notify import Message
from shared.password_reset import ResetLinks
from tests.conftest import DemoOrg, make_org
from tests.portal.conftest import csrf_of
from tests.portal.test_pseudo_locale import uncatalogued

pytestmark = pytest.mark.integration

PSEUDO = {"Accept-Language": "en-XA"}


@pytest.fixture
def pseudo(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Flask:
    monkeypatch.setitem(app.config, "PSEUDO_LOCALE", True)
    return app


def invitation_link(app: Flask, store: EventStore, org: DemoOrg) -> str:
    admin = Actor(tenant_id=org.tenant_id, person_id=org.admin, role="admin", source="test")
    email = f"lang-{uuid.uuid4().hex[:10]}@demo.test"
    invited = OrganizationCommands(store).invite(admin, email, "employee", org.teams["platform"])
    with app.app_context():
        token = invitation_serializer().dumps(
            {"t": str(org.tenant_id), "p": str(invited.person_id)}
        )
    return f"/invite/{token}"


def outside(html: str) -> list[str]:
    """The texts of a page outside the catalogue (the name typed and a TOTP key are data)."""
    key = re.search(r'<code class="secret"[^>]*>([^<]+)</code>', html)
    data = set(re.findall(r"[^\W\d_]+", key.group(1))) if key else set()
    return uncatalogued(html, {"Nia", *data})[0]


def test_every_page_of_the_area_goes_through_the_catalogue(
    pseudo: Flask, store: EventStore, org: DemoOrg
) -> None:
    client = pseudo.test_client()
    token = csrf_of(client)
    link = invitation_link(pseudo, store, org)
    pages = {
        "login": client.get("/login", headers=PSEUDO),
        "wrong password": client.post(
            "/login",
            data={"csrf_token": token, "email": org.emails["admin"], "password": "wrong-one"},
            headers=PSEUDO,
        ),
        "empty login": client.post("/login", data={"csrf_token": token}, headers=PSEUDO),
        "forgot": client.get("/password/forgot", headers=PSEUDO),
        "forgot sent": client.post(
            "/password/forgot",
            data={"csrf_token": token, "email": "nobody@nowhere.test"},
            headers=PSEUDO,
        ),
        "bad reset link": client.get("/password/reset/nope", headers=PSEUDO),
        "invitation": client.get(link, headers=PSEUDO),
        "short password": client.post(
            link,
            data={"csrf_token": token, "display_name": "Nia", "password": "short"},
            headers=PSEUDO,
        ),
        "bad invitation link": client.get("/invite/nope", headers=PSEUDO),
        "form expired": client.post("/login", data={"csrf_token": "forged"}, headers=PSEUDO),
    }
    joined = client.post(
        link, data={"csrf_token": token, "display_name": "Nia", "password": "long-enough-1"}
    )
    assert joined.status_code == 302
    pages["used invitation"] = pseudo.test_client().get(link, headers=PSEUDO)
    found = {name: outside(r.get_data(as_text=True)) for name, r in pages.items()}
    assert not {name: texts for name, texts in found.items() if texts}, found
    assert "⟦" in pages["wrong password"].get_data(as_text=True)


def test_the_second_steps_go_through_the_catalogue(pseudo: Flask, store: EventStore) -> None:
    strict = make_org(store, people_per_team=1)
    headers = strict.headers(pseudo.test_client(), "admin")
    body = {"require_totp": True}
    changed = pseudo.test_client().patch("/api/v1/org/settings", json=body, headers=headers)
    assert changed.status_code == 200
    client = pseudo.test_client()
    login = {"csrf_token": csrf_of(client), "email": strict.emails["platform-1"]}
    answer = client.post("/login", data={**login, "password": strict.password})
    assert answer.headers["Location"] == "/login/enrol"
    enrol = client.get("/login/enrol", headers=PSEUDO)
    wrong = client.post(
        "/login/enrol", data={"csrf_token": login["csrf_token"], "code": "1"}, headers=PSEUDO
    )
    for page in (enrol, wrong):
        assert not outside(page.get_data(as_text=True))


@pytest.mark.parametrize(
    ("language", "seconds", "said"),
    [
        ("de", 1, "Zu viele Fehlversuche: Versuchen Sie es in 1 Sekunde erneut."),
        ("de", 2, "Zu viele Fehlversuche: Versuchen Sie es in 2 Sekunden erneut."),
        ("fr", 1, "Trop de tentatives échouées : réessayez dans 1 seconde."),
        ("fr", 120, "Trop de tentatives échouées : réessayez dans 2 minutes."),
    ],
)
def test_the_wait_in_german_and_french_with_its_plural(
    app: Flask,
    org: DemoOrg,
    monkeypatch: pytest.MonkeyPatch,
    language: str,
    seconds: int,
    said: str,
) -> None:
    monkeypatch.setattr(auth, "login_backoff", lambda email: seconds)
    client = app.test_client()
    form = {"csrf_token": csrf_of(client), "email": org.emails["admin"], "password": "whatever"}
    response = client.post("/login", data=form, headers={"Accept-Language": language})
    assert response.status_code == 429
    assert said in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("language", "heading", "lang"),
    [("de", "<h1>Anmelden</h1>", "de"), ("fr", "<h1>Se connecter</h1>", "fr")],
)
def test_the_login_page_in_german_and_french(
    client: FlaskClient, language: str, heading: str, lang: str
) -> None:
    html = client.get("/login", headers={"Accept-Language": language}).get_data(as_text=True)
    assert heading in html and f'<html lang="{lang}">' in html


def test_problem_details_in_the_callers_language(client: FlaskClient) -> None:
    answer = client.get("/api/v1/me", headers={"Accept-Language": "fr"})
    assert answer.status_code == 401
    assert (
        answer.get_json()["detail"] == "Connectez-vous, ou envoyez `Authorization: Bearer <token>`."
    )
    wrong = client.post(
        "/api/v1/auth/token",
        json={"email": f"x-{uuid.uuid4().hex[:6]}@demo.test", "password": "y" * 12},
        headers={"Accept-Language": "de"},
    )
    assert wrong.get_json()["detail"] == "E-Mail oder Passwort falsch."


def test_the_invitation_mail_is_in_the_organisations_language(
    app: Flask, store: EventStore, mailbox: list[Message]
) -> None:
    german = make_org(store, people_per_team=1)
    client = app.test_client()
    headers = german.headers(client, "admin")
    changed = client.patch("/api/v1/org/settings", json={"default_locale": "de"}, headers=headers)
    assert changed.status_code == 200
    email = f"neu-{uuid.uuid4().hex[:8]}@demo.test"
    invited = client.post(
        "/api/v1/invitations",
        json={"email": email},
        headers={**headers, "Accept-Language": "fr"},  # the admin's browser is not the reader's
    )
    assert invited.status_code == 201, invited.get_json()
    mail = next(m for m in mailbox if m.to == email)
    assert mail.subject == "Compound: Sie sind eingeladen"
    assert "der Link funktioniert einmal, 14 Tage lang" in mail.body


def test_the_reset_mail_is_in_the_persons_then_the_browsers_language(
    app: Flask, store: EventStore, org: DemoOrg
) -> None:
    with app.app_context():
        links = ResetLinks(resources().settings)
        engine = resources().engine
    email = org.emails["payments-1"]
    french = links.mail_for(engine, email, "fr-FR,fr;q=0.9")
    assert french is not None and french.subject == "Compound : réinitialisez votre mot de passe"
    assert re.search(r"pendant \d+ minutes", french.body)
    person = Actor(tenant_id=org.tenant_id, person_id=org.people["payments-1"], source="test")
    choose_language(store, person, "de")
    try:
        german = links.mail_for(engine, email, "fr-FR,fr;q=0.9")
        assert german is not None and german.subject == "Compound: Passwort zurücksetzen"
    finally:
        choose_language(store, person, "")


def test_the_busy_page_in_french_with_its_plural(app: Flask) -> None:
    from services.gateway.timeouts import busy_page

    with app.test_request_context("/dashboards", headers={"Accept-Language": "fr"}):
        page = busy_page().get_data(as_text=True)
    assert '<html lang="fr">' in page
    assert "Réessayez dans 5 secondes" in page and "Cette page a pris trop de temps" in page


def test_a_refused_form_in_german(client: FlaskClient) -> None:
    refused = client.post(
        "/login", data={"csrf_token": "forged"}, headers={"Accept-Language": "de"}
    )
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    assert "Das Formular wurde nicht gesendet" in html
    assert "Grund: Das CSRF-Token" in html

"""Joining and logging in on a phone (390 px), in English, German and French, in a real
browser against a live gateway.

The invitation shows its password rule before anything is typed; joining logs the person
in (no second login); the link opened again says at once that it was used, without the
form; logging out and in again works; no page is wider than the screen and nothing the
browser asks for (the icon included) is missing. Saves docs/screenshots/invitation.png,
login.png and their -de and -fr versions.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from services.gateway.auth import invitation_serializer
from shared.commands import Actor, OrganizationCommands
from shared.eventlog import EventStore
from tests.conftest import DemoOrg

pytestmark = pytest.mark.integration

PHONE = {"width": 390, "height": 844}
PASSWORD = "a-long-new-password"


def invitation(live_app: Flask, store: EventStore, org: DemoOrg, base: str) -> tuple[str, str]:
    email = f"login-{uuid.uuid4().hex[:8]}@demo.test"
    admin = Actor(tenant_id=org.tenant_id, person_id=org.admin, role="admin", source="test")
    invited = OrganizationCommands(store).invite(admin, email, "employee", org.teams["platform"])
    with live_app.app_context():
        token = invitation_serializer().dumps(
            {"t": str(org.tenant_id), "p": str(invited.person_id)}
        )
    return email, f"{base}/invite/{token}"


def fits_the_phone(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url}: {width}px wide at phone width"


TEXTS = {
    "en": {
        "rule": "At least 10 characters",
        "name": "Your name",
        "new password": "Choose a password",
        "join": "Set my password",
        "welcome": "Welcome to Compound, Nia!",
        "used": "This invitation has been used already",
        "log in": "Log in",
        "e-mail": "E-mail",
        "password": "Password",
        "log out": "Log out",
    },
    "de": {
        "rule": "Mindestens 10 Zeichen",
        "name": "Ihr Name",
        "new password": "Passwort wählen",
        "join": "Passwort festlegen",
        "welcome": "Willkommen bei Compound, Nia!",
        "used": "Diese Einladung wurde bereits verwendet",
        "log in": "Anmelden",
        "e-mail": "E-Mail",
        "password": "Passwort",
        "log out": "Abmelden",
    },
    "fr": {
        "rule": "Au moins 10 caractères",
        "name": "Votre nom",
        "new password": "Choisissez un mot de passe",
        "join": "Définir mon mot de passe",
        "welcome": "Bienvenue sur Compound, Nia !",
        "used": "Cette invitation a déjà été utilisée",
        "log in": "Se connecter",
        "e-mail": "E-mail",
        "password": "Mot de passe",
        "log out": "Se déconnecter",
    },
}
"""What the journey reads and clicks, as each language writes it (the browser asks for the
language with its ``Accept-Language``, as a phone set to that language does)."""


@pytest.mark.parametrize("language", ["en", "de", "fr"])
def test_join_then_log_out_and_in_on_a_phone(
    browser: Any,
    live_app: Flask,
    live_server: str,
    store: EventStore,
    org: DemoOrg,
    screenshots: Path,
    language: str,
) -> None:
    from playwright.sync_api import expect

    said = TEXTS[language]
    suffix = "" if language == "en" else f"-{language}"
    email, link = invitation(live_app, store, org, live_server)
    context = browser.new_context(viewport=PHONE, locale=language)
    context.set_default_timeout(10_000)
    page = context.new_page()
    missing: list[str] = []
    page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)

    # The rule is there before anything is typed.
    page.goto(link)
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.get_by_text(said["rule"])).to_be_visible()
    page.get_by_label(said["name"]).fill("Nia")
    page.get_by_label(said["new password"]).fill(PASSWORD)
    fits_the_phone(page)
    page.screenshot(path=str(screenshots / f"invitation{suffix}.png"), full_page=True)
    page.get_by_role("button", name=said["join"]).click()

    # Logged in at once, greeted by name.
    expect(page.get_by_text(said["welcome"])).to_be_visible()
    expect(page.get_by_role("button", name=said["log out"])).to_be_visible()

    # The link again: said at once, no form.
    page.goto(link)
    expect(page.get_by_role("alert")).to_contain_text(said["used"])
    expect(page.get_by_label(said["new password"])).to_have_count(0)
    fits_the_phone(page)

    # Log out, and in again with the new password.
    page.get_by_role("button", name=said["log out"]).click()
    expect(page.get_by_role("heading", name=said["log in"])).to_be_visible()
    page.get_by_label(said["e-mail"], exact=True).fill(email)
    page.get_by_label(said["password"], exact=True).fill(PASSWORD)
    fits_the_phone(page)
    page.screenshot(path=str(screenshots / f"login{suffix}.png"), full_page=True)
    page.get_by_role("button", name=said["log in"]).click()
    expect(page.get_by_role("button", name=said["log out"])).to_be_visible()
    assert "/login" not in page.url
    context.close()
    assert not missing, missing

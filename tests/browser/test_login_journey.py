"""Joining and logging in on a phone (390 px), in a real browser against a live gateway.

The invitation shows its password rule before anything is typed; joining logs the person
in (no second login); the link opened again says at once that it was used, without the
form; logging out and in again works; no page is wider than the screen and nothing the
browser asks for (the icon included) is missing. Saves docs/screenshots/invitation.png and
login.png.
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


def test_join_then_log_out_and_in_on_a_phone(
    browser: Any,
    live_app: Flask,
    live_server: str,
    store: EventStore,
    org: DemoOrg,
    screenshots: Path,
) -> None:
    from playwright.sync_api import expect

    email, link = invitation(live_app, store, org, live_server)
    context = browser.new_context(viewport=PHONE)
    context.set_default_timeout(10_000)
    page = context.new_page()
    missing: list[str] = []
    page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)

    # The rule is there before anything is typed.
    page.goto(link)
    expect(page.get_by_text("At least 10 characters")).to_be_visible()
    page.get_by_label("Your name").fill("Nia")
    page.get_by_label("Choose a password").fill(PASSWORD)
    fits_the_phone(page)
    page.screenshot(path=str(screenshots / "invitation.png"), full_page=True)
    page.get_by_role("button", name="Set my password").click()

    # Logged in at once, greeted by name.
    expect(page.get_by_role("heading", name="Hello, Nia")).to_be_visible()
    expect(page.get_by_text("Welcome to Compound, Nia!")).to_be_visible()

    # The link again: said at once, no form.
    page.goto(link)
    expect(page.get_by_role("alert")).to_contain_text("This invitation has been used already")
    expect(page.get_by_label("Choose a password")).to_have_count(0)
    fits_the_phone(page)

    # Log out, and in again with the new password.
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    fits_the_phone(page)
    page.screenshot(path=str(screenshots / "login.png"), full_page=True)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Hello, Nia")).to_be_visible()
    context.close()
    assert not missing, missing

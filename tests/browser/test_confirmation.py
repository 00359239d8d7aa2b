"""A confirmation in a real browser: an employee records an outcome naming someone outside
the organisation; that person opens the mailed link on a phone, without an account, and
confirms in one click; the employee's Outcomes page then shows it confirmed. The link used
again is refused. Saves docs/screenshots/confirm-link-phone.png."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from services.gateway.resources import resources
from shared.commands import Actor, OrganizationCommands
from shared.eventlog import EventStore
from shared.notify import LoggingMailer
from tests.conftest import DemoOrg

pytestmark = pytest.mark.integration

PHONE = {"width": 390, "height": 844}
OUTSIDER = "mentor-{}@partner.example"


def joined(store: EventStore, org: DemoOrg) -> str:
    email = f"confirm-{uuid.uuid4().hex[:8]}@demo.test"
    admin = Actor(tenant_id=org.tenant_id, person_id=org.admin, role="admin", source="test")
    commands = OrganizationCommands(store)
    invitation = commands.invite(admin, email, "employee", org.teams["platform"])
    commands.accept_invitation(org.tenant_id, invitation.person_id, "Robin", org.password)
    return email


def mailed_to(live_app: Flask, address: str) -> str:
    with live_app.app_context():
        mailer = resources().mailer
    assert isinstance(mailer, LoggingMailer)
    words = [w for m in mailer.sent if m.to == address for w in m.body.split() if "://" in w]
    assert words, "no link mailed"
    return words[-1]


def test_an_outside_confirmer_confirms_on_a_phone(
    browser: Any,
    live_app: Flask,
    live_server: str,
    store: EventStore,
    org: DemoOrg,
    projector: None,
    screenshots: Path,
):
    email, outsider = joined(store, org), OUTSIDER.format(uuid.uuid4().hex[:8])
    owner = browser.new_context(viewport={"width": 1280, "height": 900})
    page = owner.new_page()
    page.goto(f"{live_server}/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(org.password)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{live_server}/outcomes")
    page.get_by_label("Recognition").check()
    page.get_by_label("or an e-mail address outside the organisation").fill(outsider)
    page.get_by_role("button", name="Record outcome").click()
    page.get_by_text("Awaiting confirmation").first.wait_for()

    link = mailed_to(live_app, outsider)
    assert link.startswith(f"{live_server}/confirm/outcomes/") and "?t=" in link
    phone = browser.new_context(viewport=PHONE)  # no session: the link is the credential
    mentor = phone.new_page()
    mentor.goto(link)
    assert "Robin recorded an outcome, “recognition”" in mentor.locator("main").inner_text()
    width = mentor.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{width}px wide at phone width"
    mentor.screenshot(path=str(screenshots / "confirm-link-phone.png"), full_page=True)
    mentor.get_by_role("button", name="Confirm").click()  # the one click
    mentor.get_by_text("you confirmed it").wait_for()

    again = phone.new_page()
    response = again.goto(link)
    assert response is not None and response.status == 200
    assert "answered already" in again.locator("main").inner_text()

    page.reload()
    page.get_by_text("✓ Confirmed").first.wait_for()
    owner.close()
    phone.close()

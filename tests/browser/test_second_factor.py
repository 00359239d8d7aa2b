"""The second factor and an ended session, in a real browser against a live gateway.

1. Enrol TOTP on the account page (the key read from the page, the code computed with
   pyotp as an app would), log out, log in again with the password and then the code.
2. The Today page keeps the typed note across an ended session: the session ends in
   another tab, the next tap lands on the login page (never a blank fragment), and after
   the login the note is back in its field.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import pyotp
import pytest

from shared.commands import Actor, OrganizationCommands
from shared.eventlog import EventStore
from tests.conftest import DemoOrg

pytestmark = pytest.mark.integration

DESKTOP = {"width": 1280, "height": 900}


def new_person(store: EventStore, org: DemoOrg) -> str:
    email = f"browser-2fa-{uuid.uuid4().hex[:8]}@demo.test"
    admin = Actor(tenant_id=org.tenant_id, person_id=org.admin, role="admin", source="test")
    commands = OrganizationCommands(store)
    invitation = commands.invite(admin, email, "employee", org.teams["platform"])
    commands.accept_invitation(org.tenant_id, invitation.person_id, "Kim", org.password)
    return email


def open_page(browser: Any) -> tuple[Any, Any, list[str]]:
    context = browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    return context, page, errors


def log_in(page: Any, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_enrol_totp_then_log_in_with_a_code(
    browser: Any, live_server: str, projector: None, store: EventStore, org: DemoOrg
) -> None:
    from playwright.sync_api import expect

    email = new_person(store, org)
    context, page, errors = open_page(browser)
    log_in(page, live_server, email, org.password)
    expect(page.get_by_role("heading", name="Hello, Kim")).to_be_visible()

    page.goto(f"{live_server}/account")
    page.get_by_role("link", name="Second factor (TOTP)").click()
    qr = page.locator("img.qr")
    expect(qr).to_be_visible()
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0")  # drawn, CSP allowed it
    secret = page.locator("[data-totp-secret]").inner_text().replace(" ", "")
    assert len(secret) == 32
    totp = pyotp.TOTP(secret)
    page.get_by_label("Code from the app").fill(totp.now())
    page.get_by_role("button", name="Turn on").click()
    expect(page.get_by_role("heading", name="Your second factor is on")).to_be_visible()
    expect(page.locator("[data-recovery-codes] li")).to_have_count(10)
    page.get_by_role("link", name="I have kept them: continue").click()
    expect(page.locator('[data-second-factor="on"]')).to_be_visible()

    page.get_by_role("button", name="Log out", exact=True).click()
    log_in(page, live_server, email, org.password)
    expect(page.get_by_role("heading", name="One more step")).to_be_visible()
    page.goto(f"{live_server}/account")  # half logged in: nothing but the login page
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    page.go_back()
    # The code that confirmed enrolment is spent: the app's next code logs in.
    page.get_by_label("Code").fill(totp.at(time.time() + 30))
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Hello, Kim")).to_be_visible()
    assert errors == []
    context.close()


def test_today_keeps_the_typed_note_across_an_ended_session(
    browser: Any, live_server: str, projector: None, store: EventStore, org: DemoOrg
) -> None:
    from playwright.sync_api import expect

    email = new_person(store, org)
    context, page, errors = open_page(browser)
    log_in(page, live_server, email, org.password)
    expect(page.get_by_role("heading", name="Hello, Kim")).to_be_visible()
    note = "sent the 3-bullet summary before lunch"
    page.get_by_label("Note").fill(note)

    # The session ends in another tab of the same browser.
    other = context.new_page()
    other.goto(f"{live_server}/account")
    other.get_by_role("button", name="Log out", exact=True).click()
    expect(other.get_by_role("heading", name="Log in")).to_be_visible()
    other.close()

    # The next tap on Today: the whole tab goes to the login page, saying why.
    page.locator('button[name="tactic"]').first.click()
    expect(page.get_by_role("alert")).to_contain_text("Your session ended: log in again.")
    assert "next=%2F" in page.url and "ended=1" in page.url
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(org.password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Hello, Kim")).to_be_visible()
    expect(page.get_by_label("Note")).to_have_value(note)

    # Sent now: logged, and the draft is gone (a reload shows an empty field).
    page.locator('button[name="tactic"]').first.click()
    expect(page.locator(".notice.success")).to_contain_text("Logged")
    page.reload()
    expect(page.get_by_role("heading", name="Hello, Kim")).to_be_visible()
    expect(page.get_by_label("Note")).to_have_value("")
    assert [e for e in errors if "401" not in e] == []
    context.close()

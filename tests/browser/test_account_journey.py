"""Issue #20's journey, in a real browser against a live gateway mailing through a real
SMTP server (the one ``make run`` starts, infra/mail_server.py) into the demo's mailbox:

invite by e-mail -> open the mail in the mailbox -> set a password -> enrol TOTP -> log out
-> the old cookie is refused -> reset the password from the mail -> every old session and
token refused -> the new password (and a code) logs in.
"""

from __future__ import annotations

import dataclasses
import re
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pyotp
import pytest
import requests
from flask import Flask

from infra.embedded import free_port
from infra.mail_server import LocalMailServer
from shared.settings import Settings
from tests.browser.serving import serving
from tests.browser.test_second_factor import log_in, open_page
from tests.conftest import DemoOrg

pytestmark = pytest.mark.integration

LINK = re.compile(r"https?://127\.0\.0\.1:\d+/[^\s\"<>]+")


@pytest.fixture(scope="module")
def mailing_server(
    settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, LocalMailServer]]:
    """A gateway of its own, in demo mode, mailing through a local SMTP server: its base
    URL and the server."""
    from services.gateway import create_app

    smtp = LocalMailServer(tmp_path_factory.mktemp("journey") / "mailbox").start()
    port = free_port(0)
    base = f"http://127.0.0.1:{port}"
    app: Flask = create_app(
        {
            "COMPOUND_SETTINGS": dataclasses.replace(
                settings,
                smtp_host="127.0.0.1",
                smtp_port=smtp.port,
                smtp_starttls=False,
                public_url=base,
                demo_mailbox=smtp.maildir,
            ),
            "RATELIMIT_ENABLED": False,
            "RATELIMIT_KEY_PREFIX": f"journey-{uuid.uuid4().hex}",
        }
    )
    with serving(app, port):
        yield base, smtp
    app.extensions["compound"].close()
    smtp.stop()


def link_in_mail(page: Any, base: str, subject: str, to: str) -> str:
    """Open the mailbox (as the admin ``page`` is logged in), wait for the newest mail to
    ``to`` with ``subject``, open it and return the link it holds."""
    deadline = time.monotonic() + 20
    while True:
        page.goto(f"{base}/mailbox")
        row = page.locator("tr", has_text=to).filter(has_text=subject)
        if row.count():
            break
        assert time.monotonic() < deadline, f"no mail {subject!r} to {to} in the mailbox"
        page.wait_for_timeout(200)  # the reset mail leaves from a thread: poll the page
    row.first.get_by_role("link").click()
    links = [u for u in LINK.findall(page.content()) if "/mailbox" not in u]
    assert links, page.content()[:2000]
    return links[0].replace("&amp;", "&")


def test_invite_enrol_log_out_reset_ends_every_old_credential(
    browser: Any, mailing_server: tuple[str, LocalMailServer], org: DemoOrg
) -> None:
    from playwright.sync_api import expect

    base, _ = mailing_server
    email = f"journey-{uuid.uuid4().hex[:8]}@demo.test"
    api = requests.Session()
    login = api.post(
        f"{base}/api/v1/auth/token", json={"email": org.emails["admin"], "password": org.password}
    )
    admin_token = {"Authorization": f"Bearer {login.json()['access_token']}"}

    # 1. Invited by e-mail (the API's answer says the mail left).
    invited = api.post(
        f"{base}/api/v1/invitations",
        json={"email": email, "role": "employee", "team_id": str(org.teams["platform"])},
        headers=admin_token,
    )
    assert invited.status_code == 201, invited.text
    assert invited.json()["mail"] == "sent"

    admin_context, admin, admin_errors = open_page(browser)
    log_in(admin, base, org.emails["admin"], org.password)
    invitation = link_in_mail(admin, base, "invit", email)
    assert invitation.startswith(f"{base}/invite/")

    # 2. The invitation's link sets a password.
    context, page, errors = open_page(browser)
    page.goto(invitation)
    page.get_by_label("Your name").fill("Journey")
    page.get_by_label("Choose a password").fill("first-password-1")
    page.get_by_role("button", name="Set my password").click()  # logged in at once
    expect(page.get_by_role("button", name="Log out", exact=True)).to_be_visible()

    # A bearer token, made with the password alone before the second factor.
    token = api.post(
        f"{base}/api/v1/auth/token", json={"email": email, "password": "first-password-1"}
    )
    assert token.status_code == 200, token.text
    bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}
    assert api.get(f"{base}/api/v1/me", headers=bearer).status_code == 200

    # 3. TOTP enrolled on the account page.
    page.goto(f"{base}/account/second-factor")
    secret = page.locator("[data-totp-secret]").get_attribute("data-totp-secret")
    assert secret
    totp, spent = pyotp.TOTP(secret), set()

    def fresh_code() -> str:
        """A code of a step the gateway accepts now (this one, or one either side) and no
        earlier request spent."""
        while True:
            now = int(time.time()) // 30
            for step in (now, now + 1, now - 1):
                if step not in spent:
                    spent.add(step)
                    return totp.at(step * 30)
            time.sleep(0.5)  # all three spent: the next step is due within 30 s

    page.get_by_label("Code from the app").fill(fresh_code())
    page.get_by_role("button", name="Turn on").click()
    expect(page.locator("code").first).to_be_visible()  # the recovery codes, shown once

    # 4. Log out: a copy of the cookie saved before it is refused.
    saved = context.cookies()
    page.get_by_role("button", name="Log out", exact=True).click()
    expect(page).to_have_url(re.compile(r"/login"))
    replay_context, replay, _ = open_page(browser)
    replay_context.add_cookies(saved)
    replay.goto(f"{base}/account")
    expect(replay).to_have_url(re.compile(r"/login\?next="))

    # 5. Log in again (password, then a code): a session to be ended by the reset.
    log_in(page, base, email, "first-password-1")
    page.get_by_label("Code").fill(fresh_code())
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out", exact=True)).to_be_visible()
    before_reset = context.cookies()

    # 6. Forgot the password: the reset link comes by mail.
    other_context, other, other_errors = open_page(browser)
    other.goto(f"{base}/login")
    other.get_by_role("link", name="Forgot password?").click()
    other.get_by_label("E-mail").fill(email)
    other.get_by_role("button", name="Mail me a link").click()
    expect(other.get_by_text("If an account exists")).to_be_visible()
    reset = link_in_mail(admin, base, "reset your password", email)
    other.goto(reset)
    other.get_by_label("New password").fill("second-password-2")
    other.get_by_role("button", name="Set my password").click()
    expect(other.get_by_text("Your new password is set")).to_be_visible()

    # 7. Every old session and token is refused.
    page.goto(f"{base}/account")
    expect(page).to_have_url(re.compile(r"/login"))
    stale_context, stale, _ = open_page(browser)
    stale_context.add_cookies(before_reset)
    stale.goto(f"{base}/account")
    expect(stale).to_have_url(re.compile(r"/login"))
    assert api.get(f"{base}/api/v1/me", headers=bearer).status_code == 401

    # 8. The new password, then a code, logs in.
    log_in(other, base, email, "second-password-2")
    other.get_by_label("Code").fill(fresh_code())
    other.get_by_role("button", name="Log in").click()
    other.goto(f"{base}/account")
    expect(other.get_by_role("button", name="Log out everywhere")).to_be_visible()
    assert not errors and not admin_errors and not other_errors, (errors, other_errors)
    for c in (admin_context, context, replay_context, other_context, stale_context):
        c.close()

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
from pathlib import Path
from typing import Any

import pyotp
import pytest
import requests
from flask import Flask

from infra.embedded import free_port
from infra.mail_server import LocalMailServer
from shared.commands import Actor, JournalCommands
from shared.eventlog import EventStore
from shared.settings import Settings
from tests.browser.serving import serving
from tests.browser.test_second_factor import log_in, new_person, open_page
from tests.conftest import TEST_SECRET, DemoOrg

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


PHONE = {"width": 390, "height": 844}
WORDS = {  # what each language's pages say (from the shipped catalogues)
    "de": {
        "language": "Deutsch",
        "saved": "Sprache gespeichert.",
        "account": "Konto",
        "token_name": "Name des Tokens",
        "create_token": "Token erstellen",
        "new_token": "Ihr neues Token.",
        "capital": "Mein Karrierekapital",
        "in_a_row": "in Folge",
        "question": "Ihre Frage",
        "about": "Zu welcher Aktion?",
        "create_link": "Link erstellen",
        "ready": "Ihr Link ist bereit",
        "asks": "Kim fragt Sie zu",
        "yes": "Ja, nützlich",
        "thanks": "Danke: Ihre Antwort wurde gesendet.",
        "automatic": "Automatisch (vom Browser)",
        "save": "Sprache speichern",
        "week": "KW ",
    },
    "fr": {
        "language": "Français",
        "saved": "Langue enregistrée.",
        "account": "Compte",
        "token_name": "Nom du jeton",
        "create_token": "Créer un jeton",
        "new_token": "Votre nouveau jeton.",
        "capital": "Mon capital de carrière",
        "in_a_row": "d'affilée",
        "question": "Votre question",
        "about": "À propos de quelle action ?",
        "create_link": "Créer le lien",
        "ready": "Votre lien est prêt",
        "asks": "Kim vous pose une question sur",
        "yes": "Oui, utile",
        "thanks": "Merci : votre réponse a été envoyée.",
        "automatic": "Automatique (selon votre navigateur)",
        "save": "Enregistrer la langue",
        "week": "Semaine ",
    },
}


def phone_page(browser: Any, accept_language: str) -> tuple[Any, Any, list[str]]:
    """A phone-sized page whose browser asks for ``accept_language``."""
    context = browser.new_context(
        viewport=PHONE,
        locale=accept_language,
        extra_http_headers={"Accept-Language": accept_language},
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    return context, page, errors


def fits_the_phone(page: Any, name: str) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{name}: {width}px wide at phone width"


@pytest.mark.parametrize("locale", ["de", "fr"])
def test_the_account_journey_in_german_and_in_french_on_a_phone(
    browser: Any,
    live_server: str,
    projector: None,
    store: EventStore,
    org: DemoOrg,
    screenshots: Path,
    locale: str,
) -> None:
    """An English browser chooses the language on the account page: every page after it
    (account, a token shown once, capital, micro-feedback) speaks it, and the colleague's
    feedback link speaks the colleague's own browser language; "automatic" goes back to the
    browser's."""
    from playwright.sync_api import expect

    words = WORDS[locale]
    email = new_person(store, org)  # "Kim", who logged a quick win in a meeting
    person = _person_id(store, email)
    JournalCommands(store, TEST_SECRET).log_action(
        Actor(tenant_id=org.tenant_id, person_id=person, source="test"),
        "meeting_quick_win",
        10,
        "team",
        note="summarised the decisions",
    )
    context, page, errors = phone_page(browser, "en-GB")
    log_in(page, live_server, email, org.password)
    page.goto(f"{live_server}/account")
    expect(page.get_by_role("heading", name="Account", exact=True)).to_be_visible()

    # The language setting: the page comes back in the chosen language.
    page.get_by_role("combobox", name="Language").select_option(locale)
    page.get_by_role("button", name="Save language").click()
    expect(page.get_by_role("status").filter(has_text=words["saved"])).to_be_visible()
    expect(page.get_by_role("heading", name=words["account"], exact=True)).to_be_visible()
    assert page.locator("html").get_attribute("lang") == locale

    # A token, shown once after the redirect: a reload neither shows it nor makes another.
    page.get_by_label(words["token_name"]).fill("script")
    page.get_by_role("button", name=words["create_token"]).click()
    expect(page.get_by_text(words["new_token"])).to_be_visible()
    assert page.locator("#new-token").input_value().startswith("cpd_")
    page.locator("#new-token").evaluate("input => { input.value = 'cpd_…'; }")  # none in docs
    fits_the_phone(page, f"account-{locale}")
    page.screenshot(path=str(screenshots / f"account-{locale}.png"), full_page=True)
    page.reload()
    expect(page.locator("#new-token")).to_have_count(0)
    expect(page.locator('form[action$="/revoke"]')).to_have_count(1)

    # My capital, in the language: its week named, never its ISO code.
    page.goto(f"{live_server}/capital")
    expect(page.get_by_role("heading", name=words["capital"])).to_be_visible()
    expect(page.locator(".streak")).to_contain_text(words["in_a_row"])
    expect(page.locator(".eyebrow")).to_contain_text(words["week"])
    assert not re.search(r"\d{4}-W\d{2}", page.locator("main").inner_text())
    page.locator("#capital-chart[data-drawn='true']").wait_for()
    fits_the_phone(page, f"capital-{locale}")
    page.screenshot(path=str(screenshots / f"capital-{locale}.png"), full_page=True)

    # Micro-feedback about that action; a colleague answers on their phone, in their language.
    page.goto(f"{live_server}/feedback")
    page.get_by_label(words["question"]).fill("Was my summary useful?")
    page.get_by_label(words["about"]).select_option(index=1)
    page.get_by_role("button", name=words["create_link"]).click()
    expect(page.get_by_role("heading", name=words["ready"])).to_be_visible()
    link = page.locator("#new-link").input_value()
    fits_the_phone(page, f"feedback-{locale}")
    colleague_context, colleague, colleague_errors = phone_page(browser, locale)
    colleague.goto(link)
    expect(colleague.locator("[data-asked-by]")).to_contain_text(words["asks"])
    expect(colleague.get_by_text("summarised the decisions")).to_have_count(0)  # the note stays
    fits_the_phone(colleague, f"feedback-link-{locale}")
    colleague.screenshot(path=str(screenshots / f"feedback-link-{locale}.png"), full_page=True)
    colleague.get_by_role("button", name=words["yes"]).click()
    expect(colleague.get_by_role("status")).to_have_text(words["thanks"])

    # Automatic: back to the browser's language (English).
    page.goto(f"{live_server}/account")
    page.get_by_role("combobox", name=re.compile("^(Sprache|Langue)$")).select_option("")
    page.get_by_role("button", name=words["save"]).click()
    expect(page.get_by_role("status").filter(has_text="Language saved.")).to_be_visible()
    expect(page.get_by_role("combobox", name="Language")).to_have_value("")
    assert not errors and not colleague_errors, (errors, colleague_errors)
    context.close()
    colleague_context.close()


def _person_id(store: EventStore, email: str) -> uuid.UUID:
    from sqlalchemy import select

    from shared.directory import Person

    with store.engine.connect() as conn:
        return uuid.UUID(
            str(conn.execute(select(Person.id).where(Person.email == email)).scalar_one())
        )

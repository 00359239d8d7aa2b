"""Password reset over HTTP with a real SMTP server: the same answer (and about the same
time) for known and unknown addresses, a mailed link that works once and only for a short
while, tampering refused, requests throttled per address; logins of unknown people answer
like wrong passwords."""

from __future__ import annotations

import asyncio
import dataclasses
import re
import statistics
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from infra.mail_server import LocalMailServer
from services.gateway.auth import LOGIN
from services.gateway.reset import REQUESTS
from shared.notify import SmtpMailer
from shared.password_reset import ResetLinks
from shared.settings import Settings
from tests.conftest import DemoOrg
from tests.mail.conftest import PUBLIC_URL, await_mail, csrf_of, inbox, link_in, smtp_server

pytestmark = pytest.mark.integration

NEUTRAL = "If an account exists for this address, a mail is on its way"
TOKEN = re.compile(r'(name="csrf_token" (?:type="hidden" )?value="|"X-CSRFToken": ")[^"]+')


def _ask(client: FlaskClient, address: str):
    return client.post(
        "/password/forgot",
        data={"csrf_token": csrf_of(client, "/password/forgot"), "email": address},
    )


def _unthrottled(app: Flask, *addresses: str) -> None:
    with app.app_context():
        for address in addresses:
            REQUESTS.record(address, ok=True)
            LOGIN.record(address, ok=True)


def _comparable(html: str) -> str:
    return TOKEN.sub(r"\1<token>", html)


def _timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def test_known_and_unknown_addresses_get_the_same_answer_in_about_the_same_time(
    mail_app: Flask,
    browser: FlaskClient,
    mail_settings: Settings,
    mail_org: DemoOrg,
    smtp: LocalMailServer,
    monkeypatch: pytest.MonkeyPatch,
):
    known, unknown = mail_org.emails["payments-1"], f"nobody-{uuid.uuid4().hex}@demo.test"
    answers = [_ask(browser, known), _ask(browser, unknown)]
    assert [a.status_code for a in answers] == [200, 200]
    pages = [_comparable(a.get_data(as_text=True)) for a in answers]
    assert pages[0] == pages[1] and NEUTRAL in pages[0]
    mail = await_mail(smtp.maildir, known)
    assert link_in(mail).startswith(PUBLIC_URL + "/password/reset/")
    assert inbox(smtp.maildir, unknown) == []

    # Timing, against a mail server that takes 50 ms per mail: a delivery within the
    # request would show. One directory read either way; the mail leaves from a thread.
    class Slow:
        received: list[str] = []

        async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:
            await asyncio.sleep(0.05)
            self.received.extend(envelope.rcpt_tos)
            return "250 OK"

    samples: dict[str, list[float]] = {known: [], unknown: []}
    with smtp_server(Slow()) as slow:
        monkeypatch.setattr(
            mail_app.extensions["compound"],
            "mailer",
            SmtpMailer(dataclasses.replace(mail_settings, smtp_port=slow.port)),
        )
        for _ in range(7):
            for address in samples:
                _unthrottled(mail_app, address)
                samples[address].append(_timed(lambda a=address: _ask(browser, a)))  # type: ignore[misc]
        deadline = time.monotonic() + 10
        while len(Slow.received) < 7 and time.monotonic() < deadline:
            time.sleep(0.05)
    assert Slow.received == [known] * 7
    medians = {a: statistics.median(s) for a, s in samples.items()}
    slower, faster = max(medians.values()), min(medians.values())
    assert slower - faster < 0.25 * slower + 0.003, medians
    _unthrottled(mail_app, known)


def test_the_link_sets_a_password_once(
    mail_app: Flask, browser: FlaskClient, mail_org: DemoOrg, smtp: LocalMailServer
):
    address = mail_org.emails["platform-1"]
    before = len(inbox(smtp.maildir, address))
    assert _ask(browser, address).status_code == 200
    path = urlsplit(link_in(await_mail(smtp.maildir, address, before + 1))).path

    assert browser.get(path).status_code == 200
    short = browser.post(path, data={"csrf_token": csrf_of(browser, path), "password": "short"})
    assert short.status_code == 422  # nothing changed: the link still works
    form = {"csrf_token": csrf_of(browser, path), "password": "a-brand-new-password"}
    done = browser.post(path, data=form)
    assert done.status_code == 302 and urlsplit(done.headers["Location"]).path == "/login"

    again = browser.post(path, data={**form, "password": "yet-another-password"})
    assert again.status_code == 410
    assert "used already" in again.get_data(as_text=True)
    assert browser.get(path).status_code == 410

    fresh = mail_app.test_client()
    login = {"csrf_token": csrf_of(fresh, "/login"), "email": address}
    assert (
        fresh.post("/login", data={**login, "password": "a-brand-new-password"}).status_code == 302
    )
    old = mail_app.test_client()
    login["csrf_token"] = csrf_of(old, "/login")
    assert old.post("/login", data={**login, "password": mail_org.password}).status_code == 401
    _unthrottled(mail_app, address)


def test_expired_and_tampered_links_are_refused(
    mail_app: Flask, browser: FlaskClient, mail_settings: Settings, mail_org: DemoOrg
):
    address = mail_org.emails["payments-manager"]
    with mail_app.app_context():
        from services.gateway.resources import resources

        engine = resources().engine
    minutes = mail_settings.reset_minutes
    issued = time.time() - minutes * 60 - 5  # issued just over COMPOUND_RESET_MINUTES ago
    old = ResetLinks(mail_settings, clock=lambda: issued).mail_for(engine, address)
    fresh = ResetLinks(mail_settings).mail_for(engine, address)
    assert old is not None and fresh is not None
    expired = re.search(r"/password/reset/\S+", old.body)
    valid = re.search(r"/password/reset/\S+", fresh.body)
    assert expired and valid

    gone = browser.get(expired.group(0))
    assert gone.status_code == 410 and "expired" in gone.get_data(as_text=True)
    assert browser.get(valid.group(0)).status_code == 200
    token = valid.group(0).rsplit("/", 1)[1]
    for forged in (token[:-2] + ("AA" if not token.endswith("AA") else "BB"), token + "x", "x"):
        assert browser.get("/password/reset/" + forged).status_code == 404
    other = ResetLinks(dataclasses.replace(mail_settings, secret_key="another")).mail_for(
        engine, address
    )
    assert other is not None
    signed_elsewhere = re.search(r"/password/reset/\S+", other.body)
    assert signed_elsewhere and browser.get(signed_elsewhere.group(0)).status_code == 404


def test_requests_are_throttled_per_address_alike_for_unknown_ones(
    mail_app: Flask, browser: FlaskClient, mail_org: DemoOrg
):
    known, unknown = mail_org.emails["platform-manager"], f"no-{uuid.uuid4().hex}@demo.test"
    for address in (known, unknown):
        codes = [_ask(browser, address).status_code for _ in range(REQUESTS.free + 1)]
        assert codes == [200] * REQUESTS.free + [429], (address, codes)
    assert _ask(browser, f"other-{uuid.uuid4().hex}@demo.test").status_code == 200
    _unthrottled(mail_app, known, unknown)


def test_logging_in_as_nobody_answers_and_takes_like_a_wrong_password(
    mail_app: Flask, mail_org: DemoOrg
):
    known, unknown = mail_org.emails["payments-manager"], f"ghost-{uuid.uuid4().hex}@demo.test"
    client = mail_app.test_client()

    def attempt(address: str):
        form = {"csrf_token": csrf_of(client, "/login"), "email": address, "password": "wrong-1"}
        return client.post("/login", data=form)

    answers = [attempt(known), attempt(unknown)]
    assert [a.status_code for a in answers] == [401, 401]
    pages = [_comparable(a.get_data(as_text=True)) for a in answers]
    assert pages[0].replace(known, "X") == pages[1].replace(unknown, "X")

    samples: dict[str, list[float]] = {known: [], unknown: []}
    for _ in range(5):
        for address in samples:
            _unthrottled(mail_app, address)
            samples[address].append(_timed(lambda a=address: attempt(a)))  # type: ignore[misc]
    medians = {a: statistics.median(s) for a, s in samples.items()}
    # Both verify one argon2 hash (a dummy one for nobody): tens of milliseconds each.
    slower, faster = max(medians.values()), min(medians.values())
    assert slower - faster < 0.25 * slower + 0.005, medians
    _unthrottled(mail_app, known, unknown)


def test_reset_requests_are_limited_per_client_address(mail_settings: Settings):
    """Flask-Limiter on ``POST /password/forgot`` (the other tests' apps run with it off),
    whatever addresses are asked for: one client cannot sweep the address space."""
    from services.gateway import create_app
    from services.gateway.auth import limiter

    before = dict(vars(limiter))
    app = create_app(
        {
            "COMPOUND_SETTINGS": mail_settings,
            "TESTING": True,
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_KEY_PREFIX": f"test-reset-{uuid.uuid4().hex}",
        }
    )
    try:
        client = app.test_client()
        codes = [
            _ask(client, f"sweep-{i}-{uuid.uuid4().hex}@demo.test").status_code for i in range(11)
        ]
        assert codes == [200] * 10 + [429], codes
        other = app.test_client()
        form = {"csrf_token": csrf_of(other, "/password/forgot"), "email": "x@demo.test"}
        elsewhere = other.post(
            "/password/forgot", data=form, environ_base={"REMOTE_ADDR": "10.1.2.3"}
        )
        assert elsewhere.status_code == 200  # another client address has its own count
    finally:
        app.extensions["compound"].close()
        vars(limiter).clear()
        vars(limiter).update(before)

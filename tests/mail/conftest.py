"""Fixtures of the mail tests: a real SMTP server on a free port (the one ``make run`` starts,
infra/mail_server.py, keeping mails in a Maildir) and a gateway mailing through it, with a
public URL unlike the test client's host, so every link is seen to come from the setting."""

from __future__ import annotations

import contextlib
import dataclasses
import email.policy
import mailbox
import re
import time
import uuid
from collections.abc import Iterator
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from flask.testing import FlaskClient

from infra.embedded import free_port
from infra.mail_server import LocalMailServer
from services.gateway import create_app
from services.gateway.auth import limiter
from shared.eventlog import EventStore
from shared.settings import Settings
from tests.conftest import DemoOrg, make_org

PUBLIC_URL = "https://compound.example.test:8443"
CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


@pytest.fixture(scope="module")
def smtp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalMailServer]:
    server = LocalMailServer(tmp_path_factory.mktemp("mail") / "mailbox").start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def mail_settings(settings: Settings, smtp: LocalMailServer) -> Settings:
    return dataclasses.replace(
        settings,
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        smtp_starttls=False,
        public_url=PUBLIC_URL,
        demo_mailbox=smtp.maildir,
    )


@pytest.fixture(scope="module")
def mail_app(mail_settings: Settings) -> Iterator[Flask]:
    # The limiter is one object for every app of the process (tests/api/test_rate_limits.py).
    before = dict(vars(limiter))
    app = create_app(
        {
            "COMPOUND_SETTINGS": mail_settings,
            "TESTING": True,
            "RATELIMIT_ENABLED": False,
            "SERVER_NAME": "compound.test",
            "RATELIMIT_KEY_PREFIX": f"test-mail-{uuid.uuid4().hex}",
        }
    )
    yield app
    app.extensions["compound"].close()
    vars(limiter).clear()
    vars(limiter).update(before)


@pytest.fixture(scope="module")
def mail_org(store: EventStore) -> DemoOrg:
    return make_org(store, people_per_team=1)


@pytest.fixture
def browser(mail_app: Flask) -> FlaskClient:
    return mail_app.test_client()


@contextlib.contextmanager
def smtp_server(handler: object) -> Iterator[Controller]:
    """An aiosmtpd server answering with ``handler`` (refusing, slow ...) on a free port."""
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(0))
    controller.start()
    try:
        yield controller
    finally:
        controller.stop()
        controller.loop.close()  # aiosmtpd leaves its loop (and its socket pair) open


def csrf_of(client: FlaskClient, path: str) -> str:
    match = CSRF.search(client.get(path).get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def inbox(maildir: Path, to: str) -> list[EmailMessage]:
    """The mails the server accepted for ``to``, oldest first."""
    if not (maildir / "cur").is_dir():
        return []
    box = mailbox.Maildir(maildir, create=False)
    found = []
    for key in box.iterkeys():
        message = box.get_message(key)
        parsed = BytesParser(policy=email.policy.default).parsebytes(message.as_bytes())
        assert isinstance(parsed, EmailMessage)
        if parsed["To"] == to:
            found.append((message.get_date(), parsed))
    return [m for _, m in sorted(found, key=lambda pair: pair[0])]


def await_mail(maildir: Path, to: str, count: int = 1, timeout: float = 15) -> EmailMessage:
    """The ``count``-th mail to ``to``, once it arrived (mails sent from a background thread)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        mails = inbox(maildir, to)
        if len(mails) >= count:
            return mails[count - 1]
        time.sleep(0.05)
    raise AssertionError(f"no mail {count} to {to} within {timeout} s")


def parts(mail: EmailMessage) -> tuple[str, str]:
    """The text and HTML parts of a multipart/alternative mail."""
    assert mail.get_content_type() == "multipart/alternative", mail.get_content_type()
    text, html = mail.get_body(("plain",)), mail.get_body(("html",))
    assert text is not None and html is not None
    return str(text.get_content()), str(html.get_content())


def link_in(mail: EmailMessage) -> str:
    """The one link under the public URL the mail's text holds, also clickable in its HTML."""
    text, html = parts(mail)
    links = re.findall(re.escape(PUBLIC_URL) + r"/\S+", text)
    assert len(links) == 1, text
    assert f'<a href="{links[0]}">' in html
    return links[0]

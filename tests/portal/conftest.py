"""Fixtures of the portal tests: a person of their own, logged in through the login form."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient

from services.gateway.resources import resources
from shared.commands import Actor, OrganizationCommands
from shared.eventlog import EventStore
from shared.notify import LoggingMailer, Message
from shared.projections import runtime
from tests.conftest import DemoOrg

CSRF = re.compile(r'"X-CSRFToken": "([^"]+)"')  # base.html: every page carries it


def csrf_of(client: FlaskClient, path: str = "/login") -> str:
    """The CSRF token of the session, read from a page's form."""
    match = CSRF.search(client.get(path).get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


@dataclass
class Member:
    id: uuid.UUID
    email: str
    password: str
    client: FlaskClient

    def post(self, path: str, data: dict[str, object] | None = None, **kw: object):
        """A form post with the session's CSRF token."""
        form = {"csrf_token": csrf_of(self.client, "/account"), **(data or {})}
        return self.client.post(path, data=form, **kw)

    def page(self, path: str) -> str:
        response = self.client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        return response.get_data(as_text=True)


@pytest.fixture
def member(app: Flask, store: EventStore, org: DemoOrg) -> Callable[..., Member]:
    """``member()``: a person who just joined team "platform" of ``org``, logged in."""

    def create(team: str | None = "platform") -> Member:
        runtime(store).ensure()
        commands = OrganizationCommands(store)
        email = f"portal-{uuid.uuid4().hex[:10]}@demo.test"
        admin = Actor(tenant_id=org.tenant_id, person_id=org.admin, role="admin", source="test")
        invitation = commands.invite(admin, email, "employee", org.teams[team] if team else None)
        commands.accept_invitation(org.tenant_id, invitation.person_id, "Robin", org.password)
        client = app.test_client()
        response = client.post(
            "/login",
            data={"csrf_token": csrf_of(client), "email": email, "password": org.password},
        )
        assert response.status_code == 302, response.get_data(as_text=True)
        return Member(invitation.person_id, email, org.password, client)

    return create


@pytest.fixture
def project(store: EventStore) -> Callable[[], None]:
    """Bring every read model up to the log's head (what the worker does after a wake-up)."""

    def catch_up() -> None:
        rt = runtime(store)
        for name in ("capital", "experiments", "feedback_loop", "plan_progress"):
            rt.catch_up(name)

    return catch_up


@pytest.fixture
def mailbox(app: Flask) -> Iterator[list[Message]]:
    """The messages the gateway mails during the test (the logging mailer keeps them)."""
    with app.app_context():
        mailer = resources().mailer
    assert isinstance(mailer, LoggingMailer)
    start = len(mailer.sent)
    yield mailer.sent
    del mailer.sent[start:]


def mailed_link(mailbox: list[Message], to: str) -> str:
    """The last link mailed to ``to``."""
    links = [word for m in mailbox if m.to == to for word in m.body.split() if "://" in word]
    assert links, [m.to for m in mailbox]
    return links[-1]

"""Fixtures of the admin console tests: an organisation of its own per test, and its admin
logged in through the login form (a Flask test client, real PostgreSQL and Redis)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from shared.commands import Actor, OrganizationCommands
from shared.eventlog import EventStore
from tests.conftest import DemoOrg, make_org
from tests.portal.conftest import mailbox  # noqa: F401  (the mails the gateway sends)

CSRF = re.compile(r'"X-CSRFToken": "([^"]+)"')


@dataclass
class Console:
    org: DemoOrg
    store: EventStore
    client: FlaskClient

    @property
    def admin(self) -> Actor:
        return Actor(self.org.tenant_id, self.org.admin, role="admin", source="test")

    @property
    def commands(self) -> OrganizationCommands:
        return OrganizationCommands(self.store)

    def csrf(self) -> str:
        match = CSRF.search(self.client.get("/account").get_data(as_text=True))
        assert match
        return match.group(1)

    def post(self, path: str, data: dict[str, Any] | None = None, **kw: Any) -> Any:
        return self.client.post(path, data={"csrf_token": self.csrf(), **(data or {})}, **kw)

    def page(self, path: str, status: int = 200) -> str:
        response = self.client.get(path)
        assert response.status_code == status, (path, response.status_code)
        return str(response.get_data(as_text=True))

    def events(self, *types: str) -> list[Any]:
        """The organisation's events of these types, oldest first."""
        with self.store.engine.connect() as conn:
            return list(
                conn.execute(
                    text(
                        "SELECT type, data, metadata FROM events WHERE tenant_id = :t "
                        "AND type = ANY(:types) ORDER BY position"
                    ),
                    {"t": self.org.tenant_id, "types": list(types)},
                )
            )


def log_in(client: FlaskClient, email: str, password: str) -> None:
    match = CSRF.search(client.get("/login").get_data(as_text=True))
    assert match
    response = client.post(
        "/login", data={"csrf_token": match.group(1), "email": email, "password": password}
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:300]


@pytest.fixture
def console(app: Flask, store: EventStore) -> Console:
    """A new organisation (teams platform and payments, a manager and two people each) and
    its admin's browser."""
    org = make_org(store)
    client = app.test_client()
    log_in(client, org.emails["admin"], org.password)
    return Console(org, store, client)


def other_email() -> str:
    return f"admin-test-{uuid.uuid4().hex[:10]}@example.org"

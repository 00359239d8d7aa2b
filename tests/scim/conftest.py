"""SCIM tests: an organisation of its own per test, its bearer token, and a client that
speaks ``application/scim+json`` to ``/scim/v2`` through the test gateway."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from shared.commands import OrganizationCommands, system_actor
from shared.eventlog import EventStore
from shared.scim import tokens

SCIM_JSON = "application/scim+json"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


@dataclass
class Scim:
    """A tenant with a SCIM token, and requests to its ``/scim/v2``."""

    client: FlaskClient
    tenant_id: uuid.UUID
    admin_id: uuid.UUID
    token: str
    store: EventStore

    def call(self, method: str, path: str, body: Any = None, **headers: str) -> TestResponse:
        all_headers = {"Authorization": f"Bearer {self.token}", **headers}
        kwargs: dict[str, Any] = {"headers": all_headers}
        if body is not None:
            kwargs["json"] = body
            all_headers["Content-Type"] = SCIM_JSON
        return self.client.open("/scim/v2" + path, method=method, **kwargs)

    def ok(self, method: str, path: str, body: Any = None, status: int = 200) -> Any:
        response = self.call(method, path, body)
        assert response.status_code == status, response.get_data(as_text=True)
        return response.get_json()

    def user(self, user_name: str, **extra: Any) -> dict[str, Any]:
        return self.ok("POST", "/Users", {"schemas": [USER], "userName": user_name, **extra}, 201)

    def group(self, name: str, members: list[str] = (), **extra: Any) -> dict[str, Any]:  # type: ignore[assignment]
        body = {
            "schemas": [GROUP],
            "displayName": name,
            "members": [{"value": m} for m in members],
            **extra,
        }
        return self.ok("POST", "/Groups", body, 201)

    def events(self, after: int) -> list[Any]:
        return [e for e in self.store.read_all(after, 10_000) if e.tenant_id == self.tenant_id]


def new_tenant(store: EventStore) -> tuple[uuid.UUID, uuid.UUID, str]:
    suffix = uuid.uuid4().hex[:8]
    tenant, admin = OrganizationCommands(store).create_organization(
        f"Scim {suffix}", f"admin-{suffix}@scim.test", "correct-horse-battery", "Admin"
    )
    _, token = tokens.issue(store, system_actor(tenant))
    return tenant, admin, token


@pytest.fixture
def scim(app: Flask, store: EventStore) -> Scim:
    tenant, admin, token = new_tenant(store)
    return Scim(app.test_client(), tenant, admin, token, store)


def assert_error(response: TestResponse, status: int, scim_type: str | None = None) -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == SCIM_JSON
    body = response.get_json()
    assert body["schemas"] == [ERROR]
    assert body["status"] == str(status)
    assert body.get("scimType") == scim_type, body


Check = Callable[[TestResponse], None]

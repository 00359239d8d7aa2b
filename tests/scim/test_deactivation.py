"""Deactivating a person through SCIM ends their sessions and tokens: the same events as the
API (``PersonLeft``), so the same rule (shared/directory/projector.py ``_end_credentials``)."""

from __future__ import annotations

import uuid

import pytest

from shared.commands import OrganizationCommands, system_actor
from tests.scim.conftest import PATCH, Scim

pytestmark = pytest.mark.integration

PASSWORD = "correct-horse-battery"


def _person_with_token(scim: Scim) -> tuple[uuid.UUID, str, str]:
    commands = OrganizationCommands(scim.store)
    email = f"p-{uuid.uuid4().hex[:8]}@scim.example.com"
    invitation = commands.invite(system_actor(scim.tenant_id), email)
    commands.accept_invitation(scim.tenant_id, invitation.person_id, "Pat", PASSWORD)
    response = scim.client.post("/api/v1/auth/token", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.get_json()
    return invitation.person_id, email, response.get_json()["access_token"]


def _me(scim: Scim, token: str) -> int:
    return scim.client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code


@pytest.mark.parametrize(
    "operation",
    [
        {"op": "Replace", "path": "active", "value": "False"},  # Entra
        {"op": "replace", "value": {"active": False}},  # Okta
    ],
)
def test_deactivation_ends_sessions_and_tokens(scim: Scim, operation: dict) -> None:
    person_id, email, token = _person_with_token(scim)
    assert _me(scim, token) == 200
    found = scim.ok("GET", f'/Users?filter=userName eq "{email}"')
    assert [r["id"] for r in found["Resources"]] == [str(person_id)]
    scim.ok("PATCH", f"/Users/{person_id}", {"schemas": [PATCH], "Operations": [operation]})
    assert _me(scim, token) == 401
    login = scim.client.post("/api/v1/auth/token", json={"email": email, "password": PASSWORD})
    assert login.status_code == 401
    # Back again: a new login works, the old token stays ended.
    back = {"schemas": [PATCH], "Operations": [{"op": "replace", "path": "active", "value": True}]}
    scim.ok("PATCH", f"/Users/{person_id}", back)
    assert _me(scim, token) == 401
    login = scim.client.post("/api/v1/auth/token", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200


def test_delete_ends_sessions_too(scim: Scim) -> None:
    person_id, _, token = _person_with_token(scim)
    assert scim.call("DELETE", f"/Users/{person_id}").status_code == 204
    assert _me(scim, token) == 401

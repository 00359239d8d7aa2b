"""SCIM bearer tokens: from the CLI (printed alone) and the admin API, stored as SHA-256,
revocable, one organisation each."""

from __future__ import annotations

import hashlib
import uuid

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import text

from services.cli import main
from shared.commands import OrganizationCommands
from shared.eventlog import EventStore
from shared.settings import Settings
from tests.scim.conftest import USER, Scim, assert_error, new_tenant

pytestmark = pytest.mark.integration


def _cli(settings: Settings, tmp_path, *args: str) -> str:
    env = {
        "DATABASE_URL": settings.database_url or "",
        "REDIS_URL": settings.redis_url or "",
        "COMPOUND_MASTER_KEYS": ",".join(settings.master_keys),
        "COMPOUND_DATA_DIR": str(tmp_path),
    }
    result = CliRunner().invoke(main, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result.output


def test_cli_prints_the_token_alone_and_keeps_only_its_hash(
    app: Flask, store: EventStore, settings: Settings, tmp_path
) -> None:
    tenant, _, _ = new_tenant(store)
    output = _cli(settings, tmp_path, "scim", "token", "--org", str(tenant))
    token = output.strip()
    assert output == token + "\n" and token.startswith("scim_") and len(token) > 40
    with store.engine.connect() as conn:
        stored = (
            conn.execute(
                text("SELECT token_hash FROM scim_tokens WHERE tenant_id = :t"), {"t": tenant}
            )
            .scalars()
            .all()
        )
        logged = conn.execute(
            text("SELECT count(*) FROM events WHERE data::text LIKE :t"), {"t": f"%{token}%"}
        ).scalar()
    assert hashlib.sha256(token.encode()).hexdigest() in stored
    assert logged == 0
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/scim/v2/Users", headers=headers).status_code == 200
    listed = _cli(settings, tmp_path, "scim", "tokens", "--org", str(tenant))
    live = [line.split()[0] for line in listed.splitlines() if line.endswith("live")]
    assert len(live) == 2  # the fixture's and this one
    for token_id in live:
        _cli(settings, tmp_path, "scim", "revoke", token_id, "--org", str(tenant))
    assert_error(client.get("/scim/v2/Users", headers=headers), 401)


def test_admin_api_issues_lists_and_revokes(app: Flask, store: EventStore) -> None:
    suffix = uuid.uuid4().hex[:8]
    email = f"admin-{suffix}@scim.example.com"
    OrganizationCommands(store).create_organization(
        f"Api {suffix}", email, "correct-horse-battery", "Admin"
    )
    client = app.test_client()
    login = client.post(
        "/api/v1/auth/token", json={"email": email, "password": "correct-horse-battery"}
    )
    admin = {"Authorization": f"Bearer {login.get_json()['access_token']}"}
    issued = client.post("/api/v1/org/scim-tokens", headers=admin)
    assert issued.status_code == 201, issued.get_json()
    token, token_id = issued.get_json()["token"], issued.get_json()["id"]
    scim = {"Authorization": f"Bearer {token}"}
    assert client.get("/scim/v2/Users", headers=scim).status_code == 200
    listed = client.get("/api/v1/org/scim-tokens", headers=admin).get_json()
    assert [t["id"] for t in listed] == [token_id] and "token" not in listed[0]
    assert client.delete(f"/api/v1/org/scim-tokens/{token_id}", headers=admin).status_code == 204
    assert_error(client.get("/scim/v2/Users", headers=scim), 401)
    assert client.delete(f"/api/v1/org/scim-tokens/{token_id}", headers=admin).status_code == 404


def test_a_token_sees_its_own_organisation_only(scim: Scim, store: EventStore) -> None:
    theirs = scim.user("theirs")
    other_tenant, _, other_token = new_tenant(store)
    other = Scim(scim.client, other_tenant, uuid.uuid4(), other_token, store)
    assert_error(other.call("GET", f"/Users/{theirs['id']}"), 404)
    head = store.head()
    assert_error(
        other.call("PUT", f"/Users/{theirs['id']}", {"schemas": [USER], "userName": "x"}), 404
    )
    assert_error(other.call("DELETE", f"/Users/{theirs['id']}"), 404)
    names = [r["userName"] for r in other.ok("GET", "/Users")["Resources"]]
    assert "theirs" not in names
    group = other.call(
        "POST",
        "/Groups",
        {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": "g",
            "members": [{"value": theirs["id"]}],
        },
    )
    assert_error(group, 400, "invalidValue")
    assert scim.events(head) == [] and other.events(head) == []


def test_a_token_revoked_by_another_process_ends_within_the_remembered_time(
    store: EventStore,
) -> None:
    from shared.scim import tokens

    tenant, _, token = new_tenant(store)
    assert tokens.tenant_of(store.engine, token, now=1000.0) == tenant
    with store.engine.begin() as conn:  # as another process's revocation leaves this one
        conn.execute(
            text("UPDATE scim_tokens SET revoked_at = now() WHERE token_hash = :h"),
            {"h": tokens.token_hash(token)},
        )
    assert (
        tokens.tenant_of(store.engine, token, now=1000.0 + tokens.REMEMBER_SECONDS - 0.1) == tenant
    )
    assert tokens.tenant_of(store.engine, token, now=1000.0 + tokens.REMEMBER_SECONDS) is None
    assert tokens.tenant_of(store.engine, "scim_" + "x" * 40, now=1000.0) is None

"""SSO configuration through the admin API and ``compound sso``: checked field by field
(problem+json, nothing written), one organisation per domain, the secret sealed under the
master keys (never in clear in the log, never shown)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text

from shared.commands import OrganizationCommands
from shared.eventlog import EventStore
from shared.settings import Settings
from tests.api.conftest import assert_problem, bearer
from tests.conftest import DemoOrg

pytestmark = pytest.mark.integration
SECRET = "s3cret-" + uuid.uuid4().hex


def _body(domain: str, **changes: Any) -> dict[str, Any]:
    return {
        "issuer": "https://login.example.com/realms/acme",
        "client_id": "compound",
        "client_secret": SECRET,
        "domains": [domain],
        **changes,
    }


def _events(store: EventStore, tenant: uuid.UUID) -> int:
    with store.engine.connect() as conn:
        return int(
            conn.execute(
                text("SELECT count(*) FROM events WHERE tenant_id = :t"), {"t": tenant}
            ).scalar_one()
        )


@pytest.fixture
def admin_org(store: EventStore) -> DemoOrg:
    """An organisation of its own (SSO is per organisation: tests must not share one)."""
    suffix = uuid.uuid4().hex[:8]
    tenant, admin = OrganizationCommands(store).create_organization(
        f"Conf {suffix}", f"admin@conf-{suffix}.test", "correct-horse-battery", "Admin"
    )
    return DemoOrg(tenant, admin, {}, {"admin": admin}, {"admin": f"admin@conf-{suffix}.test"},
                   "correct-horse-battery")  # fmt: skip


def test_put_then_get_shows_everything_but_the_secret(
    client: FlaskClient, store: EventStore, admin_org: DemoOrg
) -> None:
    headers = bearer(store, admin_org, admin_org.admin)
    domain = f"{uuid.uuid4().hex[:8]}.example"
    put = client.put("/api/v1/org/sso", json=_body(domain.upper() + "."), headers=headers)
    assert put.status_code == 200, put.get_json()
    shown = client.get("/api/v1/org/sso", headers=headers).get_json()
    assert shown["domains"] == [domain]  # lower-cased, trailing dot gone
    assert shown["client_secret_set"] is True and SECRET not in str(shown)
    assert shown["redirect_uri"].endswith("/auth/oidc/callback")
    with store.engine.connect() as conn:
        logged = conn.execute(
            text("SELECT data::text FROM events WHERE type = 'SsoConfigured' AND tenant_id = :t"),
            {"t": admin_org.tenant_id},
        ).scalar_one()
        row = conn.execute(
            text("SELECT client_secret FROM sso_connections WHERE tenant_id = :t"),
            {"t": admin_org.tenant_id},
        ).scalar_one()
    assert SECRET not in logged and SECRET not in row
    assert store.keyring.master.decrypt(row.encode()).decode() == SECRET
    # the secret may be left out to keep the stored one
    again = _body(domain, client_secret=None, jit_accounts=True)
    assert client.put("/api/v1/org/sso", json=again, headers=headers).status_code == 200
    with store.engine.connect() as conn:
        kept = conn.execute(
            text("SELECT client_secret FROM sso_connections WHERE tenant_id = :t"),
            {"t": admin_org.tenant_id},
        ).scalar_one()
    assert store.keyring.master.decrypt(kept.encode()).decode() == SECRET
    assert client.delete("/api/v1/org/sso", headers=headers).status_code == 204
    assert client.get("/api/v1/org/sso", headers=headers).status_code == 404


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"issuer": "http://login.example.com"}, ("issuer",)),
        ({"issuer": "not a url"}, ("issuer",)),
        ({"issuer": "https://login.example.com/?x=1"}, ("issuer",)),
        ({"client_id": ""}, ("client_id",)),
        ({"client_secret": None}, ("client_secret",)),
        ({"domains": []}, ("domains",)),
        ({"domains": ["no domain", "x@y.com"]}, ("domains",)),
        ({"sso_required": True}, ("break_glass_email",)),
        ({"sso_required": True, "break_glass_email": "nobody@else.test"}, ("break_glass_email",)),
        ({"client_id": "", "domains": ["-bad-.com"]}, ("client_id", "domains")),
    ],
)
def test_bad_input_is_refused_field_by_field_and_writes_nothing(
    client: FlaskClient,
    store: EventStore,
    admin_org: DemoOrg,
    changes: dict[str, Any],
    fields: tuple[str, ...],
) -> None:
    headers = bearer(store, admin_org, admin_org.admin)
    before = _events(store, admin_org.tenant_id)
    answer = client.put("/api/v1/org/sso", json=_body("ok.example", **changes), headers=headers)
    assert_problem(answer, 422, *fields)
    assert _events(store, admin_org.tenant_id) == before


def test_a_domain_belongs_to_one_organisation(
    client: FlaskClient, store: EventStore, admin_org: DemoOrg, org: DemoOrg
) -> None:
    domain = f"{uuid.uuid4().hex[:8]}.example"
    ours = bearer(store, admin_org, admin_org.admin)
    assert client.put("/api/v1/org/sso", json=_body(domain), headers=ours).status_code == 200
    theirs = bearer(store, org, org.admin)
    assert_problem(
        client.put("/api/v1/org/sso", json=_body(domain), headers=theirs), 409, "domains"
    )


def test_no_admin_routes_the_domain_of_another_organisations_people(
    client: FlaskClient, store: EventStore, admin_org: DemoOrg
) -> None:
    """Else that organisation's login page would send its people to this admin's provider."""
    theirs = admin_org.emails["admin"].split("@")[1]
    other = OrganizationCommands(store).create_organization(
        f"Squatter {uuid.uuid4().hex[:8]}",
        f"admin@{uuid.uuid4().hex[:8]}.example",
        "correct-horse-battery",
        "Admin",
    )
    squatter = DemoOrg(other[0], other[1], {}, {"admin": other[1]}, {}, "correct-horse-battery")
    headers = bearer(store, squatter, squatter.admin)
    before = _events(store, squatter.tenant_id)
    assert_problem(
        client.put("/api/v1/org/sso", json=_body(theirs.upper()), headers=headers), 409, "domains"
    )
    assert _events(store, squatter.tenant_id) == before
    ours = bearer(store, admin_org, admin_org.admin)  # its own people's domain: fine
    assert client.put("/api/v1/org/sso", json=_body(theirs), headers=ours).status_code == 200


def test_only_admins_may_see_or_change_it(
    client: FlaskClient, store: EventStore, org: DemoOrg
) -> None:
    employee = bearer(store, org, org.people["platform-1"])
    assert client.get("/api/v1/org/sso", headers=employee).status_code == 403
    put = client.put("/api/v1/org/sso", json=_body("x.example"), headers=employee)
    assert put.status_code == 403


def test_the_cli_configures_and_prints_the_redirect_uri(
    store: EventStore, settings: Settings, monkeypatch: pytest.MonkeyPatch, admin_org: DemoOrg
) -> None:
    from click.testing import CliRunner

    from services.cli.sso import sso

    monkeypatch.setenv("DATABASE_URL", settings.database_url or "")
    monkeypatch.setenv("COMPOUND_MASTER_KEYS", ",".join(settings.master_keys))
    monkeypatch.setenv("COMPOUND_PUBLIC_URL", "https://compound.example.com")
    domain = f"{uuid.uuid4().hex[:8]}.example"
    done = CliRunner().invoke(
        sso,
        ["configure", "--org", str(admin_org.tenant_id), "--issuer",
         "https://login.example.com/realms/acme", "--client-id", "compound",
         "--client-secret", SECRET, "--domain", domain],
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "https://compound.example.com/auth/oidc/callback" in done.output
    shown = CliRunner().invoke(sso, ["show", "--org", str(admin_org.tenant_id)])
    assert domain in shown.output and SECRET not in shown.output
    bad = CliRunner().invoke(
        sso,
        ["configure", "--org", str(admin_org.tenant_id), "--issuer", "http://evil.example",
         "--client-id", "c", "--domain", domain],
    )  # fmt: skip
    assert bad.exit_code != 0
    removed = CliRunner().invoke(sso, ["remove", "--org", str(admin_org.tenant_id)])
    assert removed.exit_code == 0, removed.output

"""Projections serve every organisation: only the operators' admins reach them through the
API (``COMPOUND_OPERATOR_ORGS``; unset, nobody), everyone else gets 403 problem+json and
nothing is queued (real PostgreSQL and Redis)."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from shared.settings import Settings
from tests.api.conftest import assert_problem
from tests.conftest import DemoOrg

pytestmark = pytest.mark.integration


def _app(settings: Settings, operators: tuple[str, ...]) -> Flask:
    from services.gateway import create_app

    return create_app(
        {
            "COMPOUND_SETTINGS": dataclasses.replace(settings, operator_orgs=operators),
            "TESTING": True,
            "RATELIMIT_ENABLED": False,
            "RATELIMIT_KEY_PREFIX": f"operators-{uuid.uuid4().hex}",
        }
    )


@pytest.fixture
def operators_app(settings: Settings, org: DemoOrg) -> Iterator[Flask]:
    """The gateway with ``org`` as the operators' organisation."""
    app = _app(settings, (str(org.tenant_id),))
    yield app
    app.extensions["compound"].close()


def test_unset_no_admin_sees_or_rebuilds_projections(client: FlaskClient, org: DemoOrg):
    admin = org.headers(client, "admin")  # the test app leaves COMPOUND_OPERATOR_ORGS unset
    problem = assert_problem(client.get("/api/v1/projections", headers=admin), 403)
    assert "COMPOUND_OPERATOR_ORGS" in problem["detail"]
    rebuild = client.post("/api/v1/projections/capital/rebuild", headers=admin)
    assert_problem(rebuild, 403)


def test_an_operator_organisations_admin_alone_reaches_them(
    operators_app: Flask, org: DemoOrg, other_org: DemoOrg
):
    client = operators_app.test_client()
    admin = org.headers(client, "admin")
    listed = client.get("/api/v1/projections", headers=admin)
    assert listed.status_code == 200, listed.get_json()
    assert {"capital", "levers"} <= {p["name"] for p in listed.get_json()}
    # Past the check: an unknown projection is "not found", not "forbidden".
    assert_problem(client.post("/api/v1/projections/nothing/rebuild", headers=admin), 404)
    # Another organisation's admin, and the operators' own employees, stay out.
    for headers in (other_org.headers(client, "admin"), org.headers(client, "platform-1")):
        assert_problem(client.get("/api/v1/projections", headers=headers), 403)
        assert_problem(client.post("/api/v1/projections/capital/rebuild", headers=headers), 403)

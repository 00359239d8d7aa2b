from __future__ import annotations

import pytest
from flask import Flask, jsonify
from flask.testing import FlaskClient

from shared.read_tokens import PositionTokens
from shared.settings import Settings
from tests.conftest import TEST_SECRET, DemoOrg

pytestmark = pytest.mark.integration


def test_log_an_action(client: FlaskClient, org: DemoOrg):
    headers = org.headers(client, "platform-1")
    response = client.post(
        "/api/v1/actions",
        headers=headers,
        json={
            "tactic": "regular_signaling",
            "minutes": 10,
            "audience": "team",
            "note": "3-bullet summary after the sprint demo",
        },
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert set(body) >= {"event_id", "position", "action_id"}
    me = client.get("/api/v1/me", headers=headers).get_json()
    assert me["teams"][0]["name"] == "platform"


def test_an_actions_answer_is_its_schemas_dump_as_jsonify_writes_it(
    app: Flask, client: FlaskClient, org: DemoOrg
):
    """The answer is encoded by orjson (services/gateway/api/journal.py): the same text,
    fields and types as marshmallow's dump of ``ActionOut`` through Flask's ``jsonify``."""
    response = client.post(
        "/api/v1/actions",
        headers=org.headers(client, "platform-1"),
        json={"tactic": "learning_bit", "minutes": 5, "audience": "private"},
    )
    assert response.status_code == 201 and response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"event_id", "position", "action_id", "confirmation_link"}
    assert body["confirmation_link"] is None and body["position"].startswith("p1.")
    with app.app_context():
        assert response.get_data() == jsonify(body).get_data()


def test_read_my_own_capital_after_a_write(client: FlaskClient, org: DemoOrg, store):
    from shared.projections import runtime

    headers = org.headers(client, "payments-1")
    written = client.post(
        "/api/v1/actions",
        headers=headers,
        json={"tactic": "small_exposure", "minutes": 30, "audience": "decision_makers"},
    ).get_json()
    runtime(store).catch_up("capital")  # what the worker does when woken
    response = client.get(f"/api/v1/me/capital?min_position={written['position']}", headers=headers)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    tokens = PositionTokens(TEST_SECRET)
    reached = tokens.open(org.tenant_id, body["as_of_position"])
    assert reached >= tokens.open(org.tenant_id, written["position"])
    assert body["scores"]["capability"]["value"] > 0
    assert body["scores"]["capability"]["explanation"][0]["tactic"] == "small_exposure"
    assert len(body["history"]) == 12 and body["model_version"] == 2
    assert "relationship_deposit" in {n["rule"] for n in body["nudges"]}  # the org is shared


def test_operators_admins_see_and_rebuild_projections(settings: Settings, org: DemoOrg):
    """With ``org`` named in COMPOUND_OPERATOR_ORGS its admin lists and rebuilds projections
    (unset, nobody does: tests/api/test_operator_scope.py)."""
    import dataclasses

    from services.gateway import create_app

    ours = dataclasses.replace(settings, operator_orgs=(str(org.tenant_id),))
    app = create_app({"COMPOUND_SETTINGS": ours, "TESTING": True, "RATELIMIT_ENABLED": False})
    try:
        client = app.test_client()
        admin = org.headers(client, "admin")
        listed = client.get("/api/v1/projections", headers=admin)
        assert listed.status_code == 200
        capital = next(p for p in listed.get_json() if p["name"] == "capital")
        assert {"position", "lag_events", "lag_seconds", "status"} <= set(capital)
        queued = client.post("/api/v1/projections/capital/rebuild", headers=admin)
        assert queued.status_code == 202 and queued.get_json()["message_id"]
        assert client.post("/api/v1/projections/nope/rebuild", headers=admin).status_code == 404
        employee = org.headers(client, "platform-1")
        assert client.get("/api/v1/projections", headers=employee).status_code == 403
    finally:
        app.extensions["compound"].close()


def test_admin_moves_promotes_and_offboards_a_person(client: FlaskClient, store):
    from tests.conftest import make_org

    org = make_org(store, people_per_team=1)
    admin = org.headers(client, "admin")
    person = org.people["platform-1"]
    headers = org.headers(client, "platform-1")
    moved = client.post(
        f"/api/v1/people/{person}/team", headers=admin, json={"team_id": str(org.teams["payments"])}
    )
    assert moved.status_code == 204
    assert [t["name"] for t in client.get("/api/v1/me", headers=headers).get_json()["teams"]] == [
        "payments"
    ]
    assert (
        client.post(
            f"/api/v1/people/{person}/role", headers=admin, json={"role": "admin"}
        ).status_code
        == 204
    )
    # A role change ends the person's credentials (issue #20); a new login shows the role.
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    headers = org.headers(client, "platform-1")
    assert "admin" in client.get("/api/v1/me", headers=headers).get_json()["roles"]
    bad = client.post(f"/api/v1/people/{person}/role", headers=admin, json={"role": "king"})
    assert bad.status_code == 422 and "role" in bad.get_json()["errors"]
    assert client.post(f"/api/v1/people/{person}/leave", headers=admin).status_code == 204
    assert client.get("/api/v1/me", headers=headers).status_code == 401  # tokens revoked


def test_operator_organisations_alone_see_projections(settings: Settings, org: DemoOrg):
    """Projections span every organisation of a deployment: with COMPOUND_OPERATOR_ORGS set,
    another organisation's admin is refused (403) and nothing is queued."""
    import dataclasses
    import uuid

    from services.gateway import create_app

    elsewhere = str(uuid.uuid4())  # the operators' organisation, not ``org``
    app = create_app(
        {
            "COMPOUND_SETTINGS": dataclasses.replace(settings, operator_orgs=(elsewhere,)),
            "TESTING": True,
            "RATELIMIT_ENABLED": False,
        }
    )
    try:
        client = app.test_client()
        admin = org.headers(client, "admin")
        listed = client.get("/api/v1/projections", headers=admin)
        assert listed.status_code == 403
        assert "COMPOUND_OPERATOR_ORGS" in listed.get_json()["detail"]
        assert client.post("/api/v1/projections/capital/rebuild", headers=admin).status_code == 403
    finally:
        app.extensions["compound"].close()
    ours = dataclasses.replace(settings, operator_orgs=(str(org.tenant_id),))
    app = create_app({"COMPOUND_SETTINGS": ours, "TESTING": True, "RATELIMIT_ENABLED": False})
    try:
        client = app.test_client()
        admin = org.headers(client, "admin")
        assert client.get("/api/v1/projections", headers=admin).status_code == 200
    finally:
        app.extensions["compound"].close()


def test_operator_orgs_must_be_organisation_ids():
    from shared.settings import SettingsError

    ids = Settings.from_env({"COMPOUND_OPERATOR_ORGS": " 0B8C4D3E-1F2A-4B5C-8D9E-0F1A2B3C4D5E , "})
    assert ids.operator_orgs == ("0b8c4d3e-1f2a-4b5c-8d9e-0f1a2b3c4d5e",)
    with pytest.raises(SettingsError, match="COMPOUND_OPERATOR_ORGS"):
        Settings.from_env({"COMPOUND_OPERATOR_ORGS": "acme"})

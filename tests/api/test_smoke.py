from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from tests.conftest import DemoOrg

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

"""The privacy copy of the pulse and calendar pages states the organisation's actual k."""

from __future__ import annotations

from typing import Any

import pytest

from shared.commands import Actor
from shared.commands.settings import change_settings
from shared.eventlog import EventStore
from tests.conftest import make_org
from tests.portal.conftest import csrf_of

pytestmark = pytest.mark.integration


def test_pulse_and_calendar_pages_state_the_organisations_k(app: Any, store: EventStore):
    org = make_org(store, people_per_team=1)
    admin = Actor(tenant_id=org.tenant_id, person_id=org.admin, role="admin", source="test")
    change_settings(store, admin, 7, 1)
    client = app.test_client()
    login = {"email": org.emails["platform-1"], "password": org.password}
    assert client.post("/login", data={"csrf_token": csrf_of(client), **login}).status_code == 302
    pulse = client.get("/pulse").get_data(as_text=True)
    assert "at least 7 people answered" in pulse and "at least 5 people" not in pulse
    calendar = client.get("/calendar").get_data(as_text=True)
    assert "team aggregates over at least 7 people" in calendar

"""``/pulse`` reads its organisation's settings once a request (the cadence, and the k of
its privacy copy through ``organisation_k()``), and a change shows on the next request."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event

from services.gateway.resources import resources
from shared.commands import Actor
from shared.commands.settings import change_settings
from shared.eventlog import EventStore
from tests.conftest import make_org
from tests.portal.conftest import csrf_of

pytestmark = pytest.mark.integration


@pytest.fixture
def settings_reads(app: Flask) -> Iterator[list[str]]:
    reads: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "OrganizationSettingsChanged" in statement:
            reads.append(statement)

    with app.app_context():
        engine = resources().engine
    event.listen(engine, "before_cursor_execute", seen)
    yield reads
    event.remove(engine, "before_cursor_execute", seen)


def test_the_pulse_page_reads_the_settings_once(
    app: Flask, store: EventStore, settings_reads: list[str]
) -> None:
    org = make_org(store, people_per_team=1)
    admin = Actor(tenant_id=org.tenant_id, person_id=org.admin, role="admin", source="test")
    change_settings(store, admin, 6, 2)
    client = app.test_client()
    login = {"email": org.emails["platform-1"], "password": org.password}
    assert client.post("/login", data={"csrf_token": csrf_of(client), **login}).status_code == 302
    settings_reads.clear()
    page = client.get("/pulse").get_data(as_text=True)
    assert "Pulse (every 2 weeks)" in page and "at least 6 people answered" in page
    assert len(settings_reads) == 1
    change_settings(store, admin, 7, 4)
    page = client.get("/pulse").get_data(as_text=True)
    assert "Pulse (every 4 weeks)" in page and "at least 7 people answered" in page

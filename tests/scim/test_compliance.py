"""The scim2-tester compliance checks against ``/scim/v2``, over real HTTP: the gateway served
by werkzeug in a thread, called with scim2-client's httpx2 engine."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx2
import pytest
from flask import Flask
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server

from shared.eventlog import EventStore
from shared.settings import Settings
from tests.browser.serving import serving
from tests.scim.conftest import new_tenant

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def served(settings: Settings) -> Iterator[str]:
    from services.gateway import create_app

    app: Flask = create_app(
        {
            "COMPOUND_SETTINGS": settings,
            "RATELIMIT_ENABLED": False,
            "RATELIMIT_KEY_PREFIX": f"scim-{uuid.uuid4().hex}",
        }
    )
    with serving(app) as base:
        yield base
    app.extensions["compound"].close()


def test_scim2_tester_finds_nothing_wrong(served: str, store: EventStore) -> None:
    _, _, token = new_tenant(store)
    http = httpx2.Client(base_url=f"{served}/scim/v2", headers={"Authorization": f"Bearer {token}"})
    with http:
        client = SyncSCIMClient(http)
        results = check_server(client)
    assert len(results) > 20, results  # discovery, then CRUD and PATCH of Users and Groups
    failed = [
        f"{r.title}: {r.reason}"
        for r in results
        if r.status not in (Status.SUCCESS, Status.SKIPPED)
    ]
    assert not failed, "\n".join(failed)
    checked = {r.title for r in results}
    assert {"check_add_attribute", "check_replace_attribute", "check_remove_attribute"} <= checked

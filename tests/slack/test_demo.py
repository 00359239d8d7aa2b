"""The stand-in's demo page drives the real gateway as Slack would: ``/compound``, the link
prompt, the modal and the confirmation message, each request signed."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import replace

import pytest
import requests
from flask import Flask

from infra.slack_demo import DEMO_TEAM, demo_user_id
from infra.slack_stand_in import create_stand_in
from shared.chat.settings import SlackSettings
from shared.eventlog import AppendContext, EventStore
from shared.settings import Settings
from tests.calendar.conftest import LiveServer, free_port
from tests.conftest import make_org
from tests.slack.conftest import (
    CLIENT_ID,
    CLIENT_SECRET,
    SIGNING_SECRET,
    SlackWorld,
    csrf_of,
    install,
    login,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def demo(settings: Settings, store: EventStore) -> Iterator[tuple[SlackWorld, str]]:
    """A gateway and a stand-in with its demo page, each pointing at the other."""
    from services.gateway import create_app

    stand_in_port, gateway_port = free_port(), free_port()
    slack = SlackSettings(
        signing_secret=SIGNING_SECRET,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        api_url=f"http://127.0.0.1:{stand_in_port}/api/",
        authorize_url=f"http://127.0.0.1:{stand_in_port}/oauth/v2/authorize",
    )
    app: Flask = create_app(
        {
            "COMPOUND_SETTINGS": replace(settings, slack=slack),
            "TESTING": True,
            "RATELIMIT_ENABLED": False,
            "SERVER_NAME": "compound.test",
            "RATELIMIT_KEY_PREFIX": f"test-{uuid.uuid4().hex}",
        }
    )
    gateway = LiveServer(app, gateway_port)
    stand_in = LiveServer(
        create_stand_in(CLIENT_ID, CLIENT_SECRET, app_url=gateway.url,
                        signing_secret=SIGNING_SECRET),
        stand_in_port,
    )  # fmt: skip
    org = make_org(store)
    install(app, org, DEMO_TEAM)
    world = SlackWorld(app, store, org, DEMO_TEAM, stand_in)
    yield world, stand_in.url
    world.installations.uninstall(DEMO_TEAM, "admin", AppendContext(actor=str(org.admin)))
    stand_in.stop()
    gateway.stop()
    app.extensions["compound"].close()


def test_a_person_logs_from_the_demo_page(demo: tuple[SlackWorld, str]):
    world, url = demo
    email = world.org.emails["platform-1"]
    page = requests.get(f"{url}/demo", params={"email": email}, timeout=10)
    assert page.status_code == 200 and demo_user_id(email) in page.text

    # The first /compound: Compound does not know this Slack user yet.
    requests.post(f"{url}/demo/command", data={"email": email, "text": ""}, timeout=10)
    page = requests.get(f"{url}/demo", params={"email": email}, timeout=10)
    path = re.search(r'href="https?://[^/"]+(/slack/link/[^"]+)"', page.text)
    assert path, page.text
    person = login(world.app, email, world.org.password)
    linked = person.post(path.group(1), data={"csrf_token": csrf_of(person, path.group(1))})
    assert linked.status_code == 302

    # Linked: the modal opens (the worker's views.open reaches the stand-in), then is sent.
    requests.post(f"{url}/demo/command", data={"email": email, "text": "demo note"}, timeout=10)
    assert [kind for kind, _ in world.drain()] == ["open_modal"]
    page = requests.get(f"{url}/demo", params={"email": email}, timeout=10)
    assert 'value="learning_bit"' in page.text and "demo note" in page.text
    form = {"email": email, "tactic": "learning_bit", "minutes": "0", "audience": "team",
            "note": "demo note"}  # fmt: skip
    requests.post(f"{url}/demo/submit", data=form, timeout=10)
    page = requests.get(f"{url}/demo", params={"email": email}, timeout=10)
    assert "Enter whole minutes" in page.text  # Slack's per-field errors, shown
    requests.post(f"{url}/demo/submit", data={**form, "minutes": "12"}, timeout=10)
    world.drain()
    logged = world.events(("MicroActionLogged",))
    assert [(e.data["tactic"], e.data["minutes"]) for e in logged] == [("learning_bit", 12)]
    page = requests.get(f"{url}/demo", params={"email": email}, timeout=10)
    assert "Logged: Learning bit, 12 minutes." in page.text

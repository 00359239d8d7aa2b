"""The stand-in's demo page drives the real gateway as Slack would: ``/compound``, the link
prompt, the modal and the confirmation message, each request signed."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import requests

from infra.slack_demo import demo_user_id
from shared.eventlog import EventStore
from shared.settings import Settings
from tests.slack.conftest import SlackWorld, csrf_of, demo_world, login

pytestmark = pytest.mark.integration


@pytest.fixture
def demo(settings: Settings, store: EventStore) -> Iterator[tuple[SlackWorld, str]]:
    with demo_world(settings, store) as (world, stand_in_url, _gateway_url):
        yield world, stand_in_url


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

"""The Teams connector stand-in's demo page in Chromium: a person writes to the bot, links
their Teams account, logs a micro-action on the card (a wrong field first) and answers a
feedback request with a button, a real Dramatiq worker doing the work after each ack."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dramatiq
import pytest

from shared.eventlog import EventStore
from shared.msteams.jobs import TEAMS_QUEUE
from shared.settings import Settings
from tests.msteams.conftest import TeamsWorld, demo_world

pytestmark = pytest.mark.integration


@pytest.fixture
def demo(
    settings: Settings, store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[TeamsWorld, str]]:
    import workers.msteams

    with demo_world(settings, store) as (world, stand_in_url):
        work = world.work()
        monkeypatch.setattr(workers.msteams, "teams_work", lambda: work)
        world.resources.broker.flush(TEAMS_QUEUE)  # no other test's work: it is ours alone
        worker = dramatiq.Worker(world.resources.broker, queues={TEAMS_QUEUE}, worker_threads=2)
        worker.start()
        try:
            yield world, stand_in_url
        finally:
            worker.stop()


def after_the_worker(world: TeamsWorld, page: Any) -> None:
    """Wait for the worker to finish the work the last ack queued, then refresh."""
    world.resources.broker.join(TEAMS_QUEUE, timeout=20_000)
    page.reload()


def test_link_log_and_answer_from_the_demo_page(
    demo: tuple[TeamsWorld, str], browser: Any, screenshots: Path
):
    world, url = demo
    email = world.org.emails["platform-2"]
    page = browser.new_page()
    page.goto(f"{url}/demo")
    page.fill("input[name=email]", email)
    page.click("text=Open Teams as this person")

    page.fill("section[aria-label=compose] input[name=text]", "hello")
    page.click("section[aria-label=compose] button")
    after_the_worker(world, page)
    page.click("text=Link your account")
    page.fill("input[name=email]", email)  # Compound's login page
    page.fill("input[name=password]", world.org.password)
    page.click("button[type=submit]")
    assert "Link the Teams account" in page.content()
    page.click("text=Link this account")
    assert len(world.events(("TeamsAccountLinked",))) == 1

    page.goto(f"{url}/demo?email={email}")
    page.fill("section[aria-label=compose] input[name=text]", "log")
    page.click("section[aria-label=compose] button")
    after_the_worker(world, page)
    card = page.locator("form.card").first
    card.locator("input[name=tactic][value=learning_bit]").check()
    card.locator("input[name=minutes]").fill("0")
    card.locator("text=Log").last.click()
    after_the_worker(world, page)
    assert page.locator("text=Enter whole minutes from 1 to 480.").count() == 1
    page.screenshot(path=str(screenshots / "msteams-demo.png"), full_page=True)
    card = page.locator("form.card").first  # the card again, the message under the field
    card.locator("input[name=minutes]").fill("9")
    card.locator("button", has_text="Log").click()
    after_the_worker(world, page)
    assert page.locator("text=Logged: Learning bit, 9 minutes.").count() == 1
    logged = world.events(("MicroActionLogged",))
    assert [(e.data["tactic"], e.data["minutes"]) for e in logged] == [("learning_bit", 9)]

    client = world.app.test_client()  # Ada asks the demo user for feedback
    asked = client.post(
        "/api/v1/feedback-requests",
        json={"question": "Was the demo clear?", "colleague": str(world.org.people["platform-2"])},
        headers=world.org.headers(client, "platform-1"),
    )
    assert asked.status_code == 201
    after_the_worker(world, page)
    assert page.locator("text=asks you: Was the demo clear?").count() >= 1
    page.locator("button", has_text="Useful").first.click()
    after_the_worker(world, page)
    assert page.locator("text=Thank you: your answer (Useful) is recorded.").count() == 1
    given = world.events(("FeedbackGiven",))
    assert [(e.data["useful"], e.data["confirmed"]) for e in given] == [(True, True)]
    page.close()

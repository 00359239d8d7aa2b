"""The Slack stand-in's demo page in Chromium: a person links their Slack account and logs a
micro-action with ``/compound``, a real Dramatiq worker doing the work after each ack."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dramatiq
import pytest

from shared.chat.jobs import SLACK_QUEUE
from shared.eventlog import EventStore
from shared.i18n import format_week
from shared.settings import Settings
from tests.slack.conftest import SlackWorld, demo_world

pytestmark = pytest.mark.integration


@pytest.fixture
def demo(
    settings: Settings, store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[SlackWorld, str]]:
    import workers.slack

    with demo_world(settings, store) as (world, stand_in_url, _gateway_url):
        monkeypatch.setattr(workers.slack, "slack_work", world.work)
        worker = dramatiq.Worker(world.resources.broker, queues={SLACK_QUEUE}, worker_threads=2)
        worker.start()
        try:
            yield world, stand_in_url
        finally:
            worker.stop()


def after_the_worker(world: SlackWorld, page: Any) -> None:
    """Wait for the worker to finish the work the last ack queued, then refresh (what a person
    does in the demo: the work lands after the ack)."""
    world.resources.broker.join(SLACK_QUEUE, timeout=20_000)
    page.reload()


def test_link_and_log_from_the_demo_page(
    demo: tuple[SlackWorld, str], browser: Any, screenshots: Path
):
    world, url = demo
    email = world.org.emails["platform-1"]
    page = browser.new_page()
    page.goto(f"{url}/demo")
    page.fill("input[name=email]", email)
    page.click("text=Open Slack as this person")

    page.click("section[aria-label=command] button")  # /compound, not linked yet
    page.click("text=link your account")
    page.fill("input[name=email]", email)  # Compound's login page
    page.fill("input[name=password]", world.org.password)
    page.click("button[type=submit]")
    assert "Link Slack account" in page.content()
    page.click("text=Link this account")
    assert len(world.events(("SlackAccountLinked",))) == 1

    page.goto(f"{url}/demo?email={email}")
    page.fill("section[aria-label=command] input[name=text]", "from the browser")
    page.click("section[aria-label=command] button")
    after_the_worker(world, page)
    page.screenshot(path=str(screenshots / "slack-demo.png"), full_page=True)
    page.check("input[name=tactic][value=learning_bit]")
    page.fill("input[name=minutes]", "9")
    page.check("input[name=audience][value=team]")
    page.click("section[aria-label=modal] button")
    after_the_worker(world, page)
    assert page.locator("text=Logged: Learning bit, 9 minutes.").count() == 1
    logged = world.events(("MicroActionLogged",))
    assert [(e.data["minutes"], e.data["note"]) for e in logged] == [(9, "from the browser")]
    page.close()


def test_the_home_tab_and_the_digest_on_the_demo_page(
    demo: tuple[SlackWorld, str], browser: Any, screenshots: Path
):
    from infra.slack_demo import demo_user_id
    from shared.chat.digest_message import DigestTime, due_at
    from shared.chat.digests import SlackDigests
    from shared.chat.jobs import send_task
    from shared.projections import runtime
    from shared.projections.digests import build_digests
    from tests.slack.conftest import link

    world, url = demo
    runtime(world.store).ensure()  # the read models the Home tab and the digest read
    email = world.org.emails["platform-1"]
    link(world, "platform-1", demo_user_id(email))
    page = browser.new_page()
    page.goto(f"{url}/demo?email={email}")
    assert page.locator("text=Not opened yet.").count() == 1
    page.click("text=Open the Home tab")
    after_the_worker(world, page)
    home = page.locator("section[aria-label=home]")
    assert home.locator("text=Streak").count() == 1
    assert home.locator("text=make one on the portal").count() == 1  # no plan yet: a link

    # A week of this test's own: queuing what is due queues every organisation's digests of
    # the weeks due (tests/integration/test_weekly_digests.py builds real weeks for all).
    week = f"{random.randint(2040, 2990)}-W{random.randint(2, 50):02d}"
    with world.store.engine.begin() as conn:
        build_digests(conn, world.org.tenant_id, week, 5)
        conn.exec_driver_sql(  # this person's digest only
            "DELETE FROM weekly_digests WHERE week = %s AND tenant_id = %s AND person_id <> %s",
            (week, world.org.tenant_id, world.org.people["platform-1"]),
        )
    broker = world.resources.broker
    due = due_at(week, DigestTime())  # Monday 09:00 in the person's zone (UTC)
    SlackDigests(world.store).queue(due, lambda task: send_task("digest", task, broker))
    after_the_worker(world, page)
    messages = page.locator("section[aria-label='direct messages']")
    assert messages.locator(f"text=Your week in Compound ({format_week(week)})").count() == 1
    assert messages.locator("text=answer it on the portal").count() == 1
    page.screenshot(path=str(screenshots / "slack-demo-home.png"), full_page=True)
    page.close()

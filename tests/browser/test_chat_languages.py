"""What Compound sends in chat, in German and in French, on the stand-ins' demo pages at phone
width (390 px): a person who chose the language logs with ``/compound`` (the modal, the
reply), opens the Home tab and gets the weekly digest in Slack; in Teams they log on the card
(a wrong field first) and answer a colleague's question. Saves ``slack-demo-<locale>.png``
and ``msteams-demo-<locale>.png`` to docs/screenshots/."""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dramatiq
import pytest

from shared.chat.jobs import SLACK_QUEUE
from shared.commands import Actor
from shared.eventlog import EventStore
from shared.i18n import format_week, use_locale
from shared.i18n.preferences import choose_language
from shared.msteams.jobs import TEAMS_QUEUE
from shared.settings import Settings
from tests.conftest import DemoOrg
from tests.msteams.conftest import demo_world as teams_demo_world
from tests.slack.conftest import demo_world as slack_demo_world

pytestmark = pytest.mark.integration
PHONE = {"width": 390, "height": 844}
WORDS = {
    "de": {
        "modal": "Was haben Sie getan?",
        "logged": r"^Erfasst: .+, 9 Minuten\.$",
        "streak": "Serie",
        "digest": "Ihre Woche in Compound",
        "pulse": "im Portal beantworten",
        "wrong": "Geben Sie ganze Minuten von 1 bis 480 ein.",
        "log": "Erfassen",
        "asks": "fragt Sie: War die Demo klar?",
        "useful": "Hilfreich",
        "thanks": "Danke: Ihre Antwort (Hilfreich) ist gespeichert.",
    },
    "fr": {
        "modal": "Qu'avez-vous fait ?",
        "logged": r"^Enregistré : .+, 9 minutes\.$",
        "streak": "Série",
        "digest": "Votre semaine dans Compound",
        "pulse": "répondez sur le portail",
        "wrong": "Saisissez un nombre entier de minutes entre 1 et 480.",
        "log": "Enregistrer",
        "asks": "vous demande : La démo était-elle claire ?",
        "useful": "Utile",
        "thanks": "Merci : votre réponse (Utile) est enregistrée.",
    },
}
QUESTION = {"de": "War die Demo klar?", "fr": "La démo était-elle claire ?"}


def choose(store: EventStore, org: DemoOrg, who: str, locale: str) -> None:
    actor = Actor(tenant_id=org.tenant_id, person_id=org.people[who], source="test")
    choose_language(store, actor, locale)


@pytest.fixture
def slack(
    settings: Settings, store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Any, str]]:
    import workers.slack

    with slack_demo_world(settings, store) as (world, stand_in_url, _gateway_url):
        monkeypatch.setattr(workers.slack, "slack_work", world.work)
        worker = dramatiq.Worker(world.resources.broker, queues={SLACK_QUEUE}, worker_threads=2)
        worker.start()
        try:
            yield world, stand_in_url
        finally:
            worker.stop()


@pytest.fixture
def teams(
    settings: Settings, store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Any, str]]:
    import workers.msteams

    with teams_demo_world(settings, store) as (world, stand_in_url):
        work = world.work()
        monkeypatch.setattr(workers.msteams, "teams_work", lambda: work)
        world.resources.broker.flush(TEAMS_QUEUE)
        worker = dramatiq.Worker(world.resources.broker, queues={TEAMS_QUEUE}, worker_threads=2)
        worker.start()
        try:
            yield world, stand_in_url
        finally:
            worker.stop()


def after(world: Any, queue: str, page: Any) -> None:
    """Wait for the form's answer and the worker's work on what it queued, then refresh."""
    page.wait_for_load_state()  # the post's redirect lands first: a reload would race it
    world.resources.broker.join(queue, timeout=20_000)
    page.reload()


@pytest.mark.parametrize("locale", ["de", "fr"])
def test_slack_in_the_persons_language(
    slack: tuple[Any, str], browser: Any, screenshots: Path, locale: str
):
    from infra.slack_demo import demo_user_id
    from shared.chat.digest_message import DigestTime, due_at
    from shared.chat.digests import SlackDigests
    from shared.chat.jobs import send_task
    from shared.projections import runtime
    from shared.projections.digests import build_digests
    from tests.slack.conftest import link

    world, url = slack
    words = WORDS[locale]
    runtime(world.store).ensure()
    email = world.org.emails["platform-1"]
    link(world, "platform-1", demo_user_id(email))
    choose(world.store, world.org, "platform-1", locale)
    page = browser.new_page(viewport=PHONE)
    page.goto(f"{url}/demo?email={email}")

    page.click("section[aria-label=command] button")  # /compound: the modal
    after(world, SLACK_QUEUE, page)
    assert page.locator(f"text={words['modal']}").count() == 1
    page.check("input[name=tactic][value=learning_bit]")
    page.fill("input[name=minutes]", "9")
    page.click("section[aria-label=modal] button")
    after(world, SLACK_QUEUE, page)
    assert page.get_by_text(re.compile(words["logged"])).count() == 1

    page.click("section[aria-label=home] button")  # "Open the Home tab"
    after(world, SLACK_QUEUE, page)
    assert page.locator("section[aria-label=home]").locator(f"text={words['streak']}").count()

    # A week of this test's own: queuing what is due queues every organisation's digests.
    week = f"{random.randint(2040, 2990)}-W{random.randint(2, 50):02d}"
    with world.store.engine.begin() as conn:
        build_digests(conn, world.org.tenant_id, week, 5)
        conn.exec_driver_sql(  # this person's digest only
            "DELETE FROM weekly_digests WHERE week = %s AND tenant_id = %s AND person_id <> %s",
            (week, world.org.tenant_id, world.org.people["platform-1"]),
        )
    broker = world.resources.broker
    due = due_at(week, DigestTime())
    SlackDigests(world.store).queue(due, lambda task: send_task("digest", task, broker))
    after(world, SLACK_QUEUE, page)
    with use_locale(locale):
        heading = f"{words['digest']} ({format_week(week)})"
    messages = page.locator("section[aria-label='direct messages']")
    assert messages.locator(f"text={heading}").count() == 1
    assert messages.locator(f"text={words['pulse']}").count() == 1
    assert messages.locator("text=Your week").count() == 0  # nothing left in English
    page.screenshot(path=str(screenshots / f"slack-demo-{locale}.png"), full_page=True)
    page.close()


@pytest.mark.parametrize("locale", ["de", "fr"])
def test_teams_in_the_persons_language(
    teams: tuple[Any, str], browser: Any, screenshots: Path, locale: str
):
    world, url = teams
    words = WORDS[locale]
    email = world.org.emails["platform-2"]
    choose(world.store, world.org, "platform-2", locale)
    page = browser.new_page(viewport=PHONE)
    page.goto(f"{url}/demo")
    page.fill("input[name=email]", email)
    page.click("text=Open Teams as this person")
    page.fill("section[aria-label=compose] input[name=text]", "hello")
    page.click("section[aria-label=compose] button")
    after(world, TEAMS_QUEUE, page)
    page.locator("a, button").filter(has_text="Link").first.click()
    page.fill("input[name=email]", email)  # Compound's login page
    page.fill("input[name=password]", world.org.password)
    page.click("button[type=submit]")
    page.locator("form.card.narrow button[type=submit]").click()  # link this account
    assert len(world.events(("TeamsAccountLinked",))) == 1

    page.goto(f"{url}/demo?email={email}")
    page.fill("section[aria-label=compose] input[name=text]", "log")
    page.click("section[aria-label=compose] button")
    after(world, TEAMS_QUEUE, page)
    card = page.locator("form.card").first
    card.locator("input[name=tactic][value=learning_bit]").check()
    card.locator("input[name=minutes]").fill("0")
    card.locator("button", has_text=words["log"]).click()
    after(world, TEAMS_QUEUE, page)
    assert page.locator(f"text={words['wrong']}").count() == 1
    card = page.locator("form.card").first
    card.locator("input[name=minutes]").fill("9")
    card.locator("button", has_text=words["log"]).click()
    after(world, TEAMS_QUEUE, page)
    assert page.get_by_text(re.compile(words["logged"])).count() == 1

    client = world.app.test_client()  # a colleague asks them a question
    asked = client.post(
        "/api/v1/feedback-requests",
        json={"question": QUESTION[locale], "colleague": str(world.org.people["platform-2"])},
        headers=world.org.headers(client, "platform-1"),
    )
    assert asked.status_code == 201
    after(world, TEAMS_QUEUE, page)
    assert page.locator(f"text={words['asks']}").count() >= 1
    page.locator("button", has_text=words["useful"]).first.click()
    after(world, TEAMS_QUEUE, page)
    assert page.locator(f"text={words['thanks']}").count() == 1
    page.screenshot(path=str(screenshots / f"msteams-demo-{locale}.png"), full_page=True)
    page.close()

"""The App Home tab: ``app_home_opened`` (signed, as Slack sends it) publishes the person's
week for them alone: this week's plan with ticks, the streak and the next suggested action."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import orjson
import pytest

from shared.chat.signing import sign
from shared.commands import Actor, JournalCommands
from shared.domain.tactics import TACTICS
from shared.domain.weeks import iso_week_of
from shared.i18n import format_week
from shared.projections import runtime
from tests.slack.conftest import SIGNING_SECRET, SlackWorld, link

pytestmark = pytest.mark.integration


def home_opened(world: SlackWorld, user_id: str, tab: str = "home", secret: str = SIGNING_SECRET):
    event = {"type": "app_home_opened", "user": user_id, "channel": "D0", "tab": tab}
    body = orjson.dumps({"type": "event_callback", "team_id": world.team_id, "event": event})
    headers = sign(secret, body, int(time.time()))
    return world.app.test_client().post(
        "/slack/events", data=body, headers=headers, content_type="application/json"
    )


def published(world: SlackWorld) -> list[dict]:
    return [s for s in world.sent() if s["method"] == "views.publish"]


def view_text(view: dict) -> str:
    return json.dumps(view, ensure_ascii=False)


def test_opening_home_publishes_the_plan_with_ticks_streak_and_next_action(world: SlackWorld):
    user_id = link(world, "platform-1")
    person = world.org.people["platform-1"]
    actor = Actor(tenant_id=world.org.tenant_id, person_id=person, role="employee", source="test")
    journal = JournalCommands(world.store, world.resources.settings.require_secret_key())
    week = iso_week_of(datetime.now(UTC))
    journal.set_plan(actor, week, ["learning_bit", "relationship_deposit"], None)
    journal.log_action(actor, "learning_bit", 10, "private")
    rt = runtime(world.store)
    rt.ensure()
    rt.catch_up("plan_progress")
    rt.catch_up("capital")

    assert home_opened(world, user_id).status_code == 200
    assert [k for k, _ in world.drain()] == ["app_home"]
    (call,) = published(world)
    assert call["args"]["user_id"] == user_id  # published for this person only
    view = call["args"]["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert view["type"] == "home"
    text = view_text(view)
    assert f"Your week ({format_week(week)})" in text
    assert f"☑ {TACTICS['learning_bit'].label}" in text
    assert f"☐ {TACTICS['relationship_deposit'].label}" in text
    assert "1 of 2 done" in text
    assert "*Streak*: 1 week in a row" in text
    assert "*Next*: " in text


def test_an_unlinked_user_sees_how_to_link_and_no_one_elses_week(world: SlackWorld):
    link(world, "platform-1")
    assert home_opened(world, "U0STRANGER").status_code == 200
    world.drain()
    (call,) = published(world)
    view = call["args"]["view"]
    text = view_text(json.loads(view) if isinstance(view, str) else view)
    assert call["args"]["user_id"] == "U0STRANGER"
    assert "link your Slack account" in text
    assert "Streak" not in text and "plan" not in text


def test_the_messages_tab_and_bad_signatures_publish_nothing(world: SlackWorld):
    user_id = link(world, "platform-1")
    assert home_opened(world, user_id, tab="messages").status_code == 200
    assert home_opened(world, user_id, secret="wrong").status_code == 401
    assert world.drain() == []
    assert published(world) == []

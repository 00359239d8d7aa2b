"""Micro-feedback in Slack: the colleague a request names gets the question by direct message
with "Useful" / "Not useful"; their click is their confirmed answer, once."""

from __future__ import annotations

import time
import uuid
from typing import Any

import orjson
import pytest

from tests.slack.conftest import SlackWorld, link

pytestmark = pytest.mark.integration


def ask(world: SlackWorld, asker: str, colleague: str, question: str) -> uuid.UUID:
    client = world.app.test_client()
    response = client.post(
        "/api/v1/feedback-requests",
        json={"question": question, "colleague": str(world.org.people[colleague])},
        headers=world.org.headers(client, asker),
    )
    assert response.status_code == 201, response.get_json()
    return uuid.UUID(response.get_json()["request_id"])


def click(world: SlackWorld, user_id: str, button: dict[str, Any], at: int | None = None) -> Any:
    payload = {
        "type": "block_actions",
        "team": {"id": world.team_id},
        "user": {"id": user_id},
        "actions": [{**button, "block_id": "feedback", "type": "button"}],
    }
    return world.post("/slack/interactivity", {"payload": orjson.dumps(payload).decode()}, at=at)


def buttons_sent_to(world: SlackWorld, user_id: str) -> list[dict[str, Any]]:
    for sent in world.sent():
        blocks = sent["args"].get("blocks") or []
        if sent["method"] == "chat.postMessage" and sent["args"]["channel"] == "D" + user_id[1:]:
            for block in blocks:
                if block["type"] == "actions":
                    return list(block["elements"])
    return []


def test_the_named_colleague_answers_with_one_click_once(world: SlackWorld):
    colleague = link(world, "platform-2")
    request_id = ask(world, "platform-1", "platform-2", "Was my summary useful?")
    assert [kind for kind, _ in world.drain()] == ["feedback_ask"]
    buttons = buttons_sent_to(world, colleague)
    assert [b["text"]["text"] for b in buttons] == ["Useful", "Not useful"]
    question = next(s for s in world.sent() if s["args"].get("blocks"))["args"]["text"]
    assert "Was my summary useful?" in question

    useful = buttons[0]
    assert click(world, colleague, useful).status_code == 200
    assert click(world, colleague, buttons[1], at=int(time.time()) + 1).status_code == 200
    world.drain()
    given = world.events(("FeedbackGiven",))
    assert len(given) == 1  # the second click changed nothing
    assert given[0].data["request_id"] == str(request_id)
    assert given[0].data["useful"] is True and given[0].data["confirmed"] is True
    thanks = [s for s in world.sent() if "Thank you" in (s["args"].get("text") or "")]
    assert len(thanks) == 1


def test_someone_else_clicking_answers_nothing(world: SlackWorld):
    colleague = link(world, "platform-2")
    other = link(world, "payments-1")
    ask(world, "platform-1", "platform-2", "Clear enough?")
    world.drain()
    forged = buttons_sent_to(world, colleague)[0]  # the button's value, clicked by another
    assert click(world, other, forged).status_code == 200
    world.drain()
    assert world.events(("FeedbackGiven",)) == []
    refused = [s for s in world.sent() if "not recorded" in (s["args"].get("text") or "")]
    assert [s["args"]["channel"] for s in refused] == ["D" + other[1:]]


def test_a_colleague_without_slack_is_asked_by_mail_only(world: SlackWorld):
    ask(world, "platform-1", "platform-2", "Any thoughts?")
    assert world.drain() == []
    assert world.sent() == []

"""Requests signed as Slack signs them: only a valid, fresh, first-seen one is served; a
refused one writes nothing and sends no work."""

from __future__ import annotations

import time
from urllib.parse import urlencode

import pytest

from shared.chat.signing import sign
from tests.slack.conftest import SlackWorld, link

pytestmark = pytest.mark.integration


def test_a_valid_request_is_served(world: SlackWorld):
    response = world.command("UNOBODY1")
    assert response.status_code == 200
    assert "link your account" in response.get_json()["text"]


@pytest.mark.parametrize(
    "how", ["wrong secret", "stale", "from the future", "no signature", "not a timestamp"]
)
def test_a_bad_signature_is_refused_and_nothing_is_sent(world: SlackWorld, how: str):
    user_id = link(world, "platform-1")
    now = int(time.time())
    kwargs = {
        "wrong secret": {"secret": "not-the-signing-secret"},
        "stale": {"at": now - 301},
        "from the future": {"at": now + 301},
    }.get(how, {})
    if how in ("no signature", "not a timestamp"):
        body = urlencode({"team_id": world.team_id, "user_id": user_id, "text": ""}).encode()
        headers = {} if how == "no signature" else {
            "X-Slack-Request-Timestamp": "yesterday", "X-Slack-Signature": "v0=00"}  # fmt: skip
        response = world.app.test_client().post(
            "/slack/commands", data=body, headers=headers,
            content_type="application/x-www-form-urlencoded",
        )  # fmt: skip
    else:
        response = world.command(user_id, **kwargs)
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert world.drain() == []


def test_a_tampered_body_is_refused(world: SlackWorld):
    user_id = link(world, "platform-1")
    body = urlencode({"team_id": world.team_id, "user_id": user_id, "text": ""}).encode()
    headers = sign(world.resources.settings.slack.signing_secret or "", body, int(time.time()))
    tampered = body.replace(b"text=", b"text=unlink")
    response = world.app.test_client().post(
        "/slack/commands", data=tampered, headers=headers,
        content_type="application/x-www-form-urlencoded",
    )  # fmt: skip
    assert response.status_code == 401
    assert world.drain() == []


def test_a_replayed_request_is_refused(world: SlackWorld):
    user_id = link(world, "platform-1")
    body = urlencode(
        {"team_id": world.team_id, "user_id": user_id, "text": "", "trigger_id": "t1"}
    ).encode()
    headers = sign(world.resources.settings.slack.signing_secret or "", body, int(time.time()))
    client = world.app.test_client()
    form = "application/x-www-form-urlencoded"
    first = client.post("/slack/commands", data=body, headers=headers, content_type=form)
    again = client.post("/slack/commands", data=body, headers=headers, content_type=form)
    assert first.status_code == 200
    assert again.status_code == 401
    assert [kind for kind, _ in world.drain()] == ["open_modal"]  # the first one only


def test_the_events_url_check_is_answered(world: SlackWorld):
    import orjson

    body = orjson.dumps({"type": "url_verification", "challenge": "c-123", "token": "x"})
    headers = sign(world.resources.settings.slack.signing_secret or "", body, int(time.time()))
    response = world.app.test_client().post(
        "/slack/events", data=body, headers=headers, content_type="application/json"
    )
    assert response.status_code == 200
    assert response.get_json() == {"challenge": "c-123"}


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/slack/interactivity", {"payload": "not json"}, 400),
        ("/slack/interactivity", {"payload": "[1, 2]"}, 400),
        ("/slack/interactivity", {"payload": '{"type": "view_submission", "view": "x"}'}, 200),
        ("/slack/interactivity", {"payload": '{"type": "view_submission", "team": "T", '
                                  '"view": {"callback_id": "compound_log", "state": []}}'}, 200),
        ("/slack/interactivity", {"payload": '{"type": "block_actions", "actions": {"a": 1}}'},
         200),
        ("/slack/interactivity", {"payload": '{"type": "block_actions", "actions": ["x", '
                                  '{"action_id": "feedback_useful", "value": "not:ids"}]}'}, 200),
        ("/slack/commands", {"text": "no team, no user"}, 200),
    ],
)  # fmt: skip
def test_odd_shapes_from_slack_write_nothing(world: SlackWorld, path, body, status):
    response = world.post(path, body)
    assert response.status_code == status
    if response.get_json() and "response_action" in response.get_json():
        assert response.get_json()["response_action"] == "errors"
    assert world.drain() == []

"""The Slack Web API stand-in speaks Slack's shapes and rate-limits as Slack does; the real
``slack_sdk`` client Compound uses waits out its 429s (``Retry-After``) and loses nothing."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import requests
from slack_sdk.errors import SlackApiError

from infra.slack_stand_in import Limit, create_stand_in
from shared.chat.work import web_client
from tests.calendar.conftest import LiveServer, free_port


@pytest.fixture
def tight() -> Iterator[LiveServer]:
    """A stand-in allowing 2 calls of a method per second."""
    server = LiveServer(create_stand_in("c1", "s1", Limit(calls=2, seconds=1)), free_port())
    yield server
    server.stop()


def bot_token(server: LiveServer) -> str:
    consent = requests.get(
        f"{server.url}/oauth/v2/authorize",
        params={"client_id": "c1", "redirect_uri": "http://app.test/cb", "state": "s"},
        allow_redirects=False,
        timeout=10,
    )
    code = consent.headers["Location"].split("code=")[1].split("&")[0]
    answer = web_client(None, f"{server.url}/api/").oauth_v2_access(
        client_id="c1", client_secret="s1", code=code
    )
    assert answer["token_type"] == "bot" and answer["team"]["id"] == "T0DEMO"
    assert answer["bot_user_id"]
    return str(answer["access_token"])


def test_the_client_honours_429_and_every_message_arrives_once(tight: LiveServer):
    client = web_client(bot_token(tight), f"{tight.url}/api/")
    started = time.monotonic()
    for i in range(5):
        channel = client.conversations_open(users=f"U{i}")["channel"]["id"]
        client.chat_postMessage(channel=channel, text=f"message {i}")
    elapsed = time.monotonic() - started
    record = requests.get(f"{tight.url}/_stand_in/sent", timeout=10).json()
    texts = [s["args"]["text"] for s in record["sent"] if s["method"] == "chat.postMessage"]
    assert texts == [f"message {i}" for i in range(5)]
    assert record["rate_limited"] >= 2  # 10 calls at 2 a second per method
    assert elapsed >= 1.0  # it waited as Retry-After said


def test_a_429_carries_retry_after(tight: LiveServer):
    token = bot_token(tight)
    headers = {"Authorization": f"Bearer {token}"}
    url = f"{tight.url}/api/conversations.open"
    answers = [
        requests.post(url, data={"users": "U1"}, headers=headers, timeout=10) for _ in range(3)
    ]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[2].json() == {"ok": False, "error": "ratelimited"}
    assert int(answers[2].headers["Retry-After"]) >= 1


def test_errors_are_slacks(tight: LiveServer):
    with pytest.raises(SlackApiError) as bad_token:
        web_client("xoxb-forged", f"{tight.url}/api/").users_info(user="U1")
    assert bad_token.value.response["error"] == "invalid_auth"
    client = web_client(bot_token(tight), f"{tight.url}/api/")
    with pytest.raises(SlackApiError) as unknown:
        client.users_info(user="U404")
    assert unknown.value.response["error"] == "user_not_found"
    with pytest.raises(SlackApiError) as reused:
        web_client(None, f"{tight.url}/api/").oauth_v2_access(
            client_id="c1", client_secret="s1", code="never-issued"
        )
    assert reused.value.response["error"] == "invalid_code"

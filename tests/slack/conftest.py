"""The Slack world of these tests: the Slack Web API stand-in on a loopback port (a real
threaded HTTP server, which the real ``slack_sdk`` client talks to), a gateway configured
with a signing secret and that stand-in, an organisation with the app installed through the
OAuth v2 dance, and requests signed as Slack signs them.

Work the gateway sends to the Slack worker crosses the real Redis broker; :meth:`SlackWorld.drain`
takes it off the queue and runs it as the worker does (:class:`shared.chat.work.SlackWork`).
"""

from __future__ import annotations

import re
import secrets
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode, urlsplit

import orjson
import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

from infra.slack_demo import DEMO_TEAM
from infra.slack_stand_in import Limit, create_stand_in
from services.gateway.resources import Resources
from shared.calendar.connections import TokenCipher
from shared.chat.installations import Installations
from shared.chat.jobs import SLACK_QUEUE
from shared.chat.settings import SlackSettings
from shared.chat.signing import sign
from shared.chat.work import SlackWork
from shared.commands import JournalCommands
from shared.eventlog import AppendContext, EventStore, RecordedEvent
from shared.settings import Settings
from tests.calendar.conftest import LiveServer, free_port
from tests.conftest import DemoOrg, gateway_for_tests, make_org

SIGNING_SECRET = "signing-" + secrets.token_hex(8)
CLIENT_ID = "compound-test"
CLIENT_SECRET = "client-" + secrets.token_hex(8)
CSRF = re.compile(r'"X-CSRFToken": "([^"]+)"')


@pytest.fixture(scope="session")
def stand_in() -> Iterator[LiveServer]:
    server = LiveServer(
        create_stand_in(CLIENT_ID, CLIENT_SECRET, Limit(calls=1000, seconds=60)), free_port()
    )
    yield server
    server.stop()


@pytest.fixture(scope="session")
def slack_settings(settings: Settings, stand_in: LiveServer) -> Settings:
    return replace(
        settings,
        slack=SlackSettings(
            signing_secret=SIGNING_SECRET,
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            api_url=f"{stand_in.url}/api/",
            authorize_url=f"{stand_in.url}/oauth/v2/authorize",
        ),
    )


@pytest.fixture(scope="session")
def slack_app(slack_settings: Settings) -> Iterator[Flask]:
    yield from gateway_for_tests(slack_settings)


def login(app: Flask, email: str, password: str) -> FlaskClient:
    client = app.test_client()
    token = CSRF.search(client.get("/login").get_data(as_text=True))
    assert token
    response = client.post(
        "/login", data={"csrf_token": token.group(1), "email": email, "password": password}
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return client


def csrf_of(client: FlaskClient, path: str = "/slack") -> str:
    match = CSRF.search(client.get(path).get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


@dataclass
class SlackWorld:
    app: Flask
    store: EventStore
    org: DemoOrg
    team_id: str
    stand_in: LiveServer

    @property
    def resources(self) -> Resources:
        res = self.app.extensions["compound"]
        assert isinstance(res, Resources)
        return res

    @property
    def installations(self) -> Installations:
        return Installations(self.store, TokenCipher(self.resources.settings.master_keys))

    def work(self) -> SlackWork:
        journal = JournalCommands(self.store, self.resources.settings.require_secret_key())
        return SlackWork(self.installations, journal, self.resources.settings.slack.api_url)

    # -- Slack's side ----------------------------------------------------------------------

    def post(
        self,
        path: str,
        fields: dict[str, str],
        *,
        secret: str = SIGNING_SECRET,
        at: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        """A form post signed as Slack signs it (``v0``, the timestamp ``at``)."""
        body = urlencode(fields).encode()
        signed = sign(secret, body, int(time.time()) if at is None else at)
        return self.app.test_client().post(
            path,
            data=body,
            headers={**signed, **(headers or {})},
            content_type="application/x-www-form-urlencoded",
        )

    def command(self, user_id: str, text: str = "", **kw: Any) -> Any:
        return self.post(
            "/slack/commands",
            {
                "team_id": self.team_id,
                "user_id": user_id,
                "command": "/compound",
                "text": text,
                "trigger_id": f"trigger-{secrets.token_hex(4)}",
                "response_url": "https://hooks.slack.invalid/commands/1",
            },
            **kw,
        )

    def submit(self, user_id: str, values: dict[str, Any], view_id: str, **kw: Any) -> Any:
        payload = {
            "type": "view_submission",
            "team": {"id": self.team_id, "domain": "demo"},
            "user": {"id": user_id, "team_id": self.team_id},
            "view": {
                "id": view_id,
                "callback_id": "compound_log",
                "hash": "1700000000.abc",
                "state": {"values": values},
            },
        }
        return self.post("/slack/interactivity", {"payload": orjson.dumps(payload).decode()}, **kw)

    def add_slack_user(self, user_id: str, email: str, confirmed: bool = True) -> None:
        response = requests.post(
            f"{self.stand_in.url}/_stand_in/users",
            json={"team_id": self.team_id, "user_id": user_id, "email": email,
                  "confirmed": confirmed},
            timeout=10,
        )  # fmt: skip
        assert response.status_code == 200

    def sent(self) -> list[dict[str, Any]]:
        body = requests.get(f"{self.stand_in.url}/_stand_in/sent", timeout=10).json()
        return [s for s in body["sent"] if s["team_id"] == self.team_id]

    # -- the worker's side -----------------------------------------------------------------

    def drain(self) -> list[tuple[str, dict[str, Any]]]:
        """Take every Slack task off the queue and run it, as workers/slack.py does."""
        broker = self.resources.broker
        consumer = broker.consume(SLACK_QUEUE, prefetch=50, timeout=200)
        tasks = []
        try:
            for message in consumer:
                if message is None:
                    break
                kind, payload = message.args
                tasks.append((kind, payload))
                consumer.ack(message)
        finally:
            consumer.close()
        work = self.work()
        for kind, payload in tasks:
            work.run(kind, payload)
        return tasks

    def events(self, types: tuple[str, ...]) -> list[RecordedEvent]:
        return self.store.read_all(limit=100_000, types=types, tenant_id=self.org.tenant_id)


def install(app: Flask, org: DemoOrg, team_id: str) -> FlaskClient:
    """The admin installs the app in ``team_id`` through OAuth v2 (the stand-in consents)."""
    admin = login(app, org.emails["admin"], org.password)
    start = admin.get("/slack/install")
    assert start.status_code == 302
    consent = requests.get(
        start.headers["Location"] + f"&team={team_id}&team_name=Team+{team_id}",
        allow_redirects=False,
        timeout=10,
    )
    assert consent.status_code == 302, consent.text
    back = urlsplit(consent.headers["Location"])
    done = admin.get(f"{back.path}?{back.query}")
    assert done.status_code == 302, done.get_data(as_text=True)[:500]
    return admin


def new_team_id() -> str:
    return "T" + secrets.token_hex(5).upper()


@pytest.fixture
def world(slack_app: Flask, store: EventStore, stand_in: LiveServer) -> SlackWorld:
    """An organisation of its own with the app installed in a workspace of its own."""
    org = make_org(store)
    team_id = new_team_id()
    install(slack_app, org, team_id)
    return SlackWorld(slack_app, store, org, team_id, stand_in)


@contextmanager
def demo_world(settings: Settings, store: EventStore) -> Iterator[tuple[SlackWorld, str, str]]:
    """A live gateway and a stand-in with its demo page, each pointing at the other, and an
    organisation with the app installed in the demo workspace.

    Yields:
        The world, the stand-in's URL and the gateway's.
    """
    from services.gateway import create_app

    stand_in_port, gateway_port = free_port(), free_port()
    slack = SlackSettings(
        signing_secret=SIGNING_SECRET,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        api_url=f"http://127.0.0.1:{stand_in_port}/api/",
        authorize_url=f"http://127.0.0.1:{stand_in_port}/oauth/v2/authorize",
    )
    app = create_app(
        {
            "COMPOUND_SETTINGS": replace(settings, slack=slack),
            "RATELIMIT_ENABLED": False,
            "RATELIMIT_KEY_PREFIX": f"demo-{uuid.uuid4().hex}",
        }
    )  # no SERVER_NAME: links carry the address the stand-in called
    gateway = LiveServer(app, gateway_port)
    demo = create_stand_in(
        CLIENT_ID, CLIENT_SECRET, app_url=gateway.url, signing_secret=SIGNING_SECRET
    )
    stand_in = LiveServer(demo, stand_in_port)
    org = make_org(store)
    install(app, org, DEMO_TEAM)
    world = SlackWorld(app, store, org, DEMO_TEAM, stand_in)
    try:
        yield world, stand_in.url, gateway.url
    finally:
        world.installations.uninstall(DEMO_TEAM, "admin", AppendContext(actor=str(org.admin)))
        stand_in.stop()
        gateway.stop()
        app.extensions["compound"].close()


def link(world: SlackWorld, who: str, user_id: str | None = None) -> str:
    """Link a new Slack user of the workspace to ``who`` (the whole flow); its user id."""
    user_id = user_id or "U" + secrets.token_hex(5).upper()
    world.add_slack_user(user_id, world.org.emails[who])
    prompt = world.command(user_id).get_json()["text"]
    path = re.search(r"<https?://[^/]+(/slack/link/[^|]+)\|", prompt)
    assert path, prompt
    person = login(world.app, world.org.emails[who], world.org.password)
    response = person.post(path.group(1), data={"csrf_token": csrf_of(person, path.group(1))})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return user_id

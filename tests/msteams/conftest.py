"""The Teams world of these tests: the Bot Framework connector stand-in on a loopback port (a
real threaded HTTP server: its OpenID metadata and keys check the tokens, its Connector API
takes the bot's messages), a gateway configured with the bot's app id and that stand-in, an
organisation, and activities signed as the Bot Framework signs them.

Work the gateway sends to the Teams worker crosses the real Redis broker;
:meth:`TeamsWorld.drain` takes it off the queue and runs it as workers/msteams.py does.
"""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

from infra.msteams_stand_in import DEMO_TENANT, ConnectorState, Limit, create_stand_in
from services.gateway.resources import Resources
from shared.commands import JournalCommands
from shared.eventlog import EventStore, RecordedEvent
from shared.msteams.connector import Connector
from shared.msteams.jobs import TEAMS_QUEUE
from shared.msteams.links import TeamsLinks
from shared.msteams.settings import TeamsSettings
from shared.msteams.work import TeamsWork
from shared.settings import Settings
from tests.calendar.conftest import LiveServer, free_port
from tests.conftest import DemoOrg, gateway_for_tests, make_org

APP_ID = str(uuid.uuid4())
APP_PASSWORD = "password-" + secrets.token_hex(8)
CSRF = re.compile(r'"X-CSRFToken": "([^"]+)"')


def teams_settings(url: str) -> TeamsSettings:
    return TeamsSettings(
        app_id=APP_ID,
        app_password=APP_PASSWORD,
        openid_url=f"{url}/v1/.well-known/openidconfiguration",
        token_url=f"{url}/botframework.com/oauth2/v2.0/token",
    )


@pytest.fixture(scope="session")
def stand_in() -> Iterator[LiveServer]:
    server = LiveServer(create_stand_in(APP_ID, APP_PASSWORD, Limit(1000, 1.0)), free_port())
    yield server
    server.stop()


@pytest.fixture(scope="session")
def teams_app(settings: Settings, stand_in: LiveServer) -> Iterator[Flask]:
    yield from gateway_for_tests(replace(settings, msteams=teams_settings(stand_in.url)))


def login(app: Flask, email: str, password: str) -> FlaskClient:
    client = app.test_client()
    token = CSRF.search(client.get("/login").get_data(as_text=True))
    assert token
    response = client.post(
        "/login", data={"csrf_token": token.group(1), "email": email, "password": password}
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return client


def csrf_of(client: FlaskClient, path: str) -> str:
    match = CSRF.search(client.get(path).get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


@dataclass
class TeamsWorld:
    app: Flask
    store: EventStore
    org: DemoOrg
    stand_in: LiveServer
    aad_tenant_id: str

    @property
    def resources(self) -> Resources:
        res = self.app.extensions["compound"]
        assert isinstance(res, Resources)
        return res

    @property
    def state(self) -> ConnectorState:
        found = self.stand_in.server.app.extensions["msteams_stand_in"]
        assert isinstance(found, ConnectorState)
        return found

    @property
    def service_url(self) -> str:
        return f"{self.stand_in.url}/"

    def connector(self) -> Connector:
        return Connector(APP_ID, APP_PASSWORD, teams_settings(self.stand_in.url).token_url)

    def work(self, connector: Connector | None = None) -> TeamsWork:
        journal = JournalCommands(self.store, self.resources.settings.require_secret_key())
        return TeamsWork(
            TeamsLinks(self.store),
            journal,
            connector or self.connector(),
            self.resources.settings.require_secret_key(),
            self.resources.settings.public_url,
        )

    # -- the channel's side ----------------------------------------------------------------

    def add_user(self, email: str, name: str = "") -> str:
        """A Teams user of the organisation's directory; their Azure AD object id."""
        body = {"email": email, "name": name or email, "tenant_id": self.aad_tenant_id}
        answer = requests.post(f"{self.stand_in.url}/_stand_in/users", json=body, timeout=10)
        assert answer.status_code == 200
        return str(answer.json()["aadObjectId"])

    def activity(self, aad_object_id: str, **body: Any) -> dict[str, Any]:
        with self.state.lock:
            return self.state.activity(self.service_url, aad_object_id, body)

    def post(self, activity: dict[str, Any], token: str | None = None) -> Any:
        """POST the activity to the bot as the channel does (a fresh token unless given)."""
        token = token if token is not None else self.state.token(activity["serviceUrl"])
        return self.app.test_client().post(
            "/msteams/messages", json=activity, headers={"Authorization": f"Bearer {token}"}
        )

    def say(self, aad_object_id: str, **body: Any) -> Any:
        answer = self.post(self.activity(aad_object_id, **body))
        assert answer.status_code == 200, answer.get_data(as_text=True)
        return answer

    def sent(self, aad_object_id: str | None = None) -> list[dict[str, Any]]:
        body = requests.get(f"{self.stand_in.url}/_stand_in/sent", timeout=10).json()
        return [
            s for s in body["sent"] if aad_object_id is None or s["aad_object_id"] == aad_object_id
        ]

    # -- the worker's side -----------------------------------------------------------------

    def drain(self, work: TeamsWork | None = None) -> list[tuple[str, dict[str, Any]]]:
        """Take every Teams task off the queue and run it, as workers/msteams.py does."""
        broker = self.resources.broker
        consumer = broker.consume(TEAMS_QUEUE, prefetch=50, timeout=200)
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
        runner = work or self.work()
        for kind, payload in tasks:
            runner.run(kind, payload)
        return tasks

    def events(self, types: tuple[str, ...]) -> list[RecordedEvent]:
        return self.store.read_all(limit=100_000, types=types, tenant_id=self.org.tenant_id)

    def link(self, who: str) -> str:
        """A new Teams user linked to ``who`` (the whole flow); their Azure AD object id."""
        aad = self.add_user(self.org.emails[who])
        self.say(aad, text="hello")
        self.drain()
        url = _link_url(self.sent(aad)[-1])
        person = login(self.app, self.org.emails[who], self.org.password)
        response = person.post(url, data={"csrf_token": csrf_of(person, url)})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return aad


def _link_url(sent: dict[str, Any]) -> str:
    card = sent["activity"]["attachments"][0]["content"]
    url = str(card["actions"][0]["url"])
    found = re.search(r"(/msteams/link/.+)$", url)
    assert found, url
    return found.group(1)


@pytest.fixture
def world(teams_app: Flask, store: EventStore, stand_in: LiveServer) -> TeamsWorld:
    """An organisation of its own, with an Azure AD tenant of its own."""
    return TeamsWorld(teams_app, store, make_org(store), stand_in, str(uuid.uuid4()))


@contextmanager
def demo_world(settings: Settings, store: EventStore) -> Iterator[tuple[TeamsWorld, str]]:
    """A live gateway and a stand-in with its demo page, each pointing at the other, and an
    organisation. Yields the world and the stand-in's URL."""
    from services.gateway import create_app

    stand_in_port, gateway_port = free_port(), free_port()
    app = create_app(
        {
            "COMPOUND_SETTINGS": replace(
                settings,
                msteams=teams_settings(f"http://127.0.0.1:{stand_in_port}"),
                public_url=f"http://127.0.0.1:{gateway_port}",
            ),
            "RATELIMIT_ENABLED": False,
            "RATELIMIT_KEY_PREFIX": f"demo-{uuid.uuid4().hex}",
        }
    )
    gateway = LiveServer(app, gateway_port)
    demo = create_stand_in(APP_ID, APP_PASSWORD, bot_url=f"{gateway.url}/msteams/messages")
    stand_in = LiveServer(demo, stand_in_port)
    world = TeamsWorld(app, store, make_org(store), stand_in, DEMO_TENANT)
    try:
        yield world, stand_in.url
    finally:
        stand_in.stop()
        gateway.stop()
        app.extensions["compound"].close()

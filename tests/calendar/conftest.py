"""Live servers for the calendar tests: the local provider and the gateway, each a real WSGI
server on a loopback port, and a browser-like HTTP client that does the OAuth dance.
"""

from __future__ import annotations

import re
import secrets
import socket
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from services.calendar_provider.kinds import counts
from shared.calendar.connections import Connections, TokenCipher, connection_id_for
from shared.calendar.providers import configured_providers
from shared.calendar.settings import CalendarSettings, ProviderServerSettings
from shared.calendar.sync import CalendarSync
from shared.eventlog import AppendContext, EventStore
from shared.settings import Settings
from tests.conftest import DemoOrg, make_org

PROVIDER_PASSWORD = "provider-" + secrets.token_hex(4)
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    """A threaded werkzeug server for ``app`` on 127.0.0.1, stopped by :meth:`stop`."""

    def __init__(self, app: Flask, port: int):
        self.server: BaseWSGIServer = make_server("127.0.0.1", port, app, threaded=True)
        self.url = f"http://127.0.0.1:{port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class WireTap:
    """WSGI middleware that keeps what the provider answered (request URI and body), to
    check what crossed the wire to Compound."""

    def __init__(self, app: Any):
        self.app = app
        self.exchanges: list[tuple[str, bytes]] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        uri = f"{environ.get('PATH_INFO', '')}?{environ.get('QUERY_STRING', '')}"
        body = b"".join(self.app(environ, start_response))
        self.exchanges.append((uri, body))
        return [body]


@dataclass
class CalendarWorld:
    provider_url: str
    gateway_url: str
    admin_token: str
    client_id: str
    client_secret: str
    redirect_uri: str
    settings: Settings
    store: EventStore
    org: DemoOrg
    wire: WireTap

    @property
    def admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_token}"}

    def sync_service(self, protocol: str = "google") -> CalendarSync:
        calendar = replace(self.settings.calendar, local_protocol=protocol)
        return CalendarSync(
            Connections(self.store, TokenCipher(self.settings.master_keys)),
            configured_providers(calendar),
            calendar,
        )

    def connections(self) -> Connections:
        return Connections(self.store, TokenCipher(self.settings.master_keys))

    def register(self, who: str) -> str:
        """Give ``who``'s provider account their real manager and colleagues."""
        email = self.org.emails[who]
        team = who.split("-")[0]
        colleagues = [e for k, e in self.org.emails.items() if k.startswith(team) and k != who]
        response = requests.put(
            f"{self.provider_url}/admin/accounts/{email}",
            json={"manager": self.org.emails.get(f"{team}-manager"), "colleagues": colleagues},
            headers=self.admin,
            timeout=10,
        )
        assert response.status_code == 200
        return email

    def browser(self, who: str) -> requests.Session:
        """A session logged in to the gateway as ``who``."""
        session = requests.Session()
        page = session.get(f"{self.gateway_url}/login", timeout=10)
        response = session.post(
            f"{self.gateway_url}/login",
            data={
                "csrf_token": csrf(page.text),
                "email": self.org.emails[who],
                "password": self.org.password,
            },
            timeout=10,
        )
        assert response.status_code == 200 and "/login" not in response.url, response.text[:500]
        return session

    def start_connect(self, session: requests.Session) -> str:
        """Press "Connect calendar": returns the provider's consent URL."""
        page = session.get(f"{self.gateway_url}/calendar", timeout=10)
        assert page.status_code == 200
        response = session.post(
            f"{self.gateway_url}/calendar/connect/local",
            data={"csrf_token": csrf(page.text)},
            allow_redirects=False,
            timeout=10,
        )
        assert response.status_code == 302, response.text[:500]
        location = response.headers["Location"]
        assert location.startswith(f"{self.provider_url}/oauth/authorize?")
        return location

    def consent(self, session: requests.Session, authorize_url: str, who: str) -> str:
        """Sign in at the provider and allow: returns the callback URL (code and state)."""
        page = session.get(authorize_url, timeout=10)
        assert page.status_code == 200 and "Allow" in page.text, page.text[:500]
        response = session.post(
            authorize_url,
            data={
                "email": self.org.emails[who],
                "password": PROVIDER_PASSWORD,
                "decision": "allow",
            },
            allow_redirects=False,
            timeout=10,
        )
        assert response.status_code == 302, response.text[:500]
        callback = response.headers["Location"]
        assert callback.startswith(self.redirect_uri)
        return str(callback)

    def connect(self, who: str) -> tuple[requests.Session, uuid.UUID]:
        """The whole dance, following redirects back to the /calendar page."""
        self.register(who)
        session = self.browser(who)
        callback = self.consent(session, self.start_connect(session), who)
        page = session.get(callback, timeout=10)
        assert page.status_code == 200 and page.url == f"{self.gateway_url}/calendar"
        assert 'data-status="connected"' in page.text
        return session, connection_id_for(self.org.people[who], "local")

    def authorize(self, who: str, scope: str, verifier: str) -> str:
        """Consent at the provider as a bare OAuth client would get it: returns the code."""
        challenge = create_s256_code_challenge(verifier)
        params = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": scope,
            "state": "s1",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        response = requests.post(
            f"{self.provider_url}/oauth/authorize",
            params=params,
            data={
                "email": self.org.emails[who],
                "password": PROVIDER_PASSWORD,
                "decision": "allow",
            },
            allow_redirects=False,
            timeout=10,
        )
        assert response.status_code == 302, response.text[:300]
        return query(response.headers["Location"])["code"]

    def exchange(self, code: str, verifier: str) -> requests.Response:
        return requests.post(
            f"{self.provider_url}/oauth/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": self.redirect_uri,
                "code_verifier": verifier,
            },
            auth=(self.client_id, self.client_secret),
            timeout=10,
        )

    def connect_directly(self, who: str, scope: str) -> uuid.UUID:
        """A connection with a token obtained outside the gateway (another scope)."""
        self.register(who)
        verifier = secrets.token_urlsafe(48)
        response = self.exchange(self.authorize(who, scope, verifier), verifier)
        assert response.status_code == 200, response.text
        return self.connections().connect(
            self.org.tenant_id,
            self.org.people[who],
            "local",
            response.json(),
            AppendContext(actor=str(self.org.people[who]), source="test"),
        )

    def meetings(self, who: str) -> list[dict[str, Any]]:
        """The provider's events of ``who`` that count as meetings (docs/levers.md): the
        ones a sync turns into ``MeetingObserved``."""
        return [m for m in self.provider_events(who) if counts(m, self.org.emails[who])]

    def provider_events(self, who: str) -> list[dict[str, Any]]:
        response = requests.get(
            f"{self.provider_url}/admin/accounts/{self.org.emails[who]}/events",
            headers=self.admin,
            timeout=10,
        )
        assert response.status_code == 200
        return list(response.json()["items"])


def csrf(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


@pytest.fixture(scope="session")
def calendar_org(store: EventStore) -> DemoOrg:
    """One organisation for every calendar test module (creating people is slow: argon2);
    each test connects people of its own."""
    return make_org(store, people_per_team=5)


@pytest.fixture(scope="module")
def world(
    settings: Settings,
    store: EventStore,
    calendar_org: DemoOrg,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[CalendarWorld]:
    from services.calendar_provider import create_app as create_provider
    from services.gateway import create_app as create_gateway

    provider_port, gateway_port = free_port(), free_port()
    provider_url = f"http://127.0.0.1:{provider_port}"
    gateway_url = f"http://127.0.0.1:{gateway_port}"
    redirect_uri = f"{gateway_url}/calendar/callback/local"
    client_secret, admin_token = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    provider_settings = ProviderServerSettings(
        database=Path(tmp_path_factory.mktemp("calendar-provider")) / "provider.sqlite3",
        port=provider_port,
        client_id="compound-test",
        client_secret=client_secret,
        redirect_uris=(redirect_uri,),
        admin_token=admin_token,
        password=PROVIDER_PASSWORD,
        weeks_back=4,
        weeks_ahead=1,
    )
    calendar = CalendarSettings(
        local_url=provider_url,
        local_client_id="compound-test",
        local_client_secret=client_secret,
        # Four weeks back hold two fortnightly all-hands whatever the weekday (three weeks
        # held one from Tuesday on, and the generator cancels 4% of meetings at random).
        weeks_back=4,
        weeks_ahead=1,
        page_size=25,
    )
    gateway_settings = replace(settings, calendar=calendar)
    provider_app = create_provider(provider_settings)
    wire = WireTap(provider_app.wsgi_app)
    provider_app.wsgi_app = wire  # type: ignore[method-assign]
    provider = LiveServer(provider_app, provider_port)
    gateway_app = create_gateway(
        {
            "COMPOUND_SETTINGS": gateway_settings,
            "RATELIMIT_ENABLED": False,
            "RATELIMIT_KEY_PREFIX": f"calendar-test-{uuid.uuid4().hex}",
        }
    )
    gateway = LiveServer(gateway_app, gateway_port)
    try:
        yield CalendarWorld(
            provider_url=provider_url,
            gateway_url=gateway_url,
            admin_token=admin_token,
            client_id="compound-test",
            client_secret=client_secret,
            redirect_uri=redirect_uri,
            settings=gateway_settings,
            store=store,
            org=calendar_org,
            wire=wire,
        )
    finally:
        gateway.stop()
        provider.stop()
        gateway_app.extensions["compound"].close()


@pytest.fixture
def loopback_http(monkeypatch: pytest.MonkeyPatch) -> None:
    """oauthlib refuses plain HTTP unless told: the provider listens on loopback only."""
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")

"""SSO tests: the local provider (its OpenID Connect side) and a gateway, both served on
loopback ports, and an organisation whose own e-mail domain is routed to the provider."""

from __future__ import annotations

import dataclasses
import html
import re
import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests
from flask import Flask

from infra.embedded import free_port
from shared.calendar.settings import ProviderServerSettings
from shared.commands import Actor, OrganizationCommands, system_actor
from shared.eventlog import EventStore
from shared.settings import Settings
from shared.sso import store as sso_store
from tests.browser.serving import serving

pytestmark = pytest.mark.integration
PROVIDER_PASSWORD = "provider-pass-" + secrets.token_hex(4)
PASSWORD = "correct-horse-battery"


@dataclass
class SsoWorld:
    provider_url: str
    gateway_url: str
    admin_token: str
    client_id: str
    client_secret: str
    store: EventStore
    gateway: Flask
    tenant_id: uuid.UUID
    domain: str
    people: dict[str, uuid.UUID]

    def email(self, who: str) -> str:
        return f"{who}@{self.domain}"

    def provider_admin(self, path: str, body: dict[str, Any] | None = None) -> Any:
        response = requests.post(
            f"{self.provider_url}{path}",
            json=body or {},
            headers={"Authorization": f"Bearer {self.admin_token}"},
            timeout=10,
        )
        assert response.status_code == 200, response.text
        return response.json()

    def configure(self, **changes: Any) -> None:
        body = {
            "issuer": self.provider_url,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "domains": [self.domain],
            **changes,
        }
        sso_store.configure(self.store, system_actor(self.tenant_id, source="test"), body)


@pytest.fixture(scope="module")
def sso_world(
    settings: Settings, store: EventStore, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SsoWorld]:
    from services.calendar_provider import create_app as create_provider
    from services.gateway import create_app as create_gateway

    provider_port, gateway_port = free_port(0), free_port(0)
    gateway_url = f"http://127.0.0.1:{gateway_port}"
    client_secret, admin_token = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    provider_app = create_provider(
        ProviderServerSettings(
            database=Path(tmp_path_factory.mktemp("provider")) / "provider.sqlite3",
            port=provider_port,
            client_id="compound-sso-test",
            client_secret=client_secret,
            redirect_uris=(f"{gateway_url}/calendar/callback/local",),
            admin_token=admin_token,
            password=PROVIDER_PASSWORD,
            weeks_back=1,
            weeks_ahead=0,
        )
    )
    gateway_app = create_gateway(
        {
            "COMPOUND_SETTINGS": dataclasses.replace(settings, public_url=gateway_url),
            "RATELIMIT_ENABLED": False,
            "RATELIMIT_KEY_PREFIX": f"sso-{uuid.uuid4().hex}",
        }
    )
    domain = f"sso-{uuid.uuid4().hex[:8]}.test"
    commands = OrganizationCommands(store)
    tenant, admin = commands.create_organization(
        f"SSO {domain}", f"admin@{domain}", PASSWORD, "Admin"
    )
    actor = Actor(tenant_id=tenant, person_id=admin, role="admin", source="test")
    people = {"admin": admin}
    for who in ("ada", "grace"):
        invited = commands.invite(actor, f"{who}@{domain}", "employee")
        commands.accept_invitation(tenant, invited.person_id, who.title(), PASSWORD)
        people[who] = invited.person_id
    people["invited"] = commands.invite(actor, f"invited@{domain}", "employee").person_id
    with serving(provider_app, provider_port) as provider_url, serving(gateway_app, gateway_port):
        world = SsoWorld(
            provider_url,
            gateway_url,
            admin_token,
            "compound-sso-test",
            client_secret,
            store,
            gateway_app,
            tenant,
            domain,
            people,
        )
        world.configure()
        yield world
    gateway_app.extensions["compound"].close()


def csrf(page: str) -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert found, "no CSRF token on the page"
    return found.group(1)


@dataclass
class Journey:
    """One browser's way through the sign-in, over real HTTP (redirects followed by hand)."""

    http: requests.Session
    authorize_url: str = ""
    callback_url: str = ""
    callback: requests.Response | None = None

    def query(self, url: str) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def start(world: SsoWorld, email: str, password: str = "") -> Journey:
    """The login form, e-mail only: the gateway sends the browser to the provider."""
    journey = Journey(requests.Session())
    page = journey.http.get(f"{world.gateway_url}/login", timeout=10)
    answer = journey.http.post(
        f"{world.gateway_url}/login",
        data={"csrf_token": csrf(page.text), "email": email, "password": password},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    journey.authorize_url = continue_link(answer.text)
    return journey


def continue_link(page: str) -> str:
    """The provider's URL on the "Signing you in/out" page (a meta refresh and a link)."""
    found = re.search(r'<a href="([^"]+)" data-sso-continue>', page)
    assert found, page
    refresh = re.search(r'http-equiv="refresh" content="0;url=([^"]+)"', page)
    assert refresh and refresh.group(1) == found.group(1)
    return html.unescape(found.group(1))


def at_provider(world: SsoWorld, journey: Journey, who: str) -> Journey:
    """Sign in at the provider as ``who``; keeps the callback URL it sends the browser to."""
    email = world.email(who)
    assert journey.authorize_url.startswith(world.provider_url), journey.authorize_url
    page = journey.http.get(journey.authorize_url, allow_redirects=False, timeout=10)
    if page.status_code == 200:
        page = journey.http.post(
            journey.authorize_url,
            data={"email": email, "password": PROVIDER_PASSWORD},
            allow_redirects=False,
            timeout=10,
        )
    assert page.status_code == 302, page.text
    journey.callback_url = urljoin(journey.authorize_url, page.headers["Location"])
    return journey


def finish(journey: Journey) -> requests.Response:
    journey.callback = journey.http.get(journey.callback_url, allow_redirects=False, timeout=10)
    return journey.callback


def sign_in(world: SsoWorld, who: str) -> Journey:
    journey = at_provider(world, start(world, world.email(who)), who)
    finish(journey)
    return journey


def signed_in(world: SsoWorld, journey: Journey) -> bool:
    """Whether the journey's cookie opens the portal."""
    page = journey.http.get(f"{world.gateway_url}/", allow_redirects=False, timeout=10)
    return page.status_code == 200

"""The OAuth dance as the real client libraries do it, against the local provider: a
``requests-oauthlib`` session (what ``google-auth-oauthlib`` wraps, and what Microsoft's
Python samples use) with PKCE S256, consenting at the provider as a browser would."""

from __future__ import annotations

import uuid
from typing import Any

import requests
from requests_oauthlib import OAuth2Session

from tests.calendar.conftest import PROVIDER_PASSWORD, CalendarWorld, query


def account() -> str:
    """A new account at the provider (it serves a generated calendar to any address)."""
    return f"client-{uuid.uuid4().hex[:10]}@demo.test"


def dance(
    world: CalendarWorld, email: str, scope: list[str]
) -> tuple[OAuth2Session, dict[str, Any]]:
    """Authorize with PKCE, consent as ``email``, exchange the code: the session and token."""
    session = OAuth2Session(
        world.client_id, redirect_uri=world.redirect_uri, scope=scope, pkce="S256"
    )
    url, state = session.authorization_url(f"{world.provider_url}/oauth/authorize")
    consent = requests.post(
        url,
        data={"email": email, "password": PROVIDER_PASSWORD, "decision": "allow"},
        allow_redirects=False,
        timeout=10,
    )
    assert consent.status_code == 302, consent.text[:300]
    callback = consent.headers["Location"]
    assert query(callback)["state"] == state
    token = session.fetch_token(
        f"{world.provider_url}/oauth/token",
        authorization_response=callback,
        client_secret=world.client_secret,
        include_client_id=True,
    )
    return session, dict(token)

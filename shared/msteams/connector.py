"""The Bot Framework Connector REST API, as the Teams bot calls it (v3).

* The bot's token: OAuth 2.0 client credentials (its app id and password) at the token
  endpoint, scope ``https://api.botframework.com/.default``; kept until a minute before it
  expires.
* ``POST {serviceUrl}/v3/conversations/{id}/activities``: a message in a conversation.
* ``POST {serviceUrl}/v3/conversations``: the personal conversation with a user (proactive).
* ``GET {serviceUrl}/v3/conversations/{id}/members/{user id}``: the user, with their
  ``aadObjectId`` and ``email`` (Teams' ``TeamsChannelAccount``).

A ``429`` is waited out for its ``Retry-After`` (five in a row per call at most, then
:class:`RateLimited`: Dramatiq retries the task with backoff). The SDK's own
``ConnectorClient`` is not used: its credentials fetch the token through MSAL from
``login.microsoftonline.com``, which no local stand-in can be.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import requests

from shared.msteams.settings import TOKEN_SCOPE

RATE_LIMIT_RETRIES = 5
MAX_WAIT_SECONDS = 60


class ConnectorError(RuntimeError):
    """The connector answered an error (the task fails; Dramatiq retries)."""

    def __init__(self, status: int, detail: str):
        super().__init__(f"connector answered {status}: {detail[:200]}")
        self.status = status


class RateLimited(ConnectorError):
    """Still 429 after :data:`RATE_LIMIT_RETRIES` waits."""


@dataclass
class Connector:
    """A client of the Connector API for one bot.

    Parameters:
        app_id: the bot's app id.
        app_password: its password.
        token_url: the token endpoint.
        sleep: how to wait out a ``Retry-After`` (tests count the waits).
    """

    app_id: str
    app_password: str
    token_url: str
    sleep: Callable[[float], None] = time.sleep
    session: requests.Session = field(default_factory=requests.Session)
    waited: float = 0.0
    _token: tuple[str, float] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def token(self) -> str:
        """The bot's bearer token (fetched again a minute before it expires)."""
        with self._lock:
            if self._token and self._token[1] > time.monotonic() + 60:
                return self._token[0]
            answer = self.session.post(
                self.token_url,
                data={
                    "grant_type": "client_credentials",
                    "client_id": self.app_id,
                    "client_secret": self.app_password,
                    "scope": TOKEN_SCOPE,
                },
                timeout=10,
            )
            if answer.status_code != 200:
                raise ConnectorError(answer.status_code, answer.text)
            body = answer.json()
            expires = time.monotonic() + float(body.get("expires_in", 3600))
            self._token = (str(body["access_token"]), expires)
            return self._token[0]

    def _call(self, method: str, url: str, body: dict[str, Any] | None = None) -> Any:
        for _ in range(RATE_LIMIT_RETRIES + 1):
            answer = self.session.request(
                method,
                url,
                json=body,
                headers={"Authorization": f"Bearer {self.token()}"},
                timeout=10,
            )
            if answer.status_code != 429:
                break
            wait = answer.headers.get("Retry-After", "1")
            seconds = min(float(wait) if wait.isdigit() else 1.0, MAX_WAIT_SECONDS)
            self.waited += seconds
            self.sleep(seconds)
        else:
            raise RateLimited(429, "still rate limited")
        if answer.status_code >= 300:
            raise ConnectorError(answer.status_code, answer.text)
        return answer.json() if answer.content else {}

    def send(self, service_url: str, conversation_id: str, activity: dict[str, Any]) -> str:
        """Post a message in the conversation; returns its activity id."""
        url = f"{_base(service_url)}v3/conversations/{quote(conversation_id, safe='')}/activities"
        return str(self._call("POST", url, activity).get("id", ""))

    def personal_conversation(
        self, service_url: str, bot_id: str, user_id: str, aad_tenant_id: str
    ) -> str:
        """The id of the bot's personal conversation with the user (made if need be)."""
        body = {
            "bot": {"id": bot_id},
            "members": [{"id": user_id}],
            "isGroup": False,
            "tenantId": aad_tenant_id,
            "channelData": {"tenant": {"id": aad_tenant_id}},
        }
        return str(self._call("POST", f"{_base(service_url)}v3/conversations", body)["id"])

    def member(self, service_url: str, conversation_id: str, user_id: str) -> dict[str, Any]:
        """The conversation's member ``user_id`` (``aadObjectId``, ``email`` ...)."""
        url = (
            f"{_base(service_url)}v3/conversations/{quote(conversation_id, safe='')}"
            f"/members/{quote(user_id, safe='')}"
        )
        found = self._call("GET", url)
        return found if isinstance(found, dict) else {}


def _base(service_url: str) -> str:
    return service_url if service_url.endswith("/") else service_url + "/"

"""A local stand-in for the Bot Framework as Teams uses it: the OpenID metadata and keys that
sign the activities a channel sends a bot, the bot's token endpoint, and the Connector REST
API the bot answers through, with rate limiting (HTTP 429 and ``Retry-After``), recording
what the bot sent. ``make run`` starts it (``compound msteams-stand-in``); the tests start it
on a free port.

* ``GET /v1/.well-known/openidconfiguration`` and ``GET /v1/keys``: the metadata and its JWKS
  (one RSA key, endorsed for ``msteams``).
* ``POST /botframework.com/oauth2/v2.0/token``: client credentials (the bot's app id and
  password) for a bearer token the Connector API below requires.
* ``POST /v3/conversations``: a personal conversation with a user (proactive messages);
  ``POST /v3/conversations/{id}/activities`` (and ``.../activities/{id}``, a reply):
  a message; ``GET /v3/conversations/{id}/members/{user id}``: the member, with
  ``aadObjectId``, ``email`` and ``userPrincipalName``.
* ``POST /_stand_in/users`` adds a user, ``POST /_stand_in/activities`` has one of them send
  the bot an activity (signed as the Bot Framework signs), ``GET /_stand_in/sent`` lists what
  the bot sent, ``POST /_stand_in/limits`` sets the rate limit or injects 429s.
"""

from __future__ import annotations

import math
import secrets
import threading
import time
import uuid
from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import jwt
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, Response, jsonify, request
from jwt.algorithms import RSAAlgorithm

ISSUER = "https://api.botframework.com"
CHANNEL = "msteams"
DEMO_TENANT = "72f988bf-0000-4000-8000-00000000demo"
TOKEN_SECONDS = 3600


@dataclass
class Limit:
    """At most ``calls`` messages to one conversation in any ``seconds`` (Teams' documented
    per-bot, per-conversation limit is 7 in a second, 60 in 30 seconds)."""

    calls: int = 7
    seconds: float = 1.0


@dataclass
class ConnectorState:
    """Everything the stand-in knows, behind one lock (the server is threaded)."""

    app_id: str
    app_password: str
    key: rsa.RSAPrivateKey
    kid: str
    limit: Limit
    bot_url: str | None = None
    refuse_every: int = 0
    counted: int = 0
    rate_limited: int = 0
    tokens: set[str] = field(default_factory=set)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    """aad object id -> ``{aadObjectId, id, name, email, tenantId}``."""
    conversations: dict[str, str] = field(default_factory=dict)
    """conversation id -> aad object id (personal conversations)."""
    sent: list[dict[str, Any]] = field(default_factory=list)
    calls: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def token(self, service_url: str, *, now: float | None = None, **claims: Any) -> str:
        """A token the Bot Framework would sign for an activity to the bot (claims override)."""
        at = int(time.time() if now is None else now)
        body = {
            "iss": ISSUER,
            "aud": self.app_id,
            "serviceurl": service_url,
            "nbf": at - 5,
            "iat": at - 5,
            "exp": at + TOKEN_SECONDS,
            **claims,
        }
        return jwt.encode(body, self.key, algorithm="RS256", headers={"kid": self.kid})

    def retry_after(self, conversation: str, now: float) -> int:
        """0 when the message may go ahead (and is counted), else seconds to wait."""
        self.counted += 1
        if self.refuse_every and self.counted % self.refuse_every == 0:
            self.rate_limited += 1
            return 1
        window = self.calls[conversation]
        while window and window[0] <= now - self.limit.seconds:
            window.popleft()
        if len(window) >= self.limit.calls:
            self.rate_limited += 1
            return max(1, math.ceil(window[0] + self.limit.seconds - now))
        window.append(now)
        return 0

    def personal(self, aad_object_id: str) -> str:
        """The id of the bot's personal conversation with the user (made once)."""
        conversation = "a:" + uuid.uuid5(uuid.NAMESPACE_URL, f"{self.app_id}/{aad_object_id}").hex
        self.conversations[conversation] = aad_object_id
        return conversation

    def activity(self, base_url: str, aad_object_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """The activity the user's Teams client would make the channel send the bot."""
        user = self.users[aad_object_id]
        return {
            "type": "message",
            "id": body.get("id") or secrets.token_hex(8),
            "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "serviceUrl": base_url,
            "channelId": CHANNEL,
            "from": {"id": user["id"], "name": user["name"], "aadObjectId": aad_object_id},
            "conversation": {
                "conversationType": "personal",
                "tenantId": user["tenantId"],
                "id": self.personal(aad_object_id),
            },
            "recipient": {"id": f"28:{self.app_id}", "name": "Compound"},
            "text": body.get("text", ""),
            **({"value": body["value"]} if isinstance(body.get("value"), dict) else {}),
            "channelData": {"tenant": {"id": user["tenantId"]}},
        }


def create_stand_in(
    app_id: str,
    app_password: str,
    limit: Limit | None = None,
    bot_url: str | None = None,
) -> Flask:
    """The stand-in's WSGI app (``app.extensions["msteams_stand_in"]`` is its state).

    Parameters:
        app_id: the bot's app id (the audience of the tokens it signs).
        app_password: the bot's password (its client credentials for the token endpoint).
        limit: messages per conversation (default: Teams' 7 a second).
        bot_url: the bot's messaging endpoint (``.../msteams/messages``): where
            ``/_stand_in/activities`` sends.
    """
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    state = ConnectorState(app_id, app_password, key, secrets.token_hex(8), limit or Limit())
    state.bot_url = bot_url
    app = Flask("msteams_stand_in")
    app.extensions["msteams_stand_in"] = state

    def base() -> str:
        return request.host_url

    @app.get("/healthz")
    def healthz() -> Response:
        return jsonify({"ok": True})

    @app.get("/v1/.well-known/openidconfiguration")
    def openid() -> Response:
        return jsonify(
            {
                "issuer": ISSUER,
                "authorization_endpoint": f"{base()}v1/authorize",
                "jwks_uri": f"{base()}v1/keys",
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            }
        )

    @app.get("/v1/keys")
    def keys() -> Response:
        jwk = RSAAlgorithm.to_jwk(state.key.public_key(), as_dict=True)
        return jsonify(
            {"keys": [{**jwk, "kid": state.kid, "use": "sig", "endorsements": [CHANNEL]}]}
        )

    @app.post("/botframework.com/oauth2/v2.0/token")
    def token() -> Response:
        form = request.form
        if (
            form.get("grant_type") != "client_credentials"
            or form.get("client_id") != state.app_id
            or form.get("client_secret") != state.app_password
        ):
            return _oauth_error(400, "invalid_client")
        issued = secrets.token_urlsafe(24)
        with state.lock:
            state.tokens.add(issued)
        return jsonify(
            {"token_type": "Bearer", "expires_in": TOKEN_SECONDS, "access_token": issued}
        )

    @app.before_request
    def _authorized() -> Response | None:
        if not request.path.startswith("/v3/"):
            return None
        bearer = request.headers.get("Authorization", "").removeprefix("Bearer ")
        with state.lock:
            known = bearer in state.tokens
        return None if known else _oauth_error(401, "Unauthorized")

    @app.post("/v3/conversations")
    def create_conversation() -> Response:
        body = request.get_json(silent=True) or {}
        members = body.get("members") or []
        member = members[0] if members and isinstance(members[0], dict) else {}
        with state.lock:
            found = [u for u in state.users.values() if u["id"] == member.get("id")]
            if len(members) != 1 or body.get("isGroup") or not found:
                return _api_error(400, "BadArgument", "one member of a personal conversation")
            conversation = state.personal(found[0]["aadObjectId"])
        return jsonify({"id": conversation})

    @app.post("/v3/conversations/<conversation>/activities")
    @app.post("/v3/conversations/<conversation>/activities/<reply_to>")
    def send(conversation: str, reply_to: str | None = None) -> Response:
        body = request.get_json(silent=True) or {}
        with state.lock:
            if conversation not in state.conversations:
                return _api_error(404, "ConversationNotFound", "no such conversation")
            wait = state.retry_after(conversation, time.monotonic())
            if wait:
                response = _api_error(429, "TooManyRequests", "slow down")
                response.headers["Retry-After"] = str(wait)
                return response
            activity_id = secrets.token_hex(8)
            state.sent.append(
                {
                    "id": activity_id,
                    "conversation": conversation,
                    "aad_object_id": state.conversations[conversation],
                    "reply_to": reply_to,
                    "activity": body,
                }
            )
        return jsonify({"id": activity_id})

    @app.get("/v3/conversations/<conversation>/members/<member>")
    def member(conversation: str, member: str) -> Response:
        with state.lock:
            owner = state.users.get(state.conversations.get(conversation, ""))
        if owner is None or owner["id"] != member:
            return _api_error(404, "MemberNotFound", "no such member")
        return jsonify(
            {**owner, "userPrincipalName": owner["email"], "objectId": owner["aadObjectId"]}
        )

    @app.post("/_stand_in/users")
    def add_user() -> Response:
        body = request.get_json(silent=True) or {}
        aad = str(body.get("aad_object_id") or uuid.uuid4())
        user = {
            "aadObjectId": aad,
            "id": f"29:{aad}",
            "name": str(body.get("name") or body.get("email") or aad),
            "email": str(body.get("email") or ""),
            "tenantId": str(body.get("tenant_id") or DEMO_TENANT),
        }
        with state.lock:
            state.users[aad] = user
        return jsonify(user)

    @app.post("/_stand_in/activities")
    def activity() -> Response:
        """A user sends the bot a message (``text``) or submits a card (``value``)."""
        body = request.get_json(silent=True) or {}
        with state.lock:
            if str(body.get("aad_object_id")) not in state.users or not state.bot_url:
                return _api_error(400, "BadArgument", "unknown user, or no bot")
            sent = state.activity(base(), str(body["aad_object_id"]), body)
        answer = deliver(state, sent)
        return jsonify({"status": answer.status_code, "activity": sent})

    @app.post("/_stand_in/limits")
    def set_limit() -> Response:
        body = request.get_json(silent=True) or {}
        with state.lock:
            if "calls" in body:
                state.limit = Limit(int(body["calls"]), float(body.get("seconds", 1.0)))
            state.refuse_every = int(body.get("refuse_every") or 0)
            state.counted = 0
        return jsonify({"ok": True})

    @app.get("/_stand_in/sent")
    def sent() -> Response:
        with state.lock:
            return jsonify({"sent": list(state.sent), "rate_limited": state.rate_limited})

    if bot_url:
        from infra.msteams_demo import add_demo

        add_demo(app, state)
    return app


def deliver(state: ConnectorState, activity: dict[str, Any]) -> requests.Response:
    """POST ``activity`` to the bot as the channel does: a fresh signed token with it."""
    assert state.bot_url
    token = state.token(activity["serviceUrl"])
    return requests.post(
        state.bot_url, json=activity, headers={"Authorization": f"Bearer {token}"}, timeout=10
    )


def _api_error(status: int, code: str, message: str) -> Response:
    response = jsonify({"error": {"code": code, "message": message}})
    response.status_code = status
    return response


def _oauth_error(status: int, error: str) -> Response:
    response = jsonify({"error": error})
    response.status_code = status
    return response

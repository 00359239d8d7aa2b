"""A local stand-in for the Slack Web API: the methods Compound calls, in Slack's documented
JSON shapes, with Slack's rate limiting (HTTP 429 and ``Retry-After``), recording what was
sent. ``make run`` starts it (``compound slack-stand-in``); the tests start it on a free port.

Methods (``POST``/``GET /api/<method>``, a bot token as ``Authorization: Bearer``):
``oauth.v2.access`` (HTTP Basic client id and secret, a code from ``/oauth/v2/authorize``),
``views.open``, ``views.publish``, ``chat.postMessage`` (to a conversation, or to a user id:
the app's direct messages with them), ``conversations.open``, ``users.info``. Like Slack, an
error is HTTP 200 with ``{"ok": false, "error": ...}``, and a rate limit is HTTP 429.

``/oauth/v2/authorize`` consents at once for the stand-in's workspace (real Slack asks the
admin first). ``/_stand_in/...`` adds workspaces and users and reads what was sent.
"""

from __future__ import annotations

import base64
import math
import secrets
import threading
import time
from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import orjson
from flask import Flask, Response, jsonify, redirect, request

DEFAULT_TEAM = ("T0DEMO", "Compound demo")


@dataclass
class Limit:
    """At most ``calls`` calls of one method by one workspace in any ``seconds``."""

    calls: int = 50
    seconds: float = 60.0


CHANNEL_LIMIT = Limit(calls=5, seconds=5.0)
"""``chat.postMessage`` to one channel: "1 per second, short bursts allowed" (Slack's special
tier); the workspace-wide limit of that method is the stand-in's ``limit``, as for the others."""


@dataclass
class StandInState:
    """Everything the stand-in knows, behind one lock (the server is threaded)."""

    client_id: str
    client_secret: str
    limit: Limit
    limits: dict[str, Limit] = field(default_factory=dict)
    """A method's own limit, instead of ``limit`` (``POST /_stand_in/limits``)."""
    refuse_every: dict[str, int] = field(default_factory=dict)
    """method -> n: every n-th call of it answers 429 whatever the limits (injected)."""
    counted: Counter[str] = field(default_factory=Counter)
    rate_limited_in: Counter[str] = field(default_factory=Counter)
    """workspace -> how many 429s it was answered."""
    teams: dict[str, dict[str, str]] = field(default_factory=dict)
    users: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    codes: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    sent: list[dict[str, Any]] = field(default_factory=list)
    triggers: dict[str, str] = field(default_factory=dict)
    """trigger id -> the user whose command made it (the demo page)."""
    open_views: dict[str, dict[str, Any]] = field(default_factory=dict)
    """user -> the modal ``views.open`` showed them last (the demo page)."""
    home_views: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    """(workspace, user) -> the Home tab ``views.publish`` gave them last."""
    rate_limited: int = 0
    calls: dict[tuple[str, ...], deque[float]] = field(default_factory=lambda: defaultdict(deque))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add_team(self, team_id: str, name: str) -> dict[str, str]:
        team = self.teams.setdefault(
            team_id, {"id": team_id, "name": name, "bot_user_id": f"UB{team_id[1:]}"}
        )
        return team

    def retry_after(self, method: str, team_id: str, now: float, channel: str = "") -> int:
        """0 when the call may go ahead (and is counted), else seconds to wait (an injected
        refusal: 1).

        A ``chat.postMessage`` counts against its channel's limit (:data:`CHANNEL_LIMIT`) and
        its method's limit in the workspace; any other call against its method's limit."""
        self.counted[method] += 1
        every = self.refuse_every.get(method)
        if every and self.counted[method] % every == 0:
            self.rate_limited += 1
            self.rate_limited_in[team_id] += 1
            return 1
        keys: list[tuple[tuple[str, ...], Limit]] = [
            ((method, team_id), self.limits.get(method, self.limit))
        ]
        if method == "chat.postMessage" and channel:
            keys.append(((method, team_id, channel), CHANNEL_LIMIT))
        for key, limit in keys:
            window = self.calls[key]
            while window and window[0] <= now - limit.seconds:
                window.popleft()
            if len(window) >= limit.calls:
                self.rate_limited += 1
                self.rate_limited_in[team_id] += 1
                return max(1, math.ceil(window[0] + limit.seconds - now))
        for key, _ in keys:
            self.calls[key].append(now)
        return 0


def _ok(**body: Any) -> Response:
    return jsonify({"ok": True, **body})


def _error(error: str) -> Response:
    return jsonify({"ok": False, "error": error})


def _arguments() -> dict[str, Any]:
    args: dict[str, Any] = {**request.args.to_dict(), **request.form.to_dict()}
    if request.is_json:
        args.update(request.get_json(silent=True) or {})
    return args


def create_stand_in(
    client_id: str = "compound",
    client_secret: str = "",
    limit: Limit | None = None,
    app_url: str | None = None,
    signing_secret: str | None = None,
) -> Flask:
    """The stand-in's WSGI app, with one workspace (``T0DEMO``) to begin with.

    Parameters:
        client_id: Compound's OAuth client id here.
        client_secret: its secret (empty: any secret is accepted).
        limit: the rate limit of each method per workspace (default: 50 a minute, Slack's
            tier 3).
        app_url: Compound's gateway; with ``signing_secret``, adds the demo page
            (:mod:`infra.slack_demo`).
        signing_secret: the app's signing secret, which the demo page signs with.

    Returns:
        The Flask app; ``app.extensions["slack_stand_in"]`` is its :class:`StandInState`.
    """
    app = Flask(__name__)
    state = StandInState(client_id, client_secret, limit or Limit())
    state.add_team(*DEFAULT_TEAM)
    app.extensions["slack_stand_in"] = state

    if app_url and signing_secret:
        from infra.slack_demo import add_demo

        add_demo(app, state, app_url.rstrip("/"), signing_secret)

    @app.get("/healthz")
    def healthz() -> Response:
        return _ok()

    @app.get("/oauth/v2/authorize")
    def authorize() -> Any:
        if request.args.get("client_id") != state.client_id:
            return Response("unknown client_id", status=400)
        team_id = request.args.get("team") or DEFAULT_TEAM[0]
        code = secrets.token_urlsafe(16)
        with state.lock:
            state.add_team(team_id, request.args.get("team_name") or team_id)
            state.codes[code] = team_id
        query = urlencode({"code": code, "state": request.args.get("state", "")})
        return redirect(f"{request.args.get('redirect_uri', '')}?{query}")

    @app.route("/api/<method>", methods=["GET", "POST"])
    def api(method: str) -> Response:
        args = _arguments()
        if method == "oauth.v2.access":
            return _oauth_access(state, args)
        token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        with state.lock:
            team_id = state.tokens.get(token)
            if team_id is None:
                return _error("not_authed" if not token else "invalid_auth")
            channel = _channel(str(args.get("channel") or ""))
            wait = state.retry_after(method, team_id, time.monotonic(), channel)
            if wait:
                response = jsonify({"ok": False, "error": "ratelimited"})
                response.status_code = 429
                response.headers["Retry-After"] = str(wait)
                return response
            return _method(state, method, team_id, args)

    @app.post("/_stand_in/users")
    def add_user() -> Response:
        body = request.get_json(force=True)
        with state.lock:
            state.add_team(body["team_id"], body.get("team_name") or body["team_id"])
            state.users[(body["team_id"], body["user_id"])] = {
                "email": body["email"],
                "confirmed": bool(body.get("confirmed", True)),
            }
        return _ok()

    @app.post("/_stand_in/limits")
    def set_limit() -> Response:
        """Give a method its own limit per workspace; ``calls: null`` gives it back the
        stand-in's limit. ``refuse_every: n`` answers every n-th call of it 429 (0: none)."""
        body = request.get_json(force=True)
        with state.lock:
            if "refuse_every" in body:
                state.refuse_every[str(body["method"])] = int(body["refuse_every"])
                return _ok()
            if body.get("calls") is None:
                state.limits.pop(str(body["method"]), None)
            else:
                limit = Limit(int(body["calls"]), float(body["seconds"]))
                state.limits[str(body["method"])] = limit
        return _ok()

    @app.get("/_stand_in/sent")
    def sent() -> Response:
        with state.lock:
            return _ok(sent=list(state.sent), rate_limited=state.rate_limited)

    return app


def _oauth_access(state: StandInState, args: dict[str, Any]) -> Response:
    client_id, client_secret = args.get("client_id"), args.get("client_secret")
    basic = request.headers.get("Authorization", "")
    if basic.startswith("Basic "):
        client_id, _, client_secret = base64.b64decode(basic[6:]).decode().partition(":")
    if client_id != state.client_id or (
        state.client_secret and client_secret != state.client_secret
    ):
        return _error("invalid_client_id")
    with state.lock:
        team_id = state.codes.pop(str(args.get("code", "")), None)
        if team_id is None:
            return _error("invalid_code")
        team = state.teams[team_id]
        token = f"xoxb-{team_id}-{secrets.token_hex(12)}"
        state.tokens[token] = team_id
    return _ok(
        access_token=token,
        token_type="bot",
        scope=str(args.get("scope") or "commands,chat:write,im:write,users:read,users:read.email"),
        bot_user_id=team["bot_user_id"],
        app_id="A0STANDIN",
        team={"id": team_id, "name": team["name"]},
        enterprise=None,
        is_enterprise_install=False,
        authed_user={"id": "U0ADMIN"},
    )


def _method(state: StandInState, method: str, team_id: str, args: dict[str, Any]) -> Response:
    """One Web API method, under the state's lock."""
    if method == "users.info":
        user_id = str(args.get("user", ""))
        user = state.users.get((team_id, user_id))
        if user is None:
            return _error("user_not_found")
        return _ok(user=_user(team_id, user_id, user))
    record = {"method": method, "team_id": team_id, "args": args}
    if method == "conversations.open":
        users = str(args.get("users", ""))
        if not users:
            return _error("users_list_not_supplied")
        return _ok(channel={"id": "D" + users.split(",")[0][1:], "is_im": True})
    if method == "views.open":
        if not args.get("trigger_id") or not isinstance(args.get("view"), dict | str):
            return _error("invalid_arguments")
        state.sent.append(record)
        view = {"id": f"V{secrets.token_hex(5).upper()}", "team_id": team_id}
        view.update(_view(args["view"]))
        user_id = state.triggers.pop(str(args["trigger_id"]), "")
        if user_id:
            state.open_views[user_id] = view
        return _ok(view=view)
    if method == "views.publish":
        user_id, given = str(args.get("user_id", "")), args.get("view")
        if not user_id or not isinstance(given, dict | str) or _view(given).get("type") != "home":
            return _error("invalid_arguments")
        state.sent.append(record)
        published = {"id": f"V{secrets.token_hex(5).upper()}", "team_id": team_id, **_view(given)}
        state.home_views[(team_id, user_id)] = published
        return _ok(view=published)
    if method == "chat.postMessage":
        if not args.get("channel") or not (args.get("text") or args.get("blocks")):
            return _error("no_text")
        channel = _channel(str(args["channel"]))
        record["args"] = {**args, "channel": channel}
        state.sent.append(record)
        ts = f"{time.time():.6f}"
        return _ok(channel=channel, ts=ts, message={"text": args.get("text"), "ts": ts})
    return _error("unknown_method")


def _channel(channel: str) -> str:
    """The conversation a ``channel`` argument names: a user id (``U…``, ``W…``) is the app's
    direct-message conversation with that user, as Slack reads it."""
    return "D" + channel[1:] if channel[:1] in ("U", "W") else channel


def _view(view: Any) -> dict[str, Any]:
    return dict(orjson.loads(view)) if isinstance(view, str) else dict(view)


def _user(team_id: str, user_id: str, user: dict[str, Any]) -> dict[str, Any]:
    """A user object as ``users.info`` returns it (the fields Compound reads, and a few)."""
    return {
        "id": user_id,
        "team_id": team_id,
        "name": user["email"].split("@")[0],
        "deleted": False,
        "is_bot": False,
        "is_email_confirmed": user["confirmed"],
        "tz": "Europe/London",
        "profile": {"email": user["email"], "real_name": user["email"].split("@")[0]},
    }

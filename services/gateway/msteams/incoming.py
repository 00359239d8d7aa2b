"""What the Bot Framework sends: activities at ``POST /msteams/messages``.

Each activity's bearer token is checked before anything is done with it
(:func:`shared.msteams.auth.check_activity`): a missing, forged, expired or foreign token
answers 401 and nothing is written. An activity already seen (the Bot Framework retries one
it got no answer to, with the same id; or a replay of a captured request) is acknowledged and
not done again. Everything else is acknowledged at once and done by the ``msteams`` worker.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

import orjson
from flask import Blueprint, Flask, Response, abort
from redis import RedisError

from services.gateway.auth import csrf, unlimited
from services.gateway.context import current_request
from services.gateway.problems import problem
from services.gateway.resources import resources
from shared.messaging import namespace
from shared.msteams.auth import check_activity
from shared.msteams.jobs import send_task

bp = Blueprint("msteams_incoming", __name__, url_prefix="/msteams")
log = logging.getLogger("compound.msteams")
SEEN_SECONDS = 24 * 3600
"""How long an activity id is remembered (the Bot Framework retries within minutes)."""
PERSONAL = "personal"


@bp.post("/messages")
def messages() -> Response:
    """Check the token, remember the activity id, send the work to the worker: 200 at once.

    Activities of a group chat or a channel are acknowledged and ignored: the bot works in
    personal (one-to-one) conversations only (docs/chat.md, "Privacy")."""
    settings = resources().settings.msteams
    if not settings.app_id:
        abort(404)
    req = current_request()
    try:
        activity = orjson.loads(req.get_data(cache=True))
    except orjson.JSONDecodeError:
        activity = None
    if not isinstance(activity, dict):
        activity = {}
    verdict = check_activity(
        req.headers.get("Authorization"), activity, settings.app_id, settings.openid_url
    )
    if not verdict.ok:
        return problem(401, "Unauthorized", "not an activity from the Bot Framework")
    conversation = _object(activity, "conversation")
    if activity.get("type") != "message" or conversation.get("conversationType") != PERSONAL:
        return Response(status=200)
    seen_key = _seen_key(activity)
    redis = resources().redis
    try:
        if not redis.set(seen_key, b"1", nx=True, ex=SEEN_SECONDS):
            log.info("teams activity seen before: acknowledged, not done again")
            return Response(status=200)
        try:
            send_task("activity", _trimmed(activity), resources().broker)
        except Exception:
            redis.delete(seen_key)  # not sent: the Bot Framework's retry must do it
            raise
    except RedisError:
        return problem(503, "Service Unavailable", "try again", headers={"Retry-After": "1"})
    return Response(status=200)


def _object(payload: dict[str, Any], key: str) -> dict[str, Any]:
    value = payload.get(key)
    return value if isinstance(value, dict) else {}


def _seen_key(activity: dict[str, Any]) -> str:
    ident = "\x00".join(
        (
            str(_object(activity, "conversation").get("id", "")),
            str(activity.get("id", "")),
        )
    )
    return (
        f"{namespace(resources().broker)}:msteams-seen:{hashlib.sha256(ident.encode()).hexdigest()}"
    )


def _trimmed(activity: dict[str, Any]) -> dict[str, Any]:
    """What the worker needs of the activity: who, where, and what they sent."""
    sender = _object(activity, "from")
    conversation = _object(activity, "conversation")
    tenant = _object(_object(activity, "channelData"), "tenant").get("id")
    value = activity.get("value")
    return {
        "id": str(activity.get("id", "")),
        "service_url": str(activity.get("serviceUrl", "")),
        "user_id": str(sender.get("id", "")),
        "aad_object_id": str(sender.get("aadObjectId", "")),
        "aad_tenant_id": str(conversation.get("tenantId") or tenant or ""),
        "conversation_id": str(conversation.get("id", "")),
        "bot_id": str(_object(activity, "recipient").get("id", "")),
        "text": str(activity.get("text") or "")[:4000],
        "value": value if isinstance(value, dict) else None,
        "locale": str(activity.get("locale") or "")[
            :35
        ],  # the client's language (shared/chat/locale.py)
    }


def init_app(app: Flask) -> None:
    csrf.exempt(bp)  # the Bot Framework's token is the check (above)
    unlimited(bp)  # the Bot Framework's own rate is the limit; a replay does nothing
    app.register_blueprint(bp)

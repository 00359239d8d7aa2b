"""Is this activity from the Bot Framework, for this bot? The check of its bearer token.

The Bot Framework Connector signs a JWT for every activity it sends a bot
(https://learn.microsoft.com/azure/bot-service/rest-api/bot-framework-rest-connector-authentication):
RS256 under a key listed at the ``jwks_uri`` of its OpenID metadata, issuer
``https://api.botframework.com``, audience the bot's app id, a ``serviceurl`` claim equal to
the activity's ``serviceUrl``, and the key endorsed for the activity's channel. The SDK
(``botframework-connector``) does the checks: :class:`JwtTokenExtractor` (issuer, signature,
expiry with five minutes' leeway, endorsements; the metadata cached a day, refreshed for an
unknown key at most hourly) and :meth:`ChannelValidation.validate_identity` (audience).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import jwt
from botframework.connector.auth import (
    AuthenticationConstants,
    ChannelValidation,
    JwtTokenExtractor,
    SimpleCredentialProvider,
)

log = logging.getLogger("compound.msteams")
REFRESH_SECONDS = 5 * 60
"""The keys are fetched again for a key id they do not list, at most this often per metadata
URL (the SDK's cache keeps them a day, and its lookup of an unknown key raises before its own
hourly refresh: a key rotated in would be refused for up to a day)."""
_refreshed: dict[str, float] = {}
_lock = threading.Lock()


def _refresh_for_unknown_key(auth_header: str, openid_url: str) -> None:
    """Let the SDK fetch the keys again when the token names a key its cache does not hold."""
    try:
        kid = jwt.get_unverified_header(auth_header.partition(" ")[2]).get("kid")
    except jwt.PyJWTError:
        return
    metadata = JwtTokenExtractor.get_open_id_metadata(openid_url)
    if not kid or not metadata.keys or any(k.get("kid") == kid for k in metadata.keys):
        return
    with _lock:
        now = time.monotonic()
        if now - _refreshed.get(openid_url, -REFRESH_SECONDS) < REFRESH_SECONDS:
            return
        _refreshed[openid_url] = now
        metadata.last_updated = datetime.min  # the next lookup fetches the keys again


@dataclass(frozen=True)
class Verdict:
    """Whether an activity may be served, and why not."""

    ok: bool
    reason: str = ""


async def _identity(
    auth_header: str, activity: dict[str, Any], app_id: str, openid_url: str
) -> None:
    extractor = JwtTokenExtractor(
        ChannelValidation.TO_BOT_FROM_CHANNEL_TOKEN_VALIDATION_PARAMETERS,
        openid_url,
        AuthenticationConstants.ALLOWED_SIGNING_ALGORITHMS,
    )
    identity = await extractor.get_identity_from_auth_header(
        auth_header, str(activity.get("channelId") or "")
    )
    checked = await ChannelValidation.validate_identity(
        identity, SimpleCredentialProvider(app_id, "")
    )
    claim = checked.get_claim_value(ChannelValidation.SERVICE_URL_CLAIM)
    if not claim or claim != activity.get("serviceUrl"):
        raise PermissionError("the serviceurl claim is not the activity's serviceUrl")


def check_activity(
    auth_header: str | None, activity: dict[str, Any], app_id: str, openid_url: str
) -> Verdict:
    """Check the ``Authorization`` header of an activity before anything is done with it.

    Parameters:
        auth_header: ``Bearer <JWT>``.
        activity: the activity (its ``channelId`` and ``serviceUrl`` are checked against
            the token).
        app_id: the bot's app id (the audience).
        openid_url: the Bot Framework's OpenID metadata.

    Returns:
        ``ok``, or ``token`` with the reason logged (missing, forged, expired, another
        audience or issuer, an unendorsed channel, another service URL).
    """
    if not auth_header or not app_id:
        return Verdict(False, "token")
    try:
        _refresh_for_unknown_key(auth_header, openid_url)
        asyncio.run(_identity(auth_header, activity, app_id, openid_url))
    except Exception as err:  # the SDK raises bare Exceptions, PyJWT's and PermissionErrors
        log.warning("teams activity refused: %s: %s", type(err).__name__, err)
        return Verdict(False, "token")
    return Verdict(True)

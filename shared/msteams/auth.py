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
from dataclasses import dataclass
from typing import Any

from botframework.connector.auth import (
    AuthenticationConstants,
    ChannelValidation,
    JwtTokenExtractor,
    SimpleCredentialProvider,
)

log = logging.getLogger("compound.msteams")


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
        asyncio.run(_identity(auth_header, activity, app_id, openid_url))
    except Exception as err:  # the SDK raises bare Exceptions, PyJWT's and PermissionErrors
        log.warning("teams activity refused: %s: %s", type(err).__name__, err)
        return Verdict(False, "token")
    return Verdict(True)

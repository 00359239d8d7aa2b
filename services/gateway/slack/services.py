"""What the Slack endpoints share: the installations, the link tokens a Slack user follows to
the portal, and the task queue."""

from __future__ import annotations

from typing import Any

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from services.gateway.resources import resources
from shared.calendar.connections import TokenCipher
from shared.chat.installations import Installations
from shared.chat.jobs import send_task
from shared.chat.settings import SlackSettings
from shared.domain.errors import Gone, NotFound
from shared.i18n import gettext

LINK_MAX_AGE = 3600
"""How long the "link your account" link Slack shows works, in seconds."""


def installations() -> Installations:
    """The installations on this gateway's store (made on first use, after the fork)."""
    found = current_app.extensions.get("compound_slack")
    if found is None:
        res = resources()
        found = Installations(res.store, TokenCipher(res.settings.master_keys))
        current_app.extensions["compound_slack"] = found  # a race makes two: harmless
    assert isinstance(found, Installations)
    return found


def slack_settings() -> SlackSettings:
    return resources().settings.slack


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(resources().settings.require_secret_key(), salt="slack-link")


def link_token(team_id: str, slack_user_id: str) -> str:
    """The token of a "link your account" link: the workspace and the Slack user, signed."""
    return _serializer().dumps({"team": team_id, "user": slack_user_id})


def read_link_token(token: str) -> tuple[str, str]:
    """``(team_id, slack_user_id)`` of a link token.

    Raises:
        Gone: the link is older than :data:`LINK_MAX_AGE`.
        NotFound: the token was not made here, or was changed.
    """
    try:
        data: dict[str, Any] = _serializer().loads(token, max_age=LINK_MAX_AGE)
    except SignatureExpired:
        raise Gone(
            gettext("This link has expired: type /compound in Slack for a new one.")
        ) from None
    except BadSignature:
        raise NotFound(gettext("This link is not valid.")) from None
    return str(data["team"]), str(data["user"])


def enqueue(kind: str, payload: dict[str, Any]) -> None:
    """Send a Slack task to the worker (:mod:`shared.chat.jobs`)."""
    send_task(kind, payload, resources().broker)

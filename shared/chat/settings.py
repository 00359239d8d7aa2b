"""Slack settings: the one Compound Slack app (its signing secret and OAuth client), and
where the Slack Web API is (the real one, or the local stand-in ``make run`` starts).

Read by :meth:`shared.settings.Settings.from_env` (``settings.slack``); every variable is in
README.md and docs/chat.md.
"""

from __future__ import annotations

from dataclasses import dataclass

SLACK_API_URL = "https://slack.com/api/"
SLACK_AUTHORIZE_URL = "https://slack.com/oauth/v2/authorize"
STAND_IN_PORT = 8030
BOT_SCOPES = ("commands", "chat:write", "im:write", "users:read", "users:read.email")
"""What the bot token may do (docs/chat.md, the app manifest): no channel is ever read."""


@dataclass(frozen=True)
class SlackSettings:
    """The Slack app. Without a signing secret the ``/slack`` endpoints answer 404.

    Parameters:
        signing_secret: the app's signing secret (checks every request Slack sends).
        client_id: the app's OAuth client id (installation by an admin).
        client_secret: its OAuth client secret.
        api_url: the Web API's base URL (``slack_sdk.WebClient(base_url=...)``).
        authorize_url: Slack's OAuth v2 consent page.
        stand_in_port: the port of ``compound slack-stand-in``.
    """

    signing_secret: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    api_url: str = SLACK_API_URL
    authorize_url: str = SLACK_AUTHORIZE_URL
    stand_in_port: int = STAND_IN_PORT

    @property
    def enabled(self) -> bool:
        """Whether requests from Slack are accepted (a signing secret is set)."""
        return bool(self.signing_secret)

    @classmethod
    def from_env(cls, env: dict[str, str]) -> SlackSettings:
        """Read ``COMPOUND_SLACK_*`` from ``env``.

        Raises:
            ValueError: ``COMPOUND_SLACK_STAND_IN_PORT`` is not a port number.
        """
        api_url = env.get("COMPOUND_SLACK_API_URL") or SLACK_API_URL
        port = env.get("COMPOUND_SLACK_STAND_IN_PORT") or str(STAND_IN_PORT)
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"COMPOUND_SLACK_STAND_IN_PORT must be a port number, got {port!r}")
        return cls(
            signing_secret=env.get("COMPOUND_SLACK_SIGNING_SECRET") or None,
            client_id=env.get("COMPOUND_SLACK_CLIENT_ID") or None,
            client_secret=env.get("COMPOUND_SLACK_CLIENT_SECRET") or None,
            api_url=api_url if api_url.endswith("/") else api_url + "/",
            authorize_url=env.get("COMPOUND_SLACK_AUTHORIZE_URL") or SLACK_AUTHORIZE_URL,
            stand_in_port=int(port),
        )

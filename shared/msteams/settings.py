"""Teams settings: the bot's Microsoft app (its id and password), and where the Bot
Framework's OpenID metadata and token endpoint are (Microsoft's, or the local connector
stand-in ``make run`` starts).

Read by :meth:`shared.settings.Settings.from_env` (``settings.msteams``); every variable is in
README.md and docs/chat.md.
"""

from __future__ import annotations

from dataclasses import dataclass

OPENID_URL = "https://login.botframework.com/v1/.well-known/openidconfiguration"
"""The Bot Framework's OpenID metadata: its ``jwks_uri`` holds the keys that sign the tokens
of the activities the channels send to a bot."""
TOKEN_URL = "https://login.microsoftonline.com/botframework.com/oauth2/v2.0/token"
"""Where the bot gets its own token (client credentials) to call the connector."""
TOKEN_SCOPE = "https://api.botframework.com/.default"
STAND_IN_PORT = 8031


@dataclass(frozen=True)
class TeamsSettings:
    """The Teams bot. Without an app id the ``/msteams`` endpoints answer 404.

    Parameters:
        app_id: the bot's Microsoft app id (the ``aud`` of every token the channel sends).
        app_password: its client secret (the bot's own token for the connector).
        openid_url: the Bot Framework's OpenID metadata.
        token_url: the token endpoint of the bot's client-credentials grant.
        stand_in_port: the port of ``compound msteams-stand-in``.
    """

    app_id: str | None = None
    app_password: str | None = None
    openid_url: str = OPENID_URL
    token_url: str = TOKEN_URL
    stand_in_port: int = STAND_IN_PORT

    @property
    def enabled(self) -> bool:
        """Whether activities from Teams are accepted (an app id is set)."""
        return bool(self.app_id)

    @classmethod
    def from_env(cls, env: dict[str, str]) -> TeamsSettings:
        """Read ``COMPOUND_MSTEAMS_*`` from ``env``.

        Raises:
            ValueError: ``COMPOUND_MSTEAMS_STAND_IN_PORT`` is not a port number.
        """
        port = env.get("COMPOUND_MSTEAMS_STAND_IN_PORT") or str(STAND_IN_PORT)
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"COMPOUND_MSTEAMS_STAND_IN_PORT must be a port number, got {port!r}")
        return cls(
            app_id=env.get("COMPOUND_MSTEAMS_APP_ID") or None,
            app_password=env.get("COMPOUND_MSTEAMS_APP_PASSWORD") or None,
            openid_url=env.get("COMPOUND_MSTEAMS_OPENID_URL") or OPENID_URL,
            token_url=env.get("COMPOUND_MSTEAMS_TOKEN_URL") or TOKEN_URL,
            stand_in_port=int(port),
        )

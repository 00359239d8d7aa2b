"""The local calendar provider: a stand-in for Google Calendar and Microsoft 365.

A standalone Flask app (``compound calendar-provider``) with a real OAuth 2 authorization
server (Authlib), a Google Calendar v3-shaped ``events.list``, a Microsoft Graph-shaped
``calendarView/delta``, and an admin API that creates, moves and cancels meetings. See
docs/calendar.md.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from flask import Flask

from services.calendar_provider import oidc, routes
from services.calendar_provider.book import CalendarBook
from services.calendar_provider.oauth import Client, build_server
from services.calendar_provider.storage import ProviderStorage
from shared.calendar.settings import ProviderServerSettings


def first_monday(weeks_back: int, today: date | None = None) -> date:
    """The Monday ``weeks_back`` weeks before this week's."""
    today = today or datetime.now(UTC).date()
    return today - timedelta(days=today.weekday(), weeks=weeks_back)


def create_app(settings: ProviderServerSettings) -> Flask:
    """Build the provider.

    Parameters:
        settings: its storage file, the registered client, admin token and calendar window.
    """
    app = Flask(__name__)
    app.config.update(
        OAUTH2_REFRESH_TOKEN_GENERATOR=True,
        OAUTH2_TOKEN_EXPIRES_IN={
            "authorization_code": settings.access_token_seconds,
            "refresh_token": settings.access_token_seconds,
        },
        # Not the gateway's cookie name: both may run on 127.0.0.1, where cookies ignore ports.
        SESSION_COOKIE_NAME="calendar_provider_session",
    )
    storage = ProviderStorage(settings.database)
    client = Client(settings.client_id, settings.client_secret, settings.redirect_uris)
    server, protector = build_server(storage, client)
    server.init_app(app)
    book = CalendarBook(
        storage,
        first_monday(settings.weeks_back),
        settings.weeks_back + settings.weeks_ahead,
    )
    app.extensions["calendar_provider"] = routes.Provider(
        settings=settings, storage=storage, server=server, protector=protector, book=book
    )
    app.register_blueprint(routes.bp)
    oidc.install(app, settings)  # sign-in for the demo organisation (docs/sso.md)
    return app

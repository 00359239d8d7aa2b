"""The calendar providers Compound can connect to: endpoints, scopes and API protocol.

Google and Microsoft are configuration only (a client id and secret); ``local`` is the
stand-in provider of ``compound calendar-provider``. docs/calendar.md explains how to register
Compound with Google and Microsoft.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from shared.calendar.settings import CalendarSettings

# The narrowest scopes that give what Compound keeps: Google's events of calendars the person
# owns (their primary calendar, invitations included), read-only; Graph's calendar read, the
# least privileged permission Microsoft documents for ``event: delta`` (``Calendars.ReadBasic``
# is not listed there), with ``$select`` leaving bodies at Microsoft, and a refresh token.
GOOGLE_SCOPE = "https://www.googleapis.com/auth/calendar.events.owned.readonly"
GRAPH_SCOPE = "Calendars.Read offline_access"
# What Compound reads of an event (shared/calendar/minimise.py), asked for at the source:
# no title, description, location, organizer or attendee address leaves the provider (Graph
# cannot narrow ``attendees`` below whole entries: their addresses still arrive, and are
# counted and dropped in memory).
GOOGLE_FIELDS = (
    "items(id,etag,status,eventType,transparency,start,end,recurringEventId,organizer/self,"
    "attendeesOmitted,attendees(self,resource,responseStatus)),nextPageToken,nextSyncToken"
)
GRAPH_SELECT = (
    "start,end,isAllDay,showAs,isCancelled,isOrganizer,responseStatus,type,seriesMasterId,attendees"
)


@dataclass(frozen=True)
class ProviderConfig:
    """One OAuth client and the calendar API behind it.

    ``protocol`` is ``google`` (Calendar v3 ``events.list`` with sync tokens) or ``graph``
    (Microsoft Graph ``calendarView/delta``).
    """

    name: str
    title: str
    protocol: str
    client_id: str
    client_secret: str
    authorize_url: str
    token_url: str
    revoke_url: str | None
    api_url: str
    scope: str
    authorize_params: dict[str, str] = field(default_factory=dict)

    def events_url(self) -> str:
        if self.protocol == "google":
            return f"{self.api_url}/calendars/primary/events"
        return f"{self.api_url}/me/calendarView/delta"


def google(client_id: str, client_secret: str) -> ProviderConfig:
    return ProviderConfig(
        name="google",
        title="Google Calendar",
        protocol="google",
        client_id=client_id,
        client_secret=client_secret,
        authorize_url="https://accounts.google.com/o/oauth2/v2/auth",
        token_url="https://oauth2.googleapis.com/token",
        revoke_url="https://oauth2.googleapis.com/revoke",
        api_url="https://www.googleapis.com/calendar/v3",
        scope=GOOGLE_SCOPE,
        # A refresh token is only issued with offline access, and again only on consent.
        authorize_params={"access_type": "offline", "prompt": "consent"},
    )


def microsoft(client_id: str, client_secret: str, tenant: str = "common") -> ProviderConfig:
    base = f"https://login.microsoftonline.com/{tenant}/oauth2/v2.0"
    return ProviderConfig(
        name="microsoft",
        title="Microsoft 365",
        protocol="graph",
        client_id=client_id,
        client_secret=client_secret,
        authorize_url=f"{base}/authorize",
        token_url=f"{base}/token",
        revoke_url=None,  # Microsoft has no RFC 7009 endpoint: tokens are dropped locally
        api_url="https://graph.microsoft.com/v1.0",
        scope=GRAPH_SCOPE,
    )


def local(url: str, client_id: str, client_secret: str, protocol: str = "google") -> ProviderConfig:
    api = f"{url}/calendar/v3" if protocol == "google" else f"{url}/v1.0"
    return ProviderConfig(
        name="local",
        title="Local calendar (demo provider)",
        protocol=protocol,
        client_id=client_id,
        client_secret=client_secret,
        authorize_url=f"{url}/oauth/authorize",
        token_url=f"{url}/oauth/token",
        revoke_url=f"{url}/oauth/revoke",
        api_url=api,
        scope=GOOGLE_SCOPE if protocol == "google" else GRAPH_SCOPE,
    )


def configured_providers(settings: CalendarSettings) -> dict[str, ProviderConfig]:
    """The providers with a client id (and, when listed, named in ``providers``)."""
    found: dict[str, ProviderConfig] = {}
    if settings.google_client_id and settings.google_client_secret:
        found["google"] = google(settings.google_client_id, settings.google_client_secret)
    if settings.microsoft_client_id and settings.microsoft_client_secret:
        found["microsoft"] = microsoft(
            settings.microsoft_client_id,
            settings.microsoft_client_secret,
            settings.microsoft_tenant,
        )
    if settings.local_client_id and settings.local_client_secret:
        found["local"] = local(
            settings.local_url,
            settings.local_client_id,
            settings.local_client_secret,
            settings.local_protocol,
        )
    if settings.providers:
        found = {name: p for name, p in found.items() if name in settings.providers}
    return found

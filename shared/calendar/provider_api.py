"""The provider's calendar API over HTTP: pages of a full listing or of the changes since a
sync token, with automatic token refresh, and the errors a sync tells apart.

Google pages with ``pageToken`` then ``syncToken``; Graph with ``@odata.nextLink`` then
``@odata.deltaLink`` (one ``calendarView/delta`` listing).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import requests
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session

from shared.calendar.providers import GOOGLE_FIELDS, GRAPH_SELECT, ProviderConfig
from shared.calendar.settings import CalendarSettings

HTTP_TIMEOUT = 30


class SyncTokenExpired(Exception):
    """The provider answered 410 Gone: the sync token is no longer valid."""


class GrantRevoked(Exception):
    """The provider refuses the tokens (revoked access, invalid refresh token)."""


class SyncFailed(Exception):
    """Another provider error (5xx, unexpected answer): the sync is tried again later."""


@dataclass
class Page:
    """One page of a listing: its raw events and, on the last page only, the next token."""

    items: list[dict[str, Any]]
    sync_token: str | None  # set on the last page only


class ProviderApi:
    """Pages through one connection's calendar over HTTP with automatic token refresh."""

    def __init__(
        self,
        provider: ProviderConfig,
        token: dict[str, Any],
        on_token: Callable[[dict[str, Any]], None],
        settings: CalendarSettings,
    ):
        self.provider = provider
        self.settings = settings
        self.session = OAuth2Session(
            provider.client_id,
            provider.client_secret,
            token=token,
            token_endpoint=provider.token_url,
            update_token=lambda new, refresh_token=None, access_token=None: on_token(dict(new)),
        )

    def _get(self, url: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        headers = {}
        if self.provider.protocol == "graph":
            headers["Prefer"] = f"odata.maxpagesize={self.settings.page_size}"
        for attempt in (1, 2):
            try:
                response = self.session.get(
                    url, params=params, headers=headers, timeout=HTTP_TIMEOUT
                )
            except OAuthError as err:  # the automatic refresh was refused
                raise GrantRevoked(err.error) from None
            except requests.RequestException as err:
                raise SyncFailed(f"{type(err).__name__}: {err}") from None
            if response.status_code == 401 and attempt == 1:
                # The access token was revoked before it expired: one refresh, then give up.
                try:
                    self.session.refresh_token(self.provider.token_url)
                except OAuthError as err:
                    raise GrantRevoked(err.error) from None
                continue
            if response.status_code == 401:
                raise GrantRevoked("unauthorized")
            if response.status_code == 410:
                raise SyncTokenExpired()
            if response.status_code != 200:
                raise SyncFailed(f"{url} answered {response.status_code}")
            try:
                body = orjson.loads(response.content)  # several times faster than json
            except orjson.JSONDecodeError:
                raise SyncFailed(f"{url} answered something other than JSON") from None
            assert isinstance(body, dict)
            return body
        raise SyncFailed("unreachable")

    def pages(self, sync_token: str | None) -> Iterator[Page]:
        """Every page of a full listing (``sync_token`` None) or of the changes since it."""
        if self.provider.protocol == "graph":
            yield from self._graph_pages(sync_token)
        else:
            yield from self._google_pages(sync_token)

    def _window(self) -> tuple[datetime, datetime]:
        now = datetime.now(UTC)
        return (
            now - timedelta(weeks=self.settings.weeks_back),
            now + timedelta(weeks=self.settings.weeks_ahead),
        )

    def _google_pages(self, sync_token: str | None) -> Iterator[Page]:
        params: dict[str, Any] = {
            "maxResults": self.settings.page_size,
            "singleEvents": "true",
            "fields": GOOGLE_FIELDS,
        }
        if sync_token:
            params["syncToken"] = sync_token
        else:  # Google refuses timeMin together with a syncToken: only the full sync has one
            low, high = self._window()
            params["timeMin"] = low.isoformat().replace("+00:00", "Z")
            params["timeMax"] = high.isoformat().replace("+00:00", "Z")
        while True:
            body = self._get(self.provider.events_url(), params)
            items = [i for i in body.get("items") or [] if isinstance(i, dict)]
            if body.get("nextPageToken"):
                yield Page(items, None)
                params = {**params, "pageToken": body["nextPageToken"]}
                continue
            if not body.get("nextSyncToken"):
                raise SyncFailed("the last page carries no nextSyncToken")
            yield Page(items, str(body["nextSyncToken"]))
            return

    def _graph_pages(self, delta_link: str | None) -> Iterator[Page]:
        url: str = delta_link or self.provider.events_url()
        params: dict[str, Any] | None = None
        if not delta_link:
            low, high = self._window()
            params = {  # Graph carries $select in the next and delta links
                "startDateTime": low.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "endDateTime": high.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "$select": GRAPH_SELECT,
            }
        while True:
            body = self._get(url, params)
            items = [i for i in body.get("value") or [] if isinstance(i, dict)]
            if body.get("@odata.nextLink"):
                yield Page(items, None)
                url, params = str(body["@odata.nextLink"]), None
                continue
            if not body.get("@odata.deltaLink"):
                raise SyncFailed("the last page carries no @odata.deltaLink")
            yield Page(items, str(body["@odata.deltaLink"]))
            return

    def revoke(self) -> None:
        """Revoke the refresh token (and with it the grant) at the provider, if it can."""
        if not self.provider.revoke_url:
            return
        token = self.session.token or {}
        value = token.get("refresh_token") or token.get("access_token")
        if value:
            hint = "refresh_token" if token.get("refresh_token") else "access_token"
            self.session.revoke_token(
                self.provider.revoke_url, value, token_type_hint=hint, timeout=HTTP_TIMEOUT
            )

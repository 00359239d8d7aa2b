"""Google's own client against the local provider: ``google-api-python-client`` built from
the Calendar v3 discovery document it ships, pointed at the provider, with ``google-auth``
credentials from a PKCE dance (requests-oauthlib). Paging, sync tokens, the 410 of an
expired sync token, refresh with rotation, and revocation, as Google documents them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from google.auth.exceptions import RefreshError
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build_from_document
from googleapiclient.discovery_cache import get_static_doc
from googleapiclient.errors import HttpError

from shared.calendar.providers import GOOGLE_FIELDS, GOOGLE_SCOPE
from tests.calendar.clients import account, dance
from tests.calendar.conftest import CalendarWorld

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("loopback_http")]


def calendar_service(world: CalendarWorld, credentials: Credentials) -> Any:
    document = get_static_doc("calendar", "v3")
    assert document and json.loads(document)["rootUrl"] == "https://www.googleapis.com/"
    return build_from_document(
        document,
        credentials=credentials,
        client_options={"api_endpoint": f"{world.provider_url}/calendar/v3/"},
    )


def credentials_for(world: CalendarWorld, token: dict[str, Any], **extra: Any) -> Credentials:
    return Credentials(
        token=token["access_token"],
        refresh_token=token["refresh_token"],
        token_uri=f"{world.provider_url}/oauth/token",
        client_id=world.client_id,
        client_secret=world.client_secret,
        scopes=[GOOGLE_SCOPE],
        **extra,
    )


def listing(service: Any, **params: Any) -> tuple[list[dict[str, Any]], str]:
    """Every page of ``events.list`` through the client's ``list_next``: items, sync token."""
    items: list[dict[str, Any]] = []
    request = service.events().list(calendarId="primary", singleEvents=True, **params)
    while request is not None:
        page = request.execute()
        items += page.get("items", [])
        sync_token = page.get("nextSyncToken")
        request = service.events().list_next(request, page)
    assert sync_token
    return items, sync_token


def test_the_real_google_scope_is_granted_and_pages_and_syncs(world: CalendarWorld):
    email = account()
    _, token = dance(world, email, [GOOGLE_SCOPE])
    assert token["scope"] == [GOOGLE_SCOPE] or token["scope"] == GOOGLE_SCOPE
    service = calendar_service(world, credentials_for(world, token))
    now = datetime.now(UTC)
    window = {
        # The provider holds four weeks back and one ahead: the team sync's moved instance
        # (every third ISO week, never cancelled) is among them whatever the day.
        "timeMin": (now - timedelta(weeks=10)).isoformat(),
        "timeMax": (now + timedelta(weeks=1)).isoformat(),
    }
    items, sync_token = listing(service, maxResults=20, **window)

    assert len(items) > 40 and len({i["id"] for i in items}) == len(items)
    assert all(i["updated"].endswith("Z") and "eventType" in i for i in items)
    kinds = {i["eventType"] for i in items}
    assert {"default", "focusTime", "workingLocation"} <= kinds
    assert any("date" in i["start"] for i in items)  # all-day
    assert any(i.get("transparency") == "transparent" for i in items)
    assert any(i["start"].get("timeZone") == "America/New_York" for i in items)
    assert any(len(i.get("attendees", [])) > 200 for i in items)  # a town hall, every 4th week
    assert any(i.get("originalStartTime") != i["start"] for i in items if "recurringEventId" in i)

    trimmed, _ = listing(service, maxResults=50, fields=GOOGLE_FIELDS, **window)
    assert {i["id"] for i in trimmed} == {i["id"] for i in items}
    assert not any("summary" in i or "description" in i or "location" in i for i in trimmed)
    assert not any("email" in a for i in trimmed for a in i.get("attendees", []))

    moved = next(i for i in items if i["eventType"] == "default" and "dateTime" in i["start"])
    start = datetime.fromisoformat(moved["start"]["dateTime"]) + timedelta(hours=1)
    assert requests.patch(
        f"{world.provider_url}/admin/accounts/{email}/events/{moved['id']}",
        json={"start": start.isoformat(), "end": (start + timedelta(minutes=30)).isoformat()},
        headers=world.admin,
        timeout=10,
    ).ok
    instance = next(i for i in items if "recurringEventId" in i and i["id"] != moved["id"])
    admin = f"{world.provider_url}/admin/accounts/{email}/events/{instance['id']}"
    assert requests.delete(admin, headers=world.admin, timeout=10).ok
    changed, next_token = listing(service, syncToken=sync_token)
    assert [c["id"] for c in changed] == [moved["id"], instance["id"]]
    assert next_token != sync_token
    assert changed[1] == {  # a cancelled instance, as Google's incremental sync sends it
        "kind": "calendar#event",
        "etag": changed[1]["etag"],
        "id": instance["id"],
        "status": "cancelled",
        "recurringEventId": instance["recurringEventId"],
        "originalStartTime": instance["originalStartTime"],
    }

    with pytest.raises(HttpError) as refused:  # Google refuses timeMin beside a syncToken
        service.events().list(calendarId="primary", syncToken=next_token, **window).execute()
    assert refused.value.resp.status == 400

    assert requests.post(
        f"{world.provider_url}/admin/accounts/{email}/sync-tokens/expire",
        headers=world.admin,
        timeout=10,
    ).ok
    with pytest.raises(HttpError) as gone:
        service.events().list(calendarId="primary", syncToken=next_token).execute()
    assert gone.value.resp.status == 410
    assert json.loads(gone.value.content)["error"]["errors"][0]["reason"] == "fullSyncRequired"
    again, _ = listing(service, maxResults=250, **window)  # the full sync Google asks for
    assert len(again) == len(items) - 1  # the cancelled instance is no longer listed


def test_google_auth_refreshes_rotates_and_stops_after_revocation(world: CalendarWorld):
    _, token = dance(world, account(), [GOOGLE_SCOPE])
    expired = datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=5)
    credentials = credentials_for(world, token, expiry=expired)
    service = calendar_service(world, credentials)

    page = service.events().list(calendarId="primary", maxResults=5).execute()

    assert page["items"] and credentials.token != token["access_token"]
    assert credentials.refresh_token != token["refresh_token"]  # rotated, and kept
    old = requests.post(
        f"{world.provider_url}/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"]},
        auth=(world.client_id, world.client_secret),
        timeout=10,
    )
    assert old.status_code == 400 and old.json()["error"] == "invalid_grant"

    revoked = requests.post(
        f"{world.provider_url}/oauth/revoke",
        data={"token": credentials.refresh_token},
        auth=(world.client_id, world.client_secret),
        timeout=10,
    )
    assert revoked.status_code == 200
    with pytest.raises((HttpError, RefreshError)):
        service.events().list(calendarId="primary", maxResults=5).execute()

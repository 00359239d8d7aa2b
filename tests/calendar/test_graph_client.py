"""Microsoft Graph as Microsoft documents the delta query of a calendar view ("Get
incremental changes to events in a calendar view"), over ``requests-oauthlib`` (the SDK's
own paging is in test_msgraph_client.py): the dance, ``Prefer: odata.maxpagesize``,
``@odata.nextLink`` then ``@odata.deltaLink``, ``$select`` carried in the links, ``@removed``,
410 and a full resync, refresh with rotation, and the scopes' difference in bodies."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from requests_oauthlib import OAuth2Session

from tests.calendar.clients import account, dance
from tests.calendar.conftest import CalendarWorld

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("loopback_http")]
SCOPES = ["Calendars.ReadBasic", "offline_access"]


def rounds(session: OAuth2Session, url: str) -> tuple[list[dict[str, Any]], str]:
    """Follow ``@odata.nextLink`` to the ``@odata.deltaLink``: every event, the delta link."""
    events: list[dict[str, Any]] = []
    while True:
        response = session.get(url, headers={"Prefer": "odata.maxpagesize=30"}, timeout=10)
        assert response.status_code == 200, response.text[:300]
        body = response.json()
        events += body["value"]
        if "@odata.nextLink" in body:
            url = body["@odata.nextLink"]
            continue
        return events, body["@odata.deltaLink"]


def first_url(world: CalendarWorld, select: str | None = None) -> str:
    now = datetime.now(UTC)
    start = (now - timedelta(weeks=4)).strftime("%Y-%m-%dT%H:%M:%S")
    end = (now + timedelta(weeks=1)).strftime("%Y-%m-%dT%H:%M:%S")
    # Microsoft's own example writes the parameters in lower case
    url = f"{world.provider_url}/v1.0/me/calendarView/delta?startdatetime={start}&enddatetime={end}"
    return url + (f"&$SELECT={select}" if select else "")


def test_delta_rounds_select_removed_and_410(world: CalendarWorld):
    email = account()
    session, _ = dance(world, email, SCOPES)
    events, delta_link = rounds(session, first_url(world, "start,end,showAs,isAllDay"))

    assert len(events) > 40 and len({e["id"] for e in events}) == len(events)
    assert all(
        set(e) <= {"id", "@odata.etag", "start", "end", "showAs", "isAllDay"} for e in events
    )
    assert {"busy", "free", "tentative"} <= {e["showAs"] for e in events}
    assert any(e["isAllDay"] for e in events)

    base = f"{world.provider_url}/admin/accounts/{email}/events"
    gone = next(e["id"] for e in events if e["showAs"] == "busy")
    assert requests.delete(f"{base}/{gone}", headers=world.admin, timeout=10).ok
    changes, next_link = rounds(session, delta_link)
    assert changes == [{"id": gone, "@removed": {"reason": "deleted"}}]
    quiet, _ = rounds(session, next_link)
    assert quiet == []

    expire = f"{world.provider_url}/admin/accounts/{email}/sync-tokens/expire"
    assert requests.post(expire, headers=world.admin, timeout=10).ok
    assert session.get(next_link, timeout=10).status_code == 410
    again, _ = rounds(session, first_url(world))  # the full resync Microsoft asks for
    assert len(again) == len(events) - 1
    assert "bodyPreview" not in again[0]  # Calendars.ReadBasic: no bodies


def test_calendars_read_receives_bodies(world: CalendarWorld):
    session, token = dance(world, account(), ["Calendars.Read", "offline_access"])
    assert token["scope"] in (["Calendars.Read", "offline_access"], "Calendars.Read offline_access")
    events, _ = rounds(session, first_url(world))
    assert all("bodyPreview" in e for e in events)


def test_refresh_rotates_and_revocation_ends_the_grant(world: CalendarWorld):
    _, token = dance(world, account(), SCOPES)
    kept: list[dict[str, Any]] = []
    session = OAuth2Session(
        world.client_id,
        token={**token, "expires_at": time.time() - 60},
        auto_refresh_url=f"{world.provider_url}/oauth/token",
        auto_refresh_kwargs={"client_id": world.client_id, "client_secret": world.client_secret},
        token_updater=kept.append,
    )
    events, _ = rounds(session, first_url(world))
    assert events and kept and kept[0]["refresh_token"] != token["refresh_token"]
    old = requests.post(
        f"{world.provider_url}/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"]},
        auth=(world.client_id, world.client_secret),
        timeout=10,
    )
    assert old.json()["error"] == "invalid_grant"
    revoked = requests.post(
        f"{world.provider_url}/oauth/revoke",
        data={"token": kept[0]["refresh_token"], "token_type_hint": "refresh_token"},
        auth=(world.client_id, world.client_secret),
        timeout=10,
    )
    assert revoked.status_code == 200
    assert session.get(first_url(world), timeout=10).status_code == 401

"""Grants over real HTTP: refresh with rotation, revocation, disconnect, and the rejections
(state mismatch, wrong PKCE verifier, replayed authorization code, no PKCE at all)."""

from __future__ import annotations

import secrets
import time

import requests
from sqlalchemy import text

from shared.calendar.providers import GOOGLE_SCOPE
from tests.calendar.conftest import CalendarWorld, csrf, query


def stored_token(world: CalendarWorld, connection_id) -> dict:
    connection = world.connections().get(connection_id)
    assert connection is not None and connection.token is not None
    return connection.token


def refresh(world: CalendarWorld, refresh_token: str) -> requests.Response:
    return requests.post(
        f"{world.provider_url}/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": refresh_token},
        auth=(world.client_id, world.client_secret),
        timeout=10,
    )


def test_an_expired_access_token_is_refreshed_and_the_refresh_token_rotates(world: CalendarWorld):
    _, connection_id = world.connect("payments-2")
    old = stored_token(world, connection_id)
    world.connections().save_token(connection_id, {**old, "expires_at": int(time.time()) - 60})

    report = world.sync_service().sync(connection_id)

    assert report.status == "synced" and report.observed > 0
    new = stored_token(world, connection_id)
    assert new["access_token"] != old["access_token"]
    assert new["refresh_token"] != old["refresh_token"]
    assert refresh(world, old["refresh_token"]).json()["error"] == "invalid_grant"
    with world.store.engine.connect() as db:
        sealed = db.execute(
            text("SELECT token FROM calendar_connections WHERE id = :c"), {"c": connection_id}
        ).scalar_one()
    assert new["refresh_token"].encode() not in bytes(sealed)  # encrypted at rest


def test_a_revoked_grant_asks_the_person_to_reconnect(world: CalendarWorld):
    session, connection_id = world.connect("payments-3")
    sync = world.sync_service()
    first = sync.sync(connection_id)
    email = world.org.emails["payments-3"]
    revoke = f"{world.provider_url}/admin/accounts/{email}/grants/revoke"
    assert requests.post(revoke, headers=world.admin, timeout=10).json()["revoked"] >= 1

    report = sync.sync(connection_id)

    assert report.status == "needs_reconnect"
    connection = world.connections().get(connection_id)
    assert connection is not None and connection.status == "needs_reconnect"
    assert connection.token is None
    last = world.store.read_stream(f"calendar-{world.org.people['payments-3']}")[-1]
    assert last.type == "CalendarDisconnected" and last.data["reason"] == "invalid_grant"
    page = session.get(f"{world.gateway_url}/calendar", timeout=10)
    assert 'data-status="needs-reconnect"' in page.text and "Reconnect" in page.text
    assert sync.sync(connection_id).status == "inactive"

    # Reconnecting continues the same connection, and its full sync duplicates nothing.
    _, again = world.connect("payments-3")
    assert again == connection_id
    count = len(world.store.read_stream(f"calendar-{world.org.people['payments-3']}"))
    resync = sync.sync(connection_id)
    assert resync.full and resync.seen >= first.observed and resync.observed == 0
    assert len(world.store.read_stream(f"calendar-{world.org.people['payments-3']}")) == count


def test_disconnect_revokes_at_the_provider_and_deletes_the_tokens(world: CalendarWorld):
    session, connection_id = world.connect("admin")
    token = stored_token(world, connection_id)
    page = session.get(f"{world.gateway_url}/calendar", timeout=10)
    response = session.post(
        f"{world.gateway_url}/calendar/disconnect/local",
        data={"csrf_token": csrf(page.text)},
        timeout=10,
    )
    assert response.status_code == 200 and 'data-status="disconnected"' in response.text
    connection = world.connections().get(connection_id)
    assert connection is not None and connection.status == "disconnected"
    assert connection.token is None
    api = requests.get(
        f"{world.provider_url}/calendar/v3/calendars/primary/events",
        headers={"Authorization": f"Bearer {token['access_token']}"},
        timeout=10,
    )
    assert api.status_code == 401
    assert refresh(world, token["refresh_token"]).json()["error"] == "invalid_grant"
    last = world.store.read_stream(f"calendar-{world.org.people['admin']}")[-1]
    assert last.type == "CalendarDisconnected" and last.data["reason"] == "user"


def test_a_callback_with_another_state_is_rejected(world: CalendarWorld):
    who = "platform-manager"
    world.register(who)
    session = world.browser(who)
    callback = world.consent(session, world.start_connect(session), who)
    forged = callback.replace(f"state={query(callback)['state']}", "state=forged-state")
    response = session.get(forged, timeout=10)
    assert response.status_code == 400 and "state did not match" in response.text
    assert world.connections().of_person(world.org.people[who]) == {}


def test_a_replayed_callback_is_rejected(world: CalendarWorld):
    who = "payments-manager"
    world.register(who)
    session = world.browser(who)
    callback = world.consent(session, world.start_connect(session), who)
    assert session.get(callback, timeout=10).status_code == 200
    versions = len(world.store.read_stream(f"calendar-{world.org.people[who]}"))
    replay = session.get(callback, timeout=10)
    assert replay.status_code == 400
    assert len(world.store.read_stream(f"calendar-{world.org.people[who]}")) == versions


def test_the_provider_rejects_a_wrong_verifier_and_a_replayed_code(world: CalendarWorld):
    world.register("platform-1")
    verifier = secrets.token_urlsafe(48)
    code = world.authorize("platform-1", GOOGLE_SCOPE, verifier)
    wrong = world.exchange(code, secrets.token_urlsafe(48))
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"

    code = world.authorize("platform-1", GOOGLE_SCOPE, verifier)
    first = world.exchange(code, verifier)
    assert first.status_code == 200 and first.json()["refresh_token"]
    replay = world.exchange(code, verifier)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"


def test_the_provider_requires_pkce_with_s256(world: CalendarWorld):
    params = {
        "response_type": "code",
        "client_id": world.client_id,
        "redirect_uri": world.redirect_uri,
        "scope": GOOGLE_SCOPE,
        "state": "s",
    }
    url = f"{world.provider_url}/oauth/authorize"
    missing = requests.get(url, params=params, timeout=10)
    assert missing.status_code == 400 and "PKCE is required" in missing.text
    plain = requests.get(
        url,
        params={**params, "code_challenge": "a" * 43, "code_challenge_method": "plain"},
        timeout=10,
    )
    assert plain.status_code == 400 and "S256" in plain.text


def test_an_erased_person_is_disconnected_and_their_tokens_deleted(world: CalendarWorld):
    from shared.commands import Actor, OrganizationCommands

    _, connection_id = world.connect("platform-4")
    token = stored_token(world, connection_id)
    admin = Actor(tenant_id=world.org.tenant_id, person_id=world.org.admin, role="admin")
    OrganizationCommands(world.store).erase(admin, world.org.people["platform-4"])

    assert world.sync_service().sync(connection_id).status == "inactive"

    connection = world.connections().get(connection_id)
    assert connection is not None and connection.status == "disconnected"
    assert connection.token is None
    last = world.store.read_stream(f"calendar-{world.org.people['platform-4']}")[-1]
    assert last.type == "CalendarDisconnected" and last.data["reason"] == "erased"
    assert refresh(world, token["refresh_token"]).json()["error"] == "invalid_grant"

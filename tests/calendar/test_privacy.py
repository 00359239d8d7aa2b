"""Data minimisation: after a sync, a dump of the whole database holds no meeting title,
description or attendee address (docs/calendar.md); and the page and queue around connecting."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import redis
import requests

from tests.calendar.conftest import CalendarWorld
from tests.integration.test_crypto_shredding import dump_database
from workers.scheduler import sync_calendars


def test_a_database_dump_holds_no_title_description_or_attendee_address(
    world: CalendarWorld, embedded_bin_dir: Path
):
    who = "payments-4"
    world.register(who)
    marker = uuid.uuid4().hex[:12]
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)
    email = world.org.emails[who]
    created = requests.post(
        f"{world.provider_url}/admin/accounts/{email}/events",
        json={
            "start": start.isoformat(),
            "end": (start + timedelta(hours=1)).isoformat(),
            "summary": f"Secret merger {marker}",
            "description": f"Confidential agenda {marker}",
            "attendees": [f"outsider-{marker}@rival.example"],
        },
        headers=world.admin,
        timeout=10,
    )
    assert created.status_code == 201
    _, connection_id = world.connect(who)
    report = world.sync_service().sync(connection_id)
    assert report.observed > 20

    meetings = [m for m in world.provider_events(who) if m["status"] == "confirmed"]
    titles = {m["summary"] for m in meetings}
    descriptions = {m["description"] for m in meetings}
    directory = {e.lower() for e in world.org.emails.values()}
    outsiders = {a[0] for m in meetings for a in m["attendees"]} - directory
    assert len(titles) > 3 and len(descriptions) > 10 and len(outsiders) > 10  # can fail

    dump = dump_database(world.store.engine, embedded_bin_dir)

    assert f"outsider-{marker}@rival.example" in outsiders
    assert marker not in dump
    assert [d for d in descriptions if d in dump] == []
    assert [a for a in outsiders if a in dump] == []
    assert [t for t in titles if t in dump] == []


def test_connecting_enqueues_a_sync_job(world: CalendarWorld):
    client = redis.Redis.from_url(world.settings.redis_url or "")
    namespace = os.environ["COMPOUND_QUEUE_NAMESPACE"]
    before = client.hlen(f"{namespace}:calendar.msgs")
    _, connection_id = world.connect("platform-5")
    messages = client.hvals(f"{namespace}:calendar.msgs")
    assert client.hlen(f"{namespace}:calendar.msgs") > before
    assert any(str(connection_id).encode() in m for m in messages)
    assert sync_calendars(world.store.engine) >= 1  # the scheduler's round sends them too
    assert client.hlen(f"{namespace}:calendar.msgs") > len(messages)


def test_the_calendar_page_needs_a_login_and_a_known_provider(world: CalendarWorld):
    anonymous = requests.get(f"{world.gateway_url}/calendar", timeout=10)
    assert anonymous.url.startswith(f"{world.gateway_url}/login")
    session = world.browser("platform-1")
    page = session.get(f"{world.gateway_url}/calendar", timeout=10)
    assert "<strong>Never titles, descriptions or attendee addresses.</strong>" in page.text
    unknown = session.get(f"{world.gateway_url}/calendar/callback/google", timeout=10)
    assert unknown.status_code == 404


def test_key_rotation_re_encrypts_every_token_with_the_newest_key(world: CalendarWorld):
    import uuid as _uuid

    from shared.calendar.connections import Connections, TokenCipher, rotate_tokens
    from shared.eventlog import AppendContext, generate_master_key

    old, new = world.settings.master_keys[0], generate_master_key()
    token = {"access_token": "a-" + _uuid.uuid4().hex, "refresh_token": "r", "expires_at": 1}
    connection_id = Connections(world.store, TokenCipher([old])).connect(
        _uuid.uuid4(), _uuid.uuid4(), "local", token, AppendContext(actor="test")
    )
    with world.store.engine.begin() as db:
        assert rotate_tokens(db, [new, old]) >= 1

    try:
        rotated = Connections(world.store, TokenCipher([new])).get(connection_id)
        assert rotated is not None and rotated.token == token  # the new key alone reads it
    finally:  # every other calendar test reads tokens with the session's key
        with world.store.engine.begin() as db:
            rotate_tokens(db, [old, new])

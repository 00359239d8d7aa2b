"""Out-of-office blocks through the sync, over real HTTP from the stand-in (Google's shape and
Graph's): each becomes an ``OutOfOfficeObserved`` (timing only), a moved block a new one, a
deleted block a ``MeetingCancelled``; none becomes a meeting (docs/levers.md, "What counts
as a meeting")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import requests

from shared.calendar.providers import GRAPH_SCOPE
from tests.calendar.conftest import CalendarWorld
from tests.calendar.test_oauth_misuse import person


def blocks_in_window(world: CalendarWorld, who: str) -> list[dict]:
    low = datetime.now(UTC) - timedelta(weeks=4)
    return [
        e
        for e in world.provider_events(who)
        if e["kind"] == "outOfOffice"
        and e["status"] == "confirmed"
        and datetime.fromisoformat(e["end"]) > low
    ]


def calendar_events(world: CalendarWorld, who: str) -> list:
    return list(world.store.read_stream(f"calendar-{world.org.people[who]}"))


def add_block(world: CalendarWorld, who: str, days_ago: int, days: int) -> dict:
    midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start = midnight - timedelta(days=days_ago)
    response = requests.post(
        f"{world.provider_url}/admin/accounts/{world.org.emails[who]}/events",
        json={
            "start": start.isoformat(),
            "end": (start + timedelta(days=days)).isoformat(),
            "summary": "Out of office: hiking",
            "kind": "outOfOffice",
        },
        headers=world.admin,
        timeout=10,
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_blocks_arrive_as_time_away_and_leave_as_cancellations(world: CalendarWorld):
    who = person(world)
    add_block(world, who, 9, 3)  # three days, ending six days ago: always in the window
    _, connection_id = world.connect(who)
    sync = world.sync_service()
    first = sync.sync(connection_id)
    assert first.full and first.observed > 20
    away = [e for e in calendar_events(world, who) if e.type == "OutOfOfficeObserved"]
    expected = blocks_in_window(world, who)
    assert len(away) == len(expected) >= 1
    assert all(set(e.data) == {"person_id", "connection_id", "meeting_key", "start", "end"}
               for e in away)  # fmt: skip
    spans = sorted((e.data["start"], e.data["end"]) for e in away)
    assert spans == sorted((b["start"], b["end"]) for b in expected)

    added = add_block(world, who, 1, 1)
    grown = sync.sync(connection_id)
    assert (grown.full, grown.observed, grown.cancelled) == (False, 0, 0)
    (new,) = [e for e in calendar_events(world, who) if e.type == "OutOfOfficeObserved"][
        len(away) :
    ]
    assert (new.data["start"], new.data["end"]) == (added["start"], added["end"])

    url = f"{world.provider_url}/admin/accounts/{world.org.emails[who]}/events/{added['id']}"
    assert requests.delete(url, headers=world.admin, timeout=10).ok
    gone = sync.sync(connection_id)
    assert (gone.observed, gone.cancelled) == (0, 1)
    last = calendar_events(world, who)[-1]
    assert last.type == "MeetingCancelled"
    assert last.data["meeting_key"] == new.data["meeting_key"]
    assert sync.sync(connection_id).cancelled == 0  # nothing twice


def test_graph_out_of_office_is_time_away_too(world: CalendarWorld):
    who = person(world)
    add_block(world, who, 9, 2)
    connection_id = world.connect_directly(who, GRAPH_SCOPE)
    assert world.sync_service("graph").sync(connection_id).full
    away = [e for e in calendar_events(world, who) if e.type == "OutOfOfficeObserved"]
    assert len(away) == len(blocks_in_window(world, who)) >= 1

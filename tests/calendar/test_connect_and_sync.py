"""The OAuth dance over real HTTP, then syncs: first, incremental, after a 410, and after
the grant is revoked. Provider and gateway are live servers on loopback ports."""

from __future__ import annotations

import gc
from datetime import datetime, timedelta
from typing import Any

import pytest
import requests
from sqlalchemy import text

from shared.calendar.providers import GRAPH_SCOPE
from shared.gc_pause import pauses_in_progress
from tests.calendar.conftest import CalendarWorld
from tests.calendar.test_oauth_misuse import person


def meeting_events(world: CalendarWorld, who: str) -> list:
    stream = f"calendar-{world.org.people[who]}"
    return [e for e in world.store.read_stream(stream) if e.type.startswith("Meeting")]


def test_connect_then_first_sync_appends_minimised_meetings(world: CalendarWorld):
    session, connection_id = world.connect("platform-1")
    report = world.sync_service().sync(connection_id)

    assert report.status == "synced" and report.full and report.pages > 1
    assert report.observed > 20
    events = meeting_events(world, "platform-1")
    assert len(events) == report.observed + report.cancelled
    observed = [e.data for e in events if e.type == "MeetingObserved"]
    assert set(observed[0]) == {
        "person_id", "connection_id", "meeting_key", "start", "end", "attendee_count",
        "organizer_is_self", "response_status", "recurring",
    }  # fmt: skip
    assert any(d["attendee_count"] == 2 for d in observed)  # the weekly 1:1
    assert {d["response_status"] for d in observed} <= {"accepted", "tentative"}
    assert any(d["recurring"] for d in observed) and any(not d["recurring"] for d in observed)
    assert any(d["attendee_count"] > 20 for d in observed)  # all-hands
    assert len({d["meeting_key"] for d in observed}) == len(observed)

    page = session.get(f"{world.gateway_url}/calendar", timeout=10)
    assert f"{report.observed} meetings" in page.text

    again = world.sync_service().sync(connection_id)
    assert (again.full, again.observed, again.cancelled) == (False, 0, 0)


def test_a_changed_meeting_arrives_alone_on_the_next_sync(world: CalendarWorld):
    _, connection_id = world.connect("platform-2")
    sync = world.sync_service()
    sync.sync(connection_id)
    before = meeting_events(world, "platform-2")
    live = world.meetings("platform-2")
    moved, dropped = live[len(live) // 2], live[len(live) // 2 + 1]
    start = datetime.fromisoformat(moved["start"]) + timedelta(hours=1)
    base = f"{world.provider_url}/admin/accounts/{world.org.emails['platform-2']}/events"
    assert requests.patch(
        f"{base}/{moved['id']}",
        json={"start": start.isoformat(), "end": (start + timedelta(minutes=30)).isoformat()},
        headers=world.admin,
        timeout=10,
    ).ok
    assert requests.delete(f"{base}/{dropped['id']}", headers=world.admin, timeout=10).ok

    report = sync.sync(connection_id)

    assert (report.full, report.seen, report.observed, report.cancelled) == (False, 2, 1, 1)
    new = meeting_events(world, "platform-2")[len(before) :]
    assert sorted(e.type for e in new) == ["MeetingCancelled", "MeetingObserved"]
    new.sort(key=lambda e: e.type, reverse=True)  # the observed one first
    first = next(e for e in before if e.data["meeting_key"] == new[0].data["meeting_key"])
    assert datetime.fromisoformat(new[0].data["start"]) == start  # a new version of it
    assert datetime.fromisoformat(first.data["start"]) != start
    assert any(e.data["meeting_key"] == new[1].data["meeting_key"] for e in before)


def test_an_expired_sync_token_means_a_full_resync_without_duplicates(world: CalendarWorld):
    _, connection_id = world.connect("platform-3")
    sync = world.sync_service()
    first = sync.sync(connection_id)
    count = len(meeting_events(world, "platform-3"))
    email = world.org.emails["platform-3"]
    expire = f"{world.provider_url}/admin/accounts/{email}/sync-tokens/expire"
    assert requests.post(expire, headers=world.admin, timeout=10).ok

    report = sync.sync(connection_id)
    assert report.resynced and report.seen >= first.observed and report.observed == 0
    assert len(meeting_events(world, "platform-3")) == count

    # Even with the recorded versions lost, they are recomputed from the log first.
    with world.store.engine.begin() as db:
        db.execute(text("DELETE FROM calendar_meetings WHERE connection_id = :c"),
                   {"c": connection_id})  # fmt: skip
    assert requests.post(expire, headers=world.admin, timeout=10).ok
    again = sync.sync(connection_id)
    assert again.resynced and again.seen >= first.observed and again.observed == 0
    assert len(meeting_events(world, "platform-3")) == count


def test_the_graph_protocol_pages_through_delta_links(world: CalendarWorld):
    connection_id = world.connect_directly("payments-1", GRAPH_SCOPE)
    graph = world.sync_service("graph")
    report = graph.sync(connection_id)
    assert report.full and report.pages > 1 and report.observed > 20
    events = meeting_events(world, "payments-1")
    assert len({e.data["meeting_key"] for e in events}) == report.observed
    live = world.meetings("payments-1")
    email = world.org.emails["payments-1"]
    url = f"{world.provider_url}/admin/accounts/{email}/events/{live[len(live) // 2]['id']}"
    assert requests.delete(url, headers=world.admin, timeout=10).ok
    delta = graph.sync(connection_id)
    assert (delta.full, delta.observed, delta.cancelled) == (False, 0, 1)


def test_the_collector_is_paused_while_a_sync_pages_and_resumes_after(
    world: CalendarWorld, monkeypatch: pytest.MonkeyPatch
):
    _, connection_id = world.connect(person(world))
    sync = world.sync_service()
    paused: list[int] = []
    apply = sync._apply

    def counted(*args: Any) -> None:
        paused.append(pauses_in_progress())
        apply(*args)

    monkeypatch.setattr(sync, "_apply", counted)
    enabled = gc.isenabled()
    report = sync.sync(connection_id)
    assert report.pages >= 1 and report.observed > 0
    assert paused and all(depth >= 1 for depth in paused)
    assert pauses_in_progress() == 0 and gc.isenabled() == enabled

"""The after-meeting nudge through the portal (real PostgreSQL): off by default, turned on on
the /calendar page (one ``MeetingNudgesSet``), then Today offers a summary of the day's first
meeting with three others or more, with its time and size only; logging it from the offer
ends the offer for the day; turned off, nothing is offered."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from shared.eventlog import EventStore, NewEvent
from tests.conftest import DemoOrg
from tests.portal.conftest import Member

pytestmark = pytest.mark.integration


def observe(store: EventStore, org: DemoOrg, m: Member, end: datetime, people: int) -> None:
    """A meeting as the calendar sync appends it (timing and counts only)."""
    data = {"person_id": str(m.id), "connection_id": str(uuid.uuid5(m.id, "local")),
            "meeting_key": uuid.uuid4().hex, "start": (end - timedelta(hours=1)).isoformat(),
            "end": end.isoformat(), "attendee_count": people, "organizer_is_self": False,
            "response_status": "accepted", "recurring": False}  # fmt: skip
    store.append(org.tenant_id, f"calendar-{m.id}", None, [NewEvent("MeetingObserved", data)])


def test_offered_once_turned_on_and_once_a_day(
    member: Callable[..., Member], store: EventStore, org: DemoOrg, project: Callable[[], None]
):
    m = member()
    now = datetime.now(UTC)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    end = now - min(timedelta(minutes=2), (now - midnight) / 2)  # today, over
    observe(store, org, m, end, 6)
    observe(store, org, m, end, 3)  # two others: no summary for it
    assert 'data-nudge="after-meeting"' not in m.page("/")  # off by default
    assert 'data-nudges="off"' in m.page("/calendar")

    assert m.post("/calendar/nudges", {"enabled": "on"}).status_code == 302
    assert [
        e.data for e in store.read_stream(f"person-{m.id}") if e.type == "MeetingNudgesSet"
    ] == [{"person_id": str(m.id), "enabled": True}]
    assert 'data-nudges="on"' in m.page("/calendar")
    page = m.page("/")
    assert 'data-nudge="after-meeting"' in page
    clock = f"{end - timedelta(hours=1):%H:%M}-{end:%H:%M}"
    assert f"The {clock} meeting" in page and "with 6 people" in page
    note = f"Sent a 3-bullet summary of the {clock} meeting (6 people) and asked if it was useful."
    assert note in page

    logged = m.post(
        "/actions",
        {"minutes": "10", "audience": "team", "note": note, "tactic": "meeting_quick_win"},
    )
    assert logged.status_code == 302
    project()
    assert 'data-nudge="after-meeting"' not in m.page("/")  # once a day

    other = member()
    observe(store, org, other, end, 8)
    other.post("/calendar/nudges", {"enabled": "on"})
    assert 'data-nudge="after-meeting"' in other.page("/")
    assert other.post("/calendar/nudges", {"enabled": "off"}).status_code == 302
    assert 'data-nudge="after-meeting"' not in other.page("/")
    assert 'data-nudges="off"' in other.page("/calendar")


def test_turning_it_on_needs_the_csrf_token(member: Callable[..., Member], store: EventStore):
    m = member()
    refused = m.client.post("/calendar/nudges", data={"enabled": "on"})
    assert refused.status_code in (400, 403)
    assert not [e for e in store.read_stream(f"person-{m.id}") if e.type == "MeetingNudgesSet"]

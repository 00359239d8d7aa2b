"""``make run``'s step that connects the demo people's calendars over the real OAuth flow."""

from __future__ import annotations

from dataclasses import replace

from infra.demo_calendars import connect_demo_calendars, demo_people_to_connect
from shared.calendar.connections import connection_id_for
from shared.eventlog import EventStore
from tests.calendar.conftest import PROVIDER_PASSWORD, CalendarWorld
from tests.conftest import make_org


def test_every_team_member_is_connected_once_with_their_manager_known(
    world: CalendarWorld, store: EventStore
):
    org = make_org(store, people_per_team=1)  # an organisation nobody has connected yet
    world = replace(world, org=org)
    env = {
        "COMPOUND_CALENDAR_LOCAL_URL": world.provider_url,
        "COMPOUND_CALENDAR_PROVIDER_ADMIN_TOKEN": world.admin_token,
        "COMPOUND_CALENDAR_PROVIDER_PASSWORD": PROVIDER_PASSWORD,
    }
    engine = world.store.engine
    waiting = demo_people_to_connect(engine, org.tenant_id)
    members = {e for k, e in org.emails.items() if k != "admin"}
    assert set(waiting) == members
    assert waiting[org.emails["platform-1"]][0] == org.emails["platform-manager"]

    said: list[str] = []
    done = connect_demo_calendars(
        engine, env, world.gateway_url, org.password, said.append, org.tenant_id
    )

    assert done == len(members) and said
    assert demo_people_to_connect(engine, org.tenant_id) == {}  # a second run connects none
    connection_id = connection_id_for(org.people["payments-1"], "local")
    report = world.sync_service().sync(connection_id)
    assert report.observed > 20
    # the provider knows the manager: the weekly 1:1 is with them (Compound keeps only its size)
    manager = org.emails["payments-manager"]
    held = world.provider_events("payments-1")
    assert any([a[0] for a in m["attendees"]][1:] == [manager] for m in held)
    stream = world.store.read_stream(f"calendar-{org.people['payments-1']}")
    assert any(e.type == "MeetingObserved" and e.data["attendee_count"] == 2 for e in stream)

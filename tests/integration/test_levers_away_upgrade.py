"""Migration 0030 on a database where the levers already run: the live generation's
``lever_meetings`` gains ``away`` (false: every stored row a meeting, as before); catch-up then
stores an out-of-office block as one and takes it off the week's working hours, and a rebuild
agrees."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text

from infra.migrate import alembic_config, current_revision, upgrade
from shared.eventlog import EventStore, NewEvent
from shared.projections import runtime
from tests.databases import fresh_store

pytestmark = pytest.mark.integration


@pytest.fixture
def upgrade_store(postgres_server_url: str, master_key: str) -> Iterator[EventStore]:
    with fresh_store(postgres_server_url, master_key, "compound_levers_away") as store:
        yield store


def test_the_upgrade_adds_away_to_the_live_generation(upgrade_store: EventStore) -> None:
    store, tenant, person = upgrade_store, uuid.uuid4(), uuid.uuid4()
    monday = datetime(2026, 3, 2, 9, tzinfo=UTC)
    joined = {"person_id": str(person), "display_name": "X", "time_zone": "UTC"}
    invited = {"person_id": str(person), "email": "x@levers.test", "role": "employee"}
    people = [NewEvent("PersonInvited", invited, monday), NewEvent("PersonJoined", joined, monday)]
    store.append(tenant, f"person-{person}", None, people)
    base = {"person_id": str(person), "connection_id": str(uuid.uuid5(person, "cal"))}
    meeting = {**base, "meeting_key": "m1", "start": monday.isoformat(),
               "end": (monday + timedelta(hours=1)).isoformat(), "attendee_count": 3,
               "organizer_is_self": False, "response_status": "accepted",
               "recurring": False}  # fmt: skip
    calendar = f"calendar-{person}"
    store.append(tenant, calendar, None, [NewEvent("MeetingObserved", meeting, monday)])
    rt = runtime(store)
    rt.ensure()
    rt.catch_up("levers")
    script = ScriptDirectory.from_config(alembic_config(store.engine))
    before = script.get_revision("0030").down_revision  # the coordinator may re-chain it
    with store.engine.begin() as conn:  # the release before: the schema before 0030
        conn.execute(text("DROP VIEW lever_meetings"))
        conn.execute(text("ALTER TABLE lever_meetings__g1 DROP COLUMN away"))
        conn.execute(text("CREATE VIEW lever_meetings AS SELECT * FROM lever_meetings__g1"))
        conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": before})
    upgrade(store.engine, "0030")
    assert current_revision(store.engine) == "0030"

    def stored() -> tuple[object, ...]:
        with store.engine.connect() as conn:
            hours = conn.execute(
                text("SELECT working_hours FROM lever_person_weeks WHERE person_id = :p"),
                {"p": person},
            ).scalar_one()
            rows = conn.execute(
                text("SELECT meeting_key, away FROM lever_meetings WHERE person_id = :p"),
                {"p": person},
            ).all()
        return hours, sorted(map(tuple, rows))

    assert stored() == (40_000, [("m1", False)])
    friday = monday.replace(hour=0) + timedelta(days=4)
    block = {**base, "meeting_key": "o1", "start": friday.isoformat(),
             "end": (friday + timedelta(days=1)).isoformat()}  # fmt: skip
    store.append(tenant, calendar, None, [NewEvent("OutOfOfficeObserved", block, friday)])
    rt.catch_up("levers")
    assert stored() == (32_000, [("m1", False), ("o1", True)])
    rt.rebuild("levers")
    assert stored() == (32_000, [("m1", False), ("o1", True)])
    upgrade(store.engine, "0030")  # again: nothing to do

"""The demo seed: the organisation of DESIGN.md §4, with history, on an empty database."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select, text

from infra.seed import TEAMS, demo_exists, seed_demo
from shared.commands import Actor, JournalCommands
from shared.directory import Person, Team, TeamMember
from shared.domain import levers as model
from shared.domain.weeks import iso_week_of
from shared.eventlog import EventStore
from shared.projections import runtime
from shared.projections.capital import week_index
from shared.projections.levers import week_sums
from shared.security import verify_password
from tests.conftest import TEST_SECRET

pytestmark = [pytest.mark.integration, pytest.mark.slow]
MEETING_FIELDS = {
    "person_id", "connection_id", "meeting_key", "start", "end", "attendee_count",
    "one_on_one", "with_manager", "organizer_is_self", "response_status", "recurring",
}  # fmt: skip


def test_demo_seed(store: EventStore):
    assert not demo_exists(store)
    before = store.head()
    seeded = seed_demo(store, TEST_SECRET, "compound-demo", today=date(2026, 11, 25))
    assert demo_exists(store)

    with store.engine.connect() as conn:
        people = {
            p.email: p
            for p in conn.execute(select(Person).where(Person.tenant_id == seeded.tenant_id)).all()
        }
        teams = {
            t.name: t.id
            for t in conn.execute(select(Team).where(Team.tenant_id == seeded.tenant_id)).all()
        }
        managers = conn.execute(
            select(TeamMember.team_id, Person.email)
            .join(Person, Person.id == TeamMember.person_id)
            .where(TeamMember.is_manager.is_(True), TeamMember.tenant_id == seeded.tenant_id)
        ).all()
    assert set(teams) == {"Platform", "Payments", "Growth", "Research"}
    # Every printed login is a person of the demo, the manager of the team under k among them.
    assert set(seeded.logins.values()) <= set(people)
    assert seeded.logins["manager of a team under k"] == "jean@demo.test"
    assert all(len(TEAMS[t][1]) + 1 == 8 for t in ("Platform", "Payments", "Growth"))
    assert len(TEAMS["Research"][1]) < 5  # under k: suppression shows in the demo
    assert (teams["Platform"], "grace@demo.test") in managers
    assert people["admin@demo.test"].role == "admin"
    for email in ("ada@demo.test", "grace@demo.test", "admin@demo.test"):
        assert verify_password(people[email].password_hash, "compound-demo")

    events = list(store.iter_all(before))
    kinds = Counter(e.type for e in events)
    assert kinds["MicroActionLogged"] > 200 and kinds["PulseResponseSubmitted"] > 100
    assert {
        "OutcomeRecorded",
        "WeeklyPlanSet",
        "ExperimentStarted",
        "FeedbackRequested",
        "FeedbackGiven",
    } <= set(kinds)
    tactics = {e.data["tactic"] for e in events if e.type == "MicroActionLogged"}
    assert len(tactics) == 7  # every tactic of the seed article
    ada = people["ada@demo.test"].id
    ada_notes = [
        e.data["note"]
        for e in events
        if e.type == "MicroActionLogged" and e.data["person_id"] == str(ada)
    ]
    assert any(note and note.startswith("3-bullet summary") for note in ada_notes)
    assert any(
        e.type == "OutcomeRecorded"
        and e.data["kind"] == "invitation"
        and e.data["person_id"] == str(ada)
        for e in events
    )
    assert all(
        e.occurred_at.date() <= date(2026, 11, 25) for e in events if e.type == "MicroActionLogged"
    )
    # Ada's experiment has ended: she can start one (one at a time, docs/portal.md).
    ada_experiments = Counter(
        e.type
        for e in events
        if e.type.startswith("Experiment") and e.stream_id == f"journal-{ada}"
    )
    assert ada_experiments["ExperimentStarted"] == ada_experiments["ExperimentEnded"] > 0
    assert seeded.events == sum(
        1 for e in events if e.stream_id.startswith(("journal-", "pulse-", "calendar-"))
    )
    meetings = [e.data for e in events if e.type == "MeetingObserved"]
    assert len(meetings) > 500
    assert all(set(m) == MEETING_FIELDS for m in meetings)  # timing and counts, no titles

    # The demo's lever figures: real values over k people or more where a team is large
    # enough (the teams are flat: a team's own sums are all of it), none where it is small.
    runtime(store).catch_up("levers")
    last = week_index(date(2026, 11, 25))
    with store.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT * FROM lever_team_weeks WHERE tenant_id = :t AND week_index > :first"),
            {"t": seeded.tenant_id, "first": last - 12},
        ).all()
    levers = {(row.team_id, row.week_index): model.levers_of(week_sums(row)) for row in rows}

    def weeks(team: str) -> list[dict[str, model.Lever]]:
        return [levers.get((teams[team], week), {}) for week in range(last - 11, last + 1)]

    def showable(lever: model.Lever) -> bool:
        return lever.n >= 5 and lever.value is not None

    platform, research, growth = weeks("Platform"), weeks("Research"), weeks("Growth")
    shown = Counter(
        name for week in platform + growth for name, lever in week.items() if showable(lever)
    )
    assert all(shown[name] >= 12 for name in ("psychological_safety", "time_pressure")), shown
    assert all(shown[name] >= 18 for name in ("participation", "clear_incentives")), shown
    assert not any(showable(lever) for week in research for lever in week.values())
    pressure = [w["time_pressure"].value for w in growth if "time_pressure" in w]
    calm = [w["time_pressure"].value for w in platform if "time_pressure" in w]
    assert sum(filter(None, pressure)) / 12 > sum(filter(None, calm)) / 12


def test_demo_seed_without_calendars_writes_no_meetings(
    postgres_server_url: str, master_key: str
) -> None:
    """``make run`` seeds without meetings: there the synced calendars bring them."""
    import uuid

    import psycopg
    from sqlalchemy.engine import make_url

    from infra.migrate import upgrade
    from shared.database import make_engine
    from shared.eventlog import KeyRing
    from tests.conftest import _libpq

    name = f"compound_seed_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(_libpq(postgres_server_url), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(postgres_server_url).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url, pool_size=1)
    try:
        upgrade(engine)
        store = EventStore(engine, keyring=KeyRing([master_key]))
        seeded = seed_demo(store, TEST_SECRET, "compound-demo", calendars=False)
        with engine.connect() as conn:
            types = Counter(
                dict(conn.execute(text("SELECT type, count(*) FROM events GROUP BY type")).all())
            )
            people = dict(conn.execute(select(Person.email, Person.id)).all())
            (platform,) = conn.execute(select(Team.id).where(Team.name == "Platform")).one()
        assert types["MicroActionLogged"] > 100 and types["PulseResponseSubmitted"] > 10
        assert types["MeetingObserved"] == 0 and types["MeetingCancelled"] == 0

        # This week's pulse waits for Ada (today's demo): her team-mates answered it.
        journal = JournalCommands(store, TEST_SECRET)
        week = iso_week_of(datetime.now(UTC))

        def answered(email: str) -> bool:
            actor = Actor(tenant_id=seeded.tenant_id, person_id=people[email], source="test")
            return journal.pulse_answered(actor, platform, week)

        assert not answered("ada@demo.test")
        assert answered("alan@demo.test") and answered("barbara@demo.test")
    finally:
        engine.dispose()
        with psycopg.connect(_libpq(postgres_server_url), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE "{name}"')

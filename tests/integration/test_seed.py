"""The demo seed: the organisation of DESIGN.md §4, with history, on an empty database."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest
from sqlalchemy import select

from infra.seed import TEAMS, demo_exists, seed_demo
from shared.directory import Person, Team, TeamMember
from shared.eventlog import EventStore
from shared.security import verify_password
from tests.conftest import TEST_SECRET

pytestmark = [pytest.mark.integration, pytest.mark.slow]


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
    assert set(teams) == {"Platform", "Payments", "Growth"}
    assert all(6 <= len(members) + 1 <= 8 for _, members in TEAMS.values())
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
    assert seeded.events == sum(1 for e in events if e.stream_id.startswith(("journal-", "pulse-")))

"""A small organisation written straight into the log, with event times in the past, for the
lever read model's tests (the commands stamp "now"; levers need weeks of history)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from shared.commands import Actor, OrganizationCommands
from shared.domain.weeks import iso_week_of
from shared.eventlog import EventStore, NewEvent
from shared.projections import runtime

MONDAY = date(2026, 3, 2)  # 2026-W10
SAFE = {
    "ps1_mistakes_held_against": 2, "ps2_raise_problems": 6, "ps3_reject_different": 2,
    "ps4_safe_to_take_risk": 6, "ps5_hard_to_ask_help": 2, "ps6_no_undermining": 6,
    "ps7_skills_valued": 6, "workload": 3, "evaluation_clarity": 5, "incentives": 5,
}  # fmt: skip


def at(week: int, day: int = 1, hour: int = 10, minute: int = 0) -> datetime:
    """Week ``week`` after 2026-W10, weekday ``day`` (0 = Monday), UTC."""
    moment = MONDAY + timedelta(weeks=week, days=day)
    return datetime(moment.year, moment.month, moment.day, hour, minute, tzinfo=UTC)


def label(week: int) -> str:
    return iso_week_of(MONDAY + timedelta(weeks=week))


@dataclass
class World:
    store: EventStore
    tenant: uuid.UUID
    teams: dict[str, uuid.UUID]
    people: dict[str, list[uuid.UUID]] = field(default_factory=dict)

    def write(self, stream: str, *events: NewEvent) -> None:
        self.store.append(self.tenant, stream, None, list(events))

    def hire(self, team: str, count: int, week: int = -1) -> list[uuid.UUID]:
        hired = []
        for _ in range(count):
            person = uuid.uuid4()
            data = {"person_id": str(person), "email": f"{person}@levers.test", "role": "employee",
                    "team_id": str(self.teams[team]) if team else None}  # fmt: skip
            self.write(
                f"person-{person}",
                NewEvent("PersonInvited", data, at(week)),
                NewEvent(
                    "PersonJoined",
                    {"person_id": str(person), "display_name": "X", "time_zone": "UTC"},
                    at(week, hour=11),
                ),
            )
            hired.append(person)
        self.people.setdefault(team, []).extend(hired)
        return hired

    def leave(self, person: uuid.UUID, week: int) -> None:
        self.write(f"person-{person}", NewEvent("PersonLeft", {"person_id": str(person)}, at(week)))

    def move(self, person: uuid.UUID, source: str, target: str, week: int) -> None:
        data = {"person_id": str(person), "from_team_id": str(self.teams[source]),
                "to_team_id": str(self.teams[target])}  # fmt: skip
        self.write(f"person-{person}", NewEvent("PersonMovedTeam", data, at(week)))

    def act(
        self, person: uuid.UUID, week: int, tactic: str = "learning_bit", audience: str = "team",
        day: int = 1,
    ) -> str:  # fmt: skip
        action = str(uuid.uuid4())
        data = {"action_id": action, "person_id": str(person), "tactic": tactic, "minutes": 10,
                "audience": audience, "note": None}  # fmt: skip
        self.write(f"journal-{person}", NewEvent("MicroActionLogged", data, at(week, day)))
        return action

    def outcome(self, person: uuid.UUID, kind: str, when: datetime) -> None:
        data = {"outcome_id": str(uuid.uuid4()), "person_id": str(person), "kind": kind,
                "action_id": None, "note": None}  # fmt: skip
        self.write(f"journal-{person}", NewEvent("OutcomeRecorded", data, when))

    def pulse(self, team: str, week: int, answers: dict[str, int]) -> None:
        data = {"team_id": str(self.teams[team]), "week": label(week),
                "responder_hash": uuid.uuid4().hex * 2, "answers": answers}  # fmt: skip
        self.write(f"pulse-{self.teams[team]}-{label(week)}", NewEvent(
            "PulseResponseSubmitted", data, at(week, 2, 0)))  # fmt: skip

    def meeting(
        self, person: uuid.UUID, start: datetime, hours: float, key: str | None = None,
        status: str = "accepted",
    ) -> str:  # fmt: skip
        key = key or uuid.uuid4().hex
        data: dict[str, Any] = {
            "person_id": str(person), "connection_id": str(uuid.uuid5(person, "cal")),
            "meeting_key": key, "start": start.isoformat(),
            "end": (start + timedelta(hours=hours)).isoformat(), "attendee_count": 4,
            "one_on_one": False, "with_manager": False, "organizer_is_self": False,
            "response_status": status, "recurring": False,
        }  # fmt: skip
        self.write(f"calendar-{person}", NewEvent("MeetingObserved", data, start))
        return key

    def project(self) -> None:
        runtime(self.store).catch_up("levers")


def make_world(store: EventStore, layout: dict[str, str | None]) -> World:
    """Teams named in ``layout`` (name -> parent name), created through the commands."""
    commands = OrganizationCommands(store)
    suffix = uuid.uuid4().hex[:8]
    tenant, admin = commands.create_organization(
        f"Levers {suffix}", f"admin-{suffix}@levers.test", "correct-horse-battery", "Admin"
    )
    actor = Actor(tenant_id=tenant, person_id=admin, role="admin", source="test")
    teams: dict[str, uuid.UUID] = {}
    for name, parent in layout.items():
        teams[name] = commands.create_team(actor, name, teams[parent] if parent else None)
    return World(store, tenant, teams)

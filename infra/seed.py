"""``compound seed --demo``: a demo organisation with 12 weeks of true-to-life history.

Three teams ("Platform", "Payments", "Growth") of 8 people (enough for their figures to pass
the noise bound at the default privacy budget, docs/privacy.md) and a small one ("Research",
4 people: its levers stay suppressed), their managers and an admin; every tactic of the seed
article, outcomes that follow some actions, weekly plans, experiments, micro-feedback,
anonymous pulses and connected calendars (``MeetingObserved`` in the calendar sync's shape,
a heavier meeting load in Growth). A fixed random seed makes it the same every
time. Ada (Platform) is the seed's product analyst: a 3-bullet summary after every sprint
demo, and after a few cycles an invitation to roadmap planning.

The demo leaves each login something to try: Ada has not answered the current pulse, runs no
experiment (hers ended: she can start one), and ``make run`` has a team-mate ask her a
question (infra/demo_questions.py); Grace and Jean see their teams, the admin everything.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select

from shared.commands import Actor, JournalCommands, OrganizationCommands
from shared.directory import Organization
from shared.domain.tactics import AUDIENCES, TACTICS
from shared.domain.weeks import iso_week_of
from shared.eventlog import AppendContext, EventStore, NewEvent, StreamAppend
from shared.eventlog.events import PULSE_ITEMS

DEMO_ORG = "Demo Co"
# The logins `make run` prints: one of each kind of user, and the manager of the team under k.
DEMO_LOGINS = {
    "employee": "ada@demo.test",
    "manager": "grace@demo.test",
    "manager of a team under k": "jean@demo.test",
    "admin": "admin@demo.test",
}
WEEKS = 12
PULSE_LEFT_OPEN = "Ada Lovelace"
"""The demo's employee: this week's pulse waits for her (the demo's cadence is weekly)."""

TEAMS: dict[str, tuple[str, list[str]]] = {
    # team: (manager, members)
    "Platform": (
        "Grace Hopper",
        [
            "Ada Lovelace",
            "Alan Turing",
            "Barbara Liskov",
            "Edsger Dijkstra",
            "Frances Allen",
            "Linus Torvalds",
            "Dorothy Vaughan",
        ],
    ),
    "Payments": (
        "Katherine Johnson",
        [
            "Dennis Ritchie",
            "Ken Thompson",
            "Radia Perlman",
            "Margaret Hamilton",
            "Tim Berners-Lee",
            "Mary Jackson",
            "Evelyn Boyd Granville",
        ],
    ),
    "Growth": (
        "Hedy Lamarr",
        [
            "John McCarthy",
            "Donald Knuth",
            "Annie Easley",
            "Leslie Lamport",
            "Niklaus Wirth",
            "Sophie Wilson",
            "Guido van Rossum",
        ],
    ),
    # Fewer than k = 5 people: its levers are suppressed everywhere, which the demo shows.
    "Research": ("Jean Bartik", ["Fran Bilas", "Kathleen Antonelli", "Marlyn Wescoff"]),
}
# How each team's culture tilts the pulse (psychological safety, workload, clarity, incentives).
CLIMATE = {"Platform": 5.6, "Payments": 4.6, "Growth": 3.6, "Research": 5.0}
# Calendars: (meetings per day, back-to-back share, after-hours meetings per week) per team.
MEETING_LOAD = {
    "Platform": (2, 0.2, 0),
    "Payments": (3, 0.4, 1),
    "Growth": (5, 0.8, 3),
    "Research": (1, 0.0, 0),
}
SKIP_PULSE = {"Platform": 0.0, "Payments": 0.1, "Growth": 0.0, "Research": 0.0}

EXAMPLES = {
    "small_exposure": [
        "Took the on-call retro write-up",
        "Paired on the billing migration",
        "Drafted the API deprecation plan",
    ],
    "learning_bit": [
        "10 minutes with the new profiler",
        "Asked for feedback on my design doc",
        "Shared an article on event sourcing",
    ],
    "regular_signaling": [
        "Concise progress and risk update",
        "Tidied the roadmap deck",
        "Prompt reply on the incident thread",
    ],
    "meeting_quick_win": [
        "Summarised the decisions at the end",
        "Asked the sharp question on scope",
        "Volunteered to follow up with legal",
    ],
    "relationship_deposit": [
        "Thank-you note to the SRE team",
        "One-minute check-in with Lin",
        "Helped a teammate debug CI",
    ],
    "network_nudge": [
        "Congratulated Payments on the launch",
        "Coffee chat with design",
        "Introduced Sam to the data team",
    ],
    "prototype_first": [
        "Clickable prototype instead of a spec",
        "Spike on the search ranking",
        "Throwaway script to test the import",
    ],
}
ADA_SUMMARY = (
    "3-bullet summary after the sprint demo: user impact, a proposed trade-off, one open question"
)


@dataclass(frozen=True)
class Seeded:
    tenant_id: uuid.UUID
    logins: dict[str, str]
    events: int


def email_for(name: str) -> str:
    return name.split()[0].lower() + "@demo.test"


def demo_exists(store: EventStore) -> bool:
    with store.engine.connect() as conn:
        found = conn.execute(
            select(func.count()).select_from(Organization).where(Organization.name == DEMO_ORG)
        ).scalar_one()
    return bool(found)


def database_is_empty(store: EventStore) -> bool:
    with store.engine.connect() as conn:
        return not conn.execute(select(func.count()).select_from(Organization)).scalar_one()


def seed_demo(
    store: EventStore,
    secret_key: str,
    password: str,
    today: date | None = None,
    say: Callable[[str], None] = lambda _: None,
    calendars: bool = True,
) -> Seeded:
    """Create the demo organisation and its history (the caller checks it is not there yet).

    ``calendars``: also write each person's meetings, as a synced calendar would. ``make run``
    passes False: there the demo people connect to the local calendar provider and the sync
    writes their meetings (writing both would count every meeting twice).
    """
    rng = random.Random(20261125)
    today = today or datetime.now(UTC).date()
    org = OrganizationCommands(store)
    journal = JournalCommands(store, secret_key)
    tenant, admin = org.create_organization(
        DEMO_ORG, "admin@demo.test", password, "Demo Admin", source="seed"
    )
    admin_actor = Actor(tenant_id=tenant, person_id=admin, role="admin", source="seed")
    people: dict[str, tuple[uuid.UUID, str]] = {}  # name -> (person, team)
    for team_name, (manager, members) in TEAMS.items():
        team_id = org.create_team(admin_actor, team_name)
        for name in [manager, *members]:
            invited = org.invite(
                admin_actor, email_for(name), "employee", team_id if name != manager else None
            )
            org.accept_invitation(tenant, invited.person_id, name, password, "Europe/Berlin")
            people[name] = (invited.person_id, team_name)
            if name == manager:
                org.assign_manager(admin_actor, team_id, invited.person_id)
        say(f"  team {team_name}: {len(members) + 1} people")

    monday = today - timedelta(days=today.weekday())
    weeks = [monday - timedelta(weeks=WEEKS - 1 - i) for i in range(WEEKS)]
    appends: list[StreamAppend] = []
    for name, (person, team) in people.items():
        events = _history(rng, name, person, team, weeks, today)
        appends.append(StreamAppend(f"journal-{person}", events))
        meetings = _calendar(rng, person, team, weeks, today)  # drawn either way: same history
        if meetings and calendars:
            appends.append(StreamAppend(f"calendar-{person}", meetings))
    results = store.append_batch(tenant, appends, AppendContext(actor="system", source="seed"))
    count = sum(len(r.positions) for r in results)

    current = iso_week_of(today)
    for name, (person, team) in people.items():
        if name in (m for m, _ in TEAMS.values()):
            continue
        actor = Actor(tenant_id=tenant, person_id=person, source="seed")
        for week_start in weeks:
            if week_start > today or rng.random() < SKIP_PULSE[team]:
                continue  # not everyone answers every week
            if name == PULSE_LEFT_OPEN and iso_week_of(week_start) == current:
                continue
            answered = datetime.combine(week_start + timedelta(days=2), time(11), UTC)
            journal.submit_pulse(
                actor,
                _pulse(rng, CLIMATE[team]),
                week=iso_week_of(week_start),
                now=min(answered, datetime.now(UTC)),
            )
            count += 1
    journal.pulse_vault.close_due()  # past periods: their answers enter the log, keys destroyed
    say(f"  {count} journal events and pulse responses over {WEEKS} weeks")
    return Seeded(tenant, dict(DEMO_LOGINS), count)


def _pulse(rng: random.Random, climate: float) -> dict[str, int]:
    answers = {}
    for item in PULSE_ITEMS:
        value = rng.gauss(climate, 1.0)
        if item in ("ps1_mistakes_held_against", "ps3_reject_different", "ps5_hard_to_ask_help"):
            value = 8 - value  # reverse-scored items are phrased negatively
        answers[item] = int(min(7, max(1, round(value))))
    return answers


def _calendar(
    rng: random.Random, person: uuid.UUID, team: str, weeks: list[date], today: date
) -> list[NewEvent]:
    """A connected calendar's meetings, in exactly the shape the calendar sync writes
    (start, end, attendee count, 1:1, with-manager, organizer-is-self, response status,
    recurring; never a title, description or attendee)."""
    per_day, chained, after_hours = MEETING_LOAD[team]
    pid, connection = str(person), str(uuid.uuid5(person, "demo-calendar"))
    events: list[NewEvent] = []
    limit = datetime.now(UTC)
    for index, week_start in enumerate(weeks):
        slots: list[tuple[datetime, int]] = []
        for day in range(5):
            hour = rng.choice((9, 10, 11))
            moment = datetime.combine(week_start + timedelta(days=day), time(hour), UTC)
            for _ in range(per_day):
                minutes = rng.choice((30, 60, 60, 90))
                slots.append((moment, minutes))
                gap = 0 if rng.random() < chained else rng.choice((60, 120, 180))
                moment += timedelta(minutes=minutes + gap)
        for day in rng.sample(range(5), k=min(5, after_hours)):
            evening = datetime.combine(week_start + timedelta(days=day), time(18, 30), UTC)
            slots.append((evening, 60))
        for number, (start, minutes) in enumerate(slots):
            if start > limit or start.date() > today:
                continue
            one_on_one = rng.random() < 0.15
            events.append(
                NewEvent(
                    "MeetingObserved",
                    {
                        "person_id": pid,
                        "connection_id": connection,
                        "meeting_key": f"demo-{index}-{number}",
                        "start": start.isoformat(),
                        "end": (start + timedelta(minutes=minutes)).isoformat(),
                        "attendee_count": 2 if one_on_one else rng.randint(3, 9),
                        "one_on_one": one_on_one,
                        "with_manager": one_on_one and rng.random() < 0.5,
                        "organizer_is_self": rng.random() < 0.25,
                        "response_status": "accepted" if rng.random() < 0.9 else "tentative",
                        "recurring": rng.random() < 0.6,
                    },
                    start,
                )
            )
    return events


def _moment(rng: random.Random, week_start: date, today: date) -> datetime | None:
    day = week_start + timedelta(days=rng.randint(0, 4))
    if day > today:
        return None
    return datetime.combine(day, time(rng.randint(8, 17), rng.choice((0, 15, 30, 45))), UTC)


def _history(
    rng: random.Random, name: str, person: uuid.UUID, team: str, weeks: list[date], today: date
) -> list[NewEvent]:
    """One person's 12 weeks: actions, outcomes, plans, an experiment, feedback."""
    pid = str(person)
    style = rng.choice(["signal", "substance", "relational", "balanced"])
    weights = {
        "signal": [1, 1, 4, 4, 1, 2, 1],
        "substance": [4, 4, 1, 1, 1, 1, 3],
        "relational": [1, 1, 1, 2, 4, 4, 1],
        "balanced": [2, 2, 2, 2, 2, 2, 2],
    }[style]
    tactics = list(TACTICS)
    events: list[NewEvent] = []
    for index, week_start in enumerate(weeks):
        plan = rng.sample(tactics, k=rng.randint(2, 5))
        planned_at = _moment(rng, week_start, today)
        if planned_at is not None:
            events.append(
                NewEvent(
                    "WeeklyPlanSet",
                    {
                        "person_id": pid,
                        "week": iso_week_of(week_start),
                        "tactics": plan,
                        "labels": None,
                    },
                    planned_at.replace(hour=8, minute=0),
                )
            )
        for _ in range(rng.randint(0, 6) if rng.random() > 0.1 else 0):
            moment = _moment(rng, week_start, today)
            if moment is None:
                continue
            tactic = rng.choices(tactics, weights)[0]
            action_id = uuid.uuid4()
            events.append(
                NewEvent(
                    "MicroActionLogged",
                    {
                        "action_id": str(action_id),
                        "person_id": pid,
                        "tactic": tactic,
                        "minutes": rng.choice([5, 10, 10, 15, 20, 30, 45]),
                        "audience": rng.choice(AUDIENCES),
                        "note": rng.choice(EXAMPLES[tactic]) if rng.random() < 0.6 else None,
                    },
                    moment,
                )
            )
            if rng.random() < 0.15:
                events.append(
                    NewEvent(
                        "OutcomeRecorded",
                        {
                            "outcome_id": str(uuid.uuid4()),
                            "person_id": pid,
                            "kind": rng.choice(
                                ["recognition", "invitation", "assignment", "useful_feedback"]
                            ),
                            "action_id": str(action_id),
                            "note": None,
                        },
                        moment + timedelta(days=rng.randint(1, 10)),
                    )
                )
            if rng.random() < 0.08:
                request_id = uuid.uuid4()
                events.append(
                    NewEvent(
                        "FeedbackRequested",
                        {
                            "request_id": str(request_id),
                            "person_id": pid,
                            "action_id": str(action_id),
                            "question": "Was that useful?",
                            "expires_at": (moment + timedelta(days=14)).isoformat(),
                        },
                        moment + timedelta(minutes=5),
                    )
                )
                if rng.random() < 0.7:
                    events.append(
                        NewEvent(
                            "FeedbackGiven",
                            {
                                "request_id": str(request_id),
                                "person_id": pid,
                                "useful": rng.random() < 0.8,
                                "comment": None,
                            },
                            moment + timedelta(hours=rng.randint(1, 48)),
                        )
                    )
        if name == "Ada Lovelace" and index % 2 == 1:
            moment = _moment(rng, week_start, today)
            if moment is not None:
                action_id = uuid.uuid4()
                events.append(
                    NewEvent(
                        "MicroActionLogged",
                        {
                            "action_id": str(action_id),
                            "person_id": pid,
                            "tactic": "regular_signaling",
                            "minutes": 15,
                            "audience": "decision_makers",
                            "note": ADA_SUMMARY,
                        },
                        moment,
                    )
                )
                if index >= 7:
                    events.append(
                        NewEvent(
                            "OutcomeRecorded",
                            {
                                "outcome_id": str(uuid.uuid4()),
                                "person_id": pid,
                                "kind": "invitation",
                                "action_id": str(action_id),
                                "note": "Invited to roadmap planning by the product manager",
                            },
                            moment + timedelta(days=2),
                        )
                    )
    start = _moment(rng, weeks[4], today)
    if start is not None:
        experiment = uuid.uuid4()
        events.append(
            NewEvent(
                "ExperimentStarted",
                {
                    "experiment_id": str(experiment),
                    "person_id": pid,
                    "tactic": "regular_signaling"
                    if name == "Ada Lovelace"
                    else rng.choice(tactics),
                    "weeks": 4,
                    "starts_on": start.date().isoformat(),
                    "hypothesis": None,
                },
                start,
            )
        )
        end = start + timedelta(weeks=4)
        if end.date() <= today:
            events.append(
                NewEvent(
                    "ExperimentEnded",
                    {"experiment_id": str(experiment), "person_id": pid, "reflection": None},
                    end,
                )
            )
    future_limit = datetime.now(UTC) + timedelta(hours=1)
    events = [e for e in events if e.occurred_at is None or e.occurred_at <= future_limit]
    events.sort(key=lambda e: e.occurred_at or datetime.now(UTC))
    return events

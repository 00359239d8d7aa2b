"""``compound seed --people N --weeks W``: a large synthetic organisation, fast.

One organisation of ``people`` people (an admin, then teams of about 8, each with a manager)
and ``weeks`` of history per person with the shapes of the demo seed (:mod:`infra.seed`):
micro-actions mostly, outcomes that follow some of them (a few unlinked), weekly plans,
feedback requests and answers, experiments and anonymous weekly pulses. 5,000 people over 52
weeks make about 1,000,000 events.

Fast because nothing goes through the command handlers: the organisation's events
(``OrganizationCreated``, ``TeamCreated``, ``PersonInvited``, ``PersonJoined``,
``PasswordSet`` with one argon2 hash computed once for everyone, ``PersonRoleChanged``,
``TeamManagerAssigned``) and the history are written with ``EventStore.append_batch`` in
batches of about :data:`CHUNK` events, the directory is then rebuilt from the log with
:func:`shared.directory.rebuild`, and the history follows in log order, one week of the
whole organisation after another. The store still validates and encrypts every event.

Deterministic: the same ``seed``, ``people``, ``weeks`` and ``today`` give the same
organisation, ids and payloads (event ids, positions and the password hash's salt excepted;
when ``today`` is the current day, its events go up to the current hour).
"""

from __future__ import annotations

import random
import time as clock
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select

from shared import directory
from shared.directory import Organization
from shared.domain.tactics import AUDIENCES, OUTCOME_KINDS, TACTICS
from shared.domain.weeks import iso_week_of
from shared.eventlog import AppendContext, EventStore, NewEvent, StreamAppend
from shared.eventlog.events import PULSE_ITEMS
from shared.security import hash_password, keyed_hash

SEED = 20261125
CHUNK = 20_000  # events per append_batch call (about one week of 5,000 people)
TEAM_SIZE = 8  # a manager and 7 members
TENANT_NAMESPACE = uuid.UUID("0d1c3a57-29b4-4f0e-9a57-6a3c8f0b7e21")

# Shares and rates, per person and week unless said otherwise. With these, 5,000 people over
# 52 weeks make about 1,000,000 events, about 59% of them MicroActionLogged.
PLAN_SHARE = 0.6  # sets a weekly plan
IDLE_WEEK = 0.1  # logs nothing that week
MAX_ACTIONS = 5  # otherwise 0..MAX_ACTIONS actions
NOTE_SHARE = 0.4  # actions with a note (a personal field, encrypted)
OUTCOME_SHARE = 0.15  # actions followed by an outcome 1-10 days later
UNLINKED_SHARE = 0.2  # outcomes recorded without the action (the projection credits one)
FEEDBACK_SHARE = 0.08  # actions with a feedback request
ANSWER_SHARE = 0.7  # requests answered
PULSE_SHARE = 0.35  # team members answering the week's pulse
EXPERIMENT_EVERY = 13  # weeks; a person may start a 4-week experiment once in each
EXPERIMENT_SHARE = 0.5

FIRST_NAMES = (
    "Ada", "Alan", "Barbara", "Edsger", "Frances", "Grace", "Hedy", "Katherine", "Dennis",
    "Ken", "Radia", "Margaret", "Tim", "John", "Donald", "Annie", "Leslie", "Niklaus", "Sophie",
    "Guido", "Linus", "Lin", "Sam", "Alex", "Priya", "Kenji", "Amara", "Mateo", "Ingrid", "Omar",
)  # fmt: skip
LAST_NAMES = (
    "Lovelace", "Turing", "Liskov", "Dijkstra", "Allen", "Hopper", "Lamarr", "Johnson",
    "Ritchie", "Thompson", "Perlman", "Hamilton", "Berners-Lee", "McCarthy", "Knuth", "Easley",
    "Lamport", "Wirth", "Wilson", "van Rossum", "Torvalds", "Okafor", "Nakamura", "Silva",
)  # fmt: skip
TIME_ZONES = ("Europe/Berlin", "Europe/London", "America/New_York", "Asia/Tokyo", "UTC")
STYLES = {
    "signal": (1, 1, 4, 4, 1, 2, 1),
    "substance": (4, 4, 1, 1, 1, 1, 3),
    "relational": (1, 1, 1, 2, 4, 4, 1),
    "balanced": (2, 2, 2, 2, 2, 2, 2),
}
NOTES = (
    "Took the on-call retro write-up",
    "Paired on the billing migration",
    "10 minutes with the new profiler",
    "Concise progress and risk update",
    "Summarised the decisions at the end",
    "Thank-you note to the SRE team",
    "Coffee chat with design",
    "Clickable prototype instead of a spec",
)
QUESTIONS = ("Was that useful?", "What would you change?", "Did the summary help?")
_CONTEXT = AppendContext(actor="system", source="synthetic")

Progress = Callable[[str, int, int], None]
"""``progress(phase, done, total)``: phases "people", "directory", "history" (in weeks)."""


@dataclass(frozen=True)
class Member:
    person_id: uuid.UUID
    team_id: uuid.UUID | None
    manager: bool
    weights: tuple[int, ...]


@dataclass(frozen=True)
class Synthetic:
    """What :func:`seed_synthetic` wrote."""

    tenant_id: uuid.UUID
    name: str
    admin_email: str
    people: int
    teams: int
    weeks: int
    events: int  # every event appended (organisation and history)
    seconds: float  # the whole seeding, directory rebuild included

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


def synthetic_tenant(people: int, weeks: int, seed: int = SEED) -> uuid.UUID:
    """The organisation id of a synthetic seed: a second identical seed would collide."""
    return uuid.uuid5(TENANT_NAMESPACE, f"{people}|{weeks}|{seed}")


def synthetic_exists(store: EventStore, people: int, weeks: int, seed: int = SEED) -> bool:
    tenant = synthetic_tenant(people, weeks, seed)
    with store.engine.connect() as conn:
        found = conn.execute(
            select(func.count()).select_from(Organization).where(Organization.id == tenant)
        ).scalar_one()
    return bool(found)


def seed_synthetic(
    store: EventStore,
    people: int = 5000,
    weeks: int = 52,
    seed: int = SEED,
    progress: Progress | None = None,
    *,
    password: str = "compound-demo",
    secret_key: str = "synthetic",
    today: date | None = None,
    chunk: int = CHUNK,
    team_size: int = TEAM_SIZE,
    meetings: int = 0,
) -> Synthetic:
    """Create the organisation and its history; returns what was written.

    ``team_size`` is people per team (a manager included); ``meetings`` is meetings per
    person and week written as ``MeetingObserved`` (the calendar sync's shape: timing and
    counts, no titles), for the time-pressure lever. ``secret_key`` keys the pulse
    responders' hashes (``COMPOUND_SECRET_KEY`` in a real deployment). Raises
    ``ConcurrencyError`` if this very organisation exists already (see
    :func:`synthetic_exists`).
    """
    if people < 2:
        raise ValueError("a synthetic organisation needs at least 2 people")
    if weeks < 1:
        raise ValueError("at least one week of history")
    started = clock.perf_counter()
    say: Progress = progress or (lambda phase, done, total: None)
    tenant = synthetic_tenant(people, weeks, seed)
    rng = _Rng(seed, tenant)
    today = today or datetime.now(UTC).date()
    monday = today - timedelta(days=today.weekday())
    week_starts = [monday - timedelta(weeks=weeks - 1 - i) for i in range(weeks)]
    name = f"Synthetic {people} x {weeks}w (seed {seed})"
    writer = _Writer(store, tenant, chunk)

    members, teams, admin_email = _organisation(
        rng, writer, tenant, name, people, password, week_starts[0], say, team_size
    )
    # The directory now, while the log is short: its rebuild scans the whole log.
    say("directory", 0, 1)
    directory.rebuild(store)
    say("directory", 1, 1)
    history = _History(rng, members, teams, week_starts, today, secret_key, meetings)
    for index in range(weeks):
        for stream, events in history.week(index):
            writer.add(stream, events)
        writer.flush_if_full()
        say("history", index + 1, weeks)
    writer.flush()
    return Synthetic(
        tenant,
        name,
        admin_email,
        people,
        len(teams),
        weeks,
        writer.count,
        clock.perf_counter() - started,
    )


class _Writer:
    """Collects stream appends and writes them with ``append_batch`` about ``chunk`` at a time."""

    def __init__(self, store: EventStore, tenant: uuid.UUID, chunk: int):
        self.store, self.tenant, self.chunk = store, tenant, chunk
        self.pending: list[StreamAppend] = []
        self.size = 0
        self.count = 0

    def add(self, stream: str, events: Sequence[NewEvent], expected: int | None = None) -> None:
        if events:
            self.pending.append(StreamAppend(stream, events, expected))
            self.size += len(events)

    def flush_if_full(self) -> None:
        if self.size >= self.chunk:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        # Split a large week so no call holds much more than `chunk` events.
        batch: list[StreamAppend] = []
        size = 0
        for item in self.pending:
            batch.append(item)
            size += len(item.events)
            if size >= self.chunk:
                self._write(batch, size)
                batch, size = [], 0
        self._write(batch, size)
        self.pending, self.size = [], 0

    def _write(self, batch: list[StreamAppend], size: int) -> None:
        if batch:
            self.store.append_batch(self.tenant, batch, _CONTEXT)
            self.count += size


class _Rng(random.Random):
    """The seed's random numbers, and ids unique to its organisation: two organisations
    seeded alike (same seed, another size) draw the same numbers, but never share an id
    (a person's, an action's, a request's), as no two real organisations do."""

    def __init__(self, seed: int, tenant: uuid.UUID) -> None:
        super().__init__(seed)
        self.salt = tenant.int


def _uuid(rng: random.Random) -> uuid.UUID:
    salt = rng.salt if isinstance(rng, _Rng) else 0
    return uuid.UUID(int=rng.getrandbits(128) ^ salt, version=4)


def _organisation(
    rng: random.Random,
    writer: _Writer,
    tenant: uuid.UUID,
    name: str,
    people: int,
    password: str,
    first_week: date,
    say: Progress,
    team_size: int = TEAM_SIZE,
) -> tuple[list[Member], list[uuid.UUID], str]:
    """The organisation, its teams and people, as the commands would write them."""
    at = datetime.combine(first_week - timedelta(days=3), time(8), UTC)
    password_hash = hash_password(password)  # argon2 once, for everyone
    domain = f"{str(tenant)[:8]}.synthetic.test"
    writer.add(
        f"org-{tenant}",
        [NewEvent("OrganizationCreated", {"organization_id": str(tenant), "name": name}, at)],
        0,
    )
    team_count = max(1, round((people - 1) / team_size))
    teams = [_uuid(rng) for _ in range(team_count)]
    for number, new_team in enumerate(teams, 1):
        writer.add(
            f"team-{new_team}",
            [
                NewEvent(
                    "TeamCreated",
                    {
                        "team_id": str(new_team),
                        "name": f"Team {number:04d}",
                        "parent_team_id": None,
                    },
                    at,
                )
            ],
            0,
        )
    members: list[Member] = []
    managers: list[tuple[uuid.UUID, uuid.UUID]] = []
    team: uuid.UUID | None
    admin_email = ""
    for index in range(people):
        person = _uuid(rng)
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        email = f"{first}.{last}.{index}@{domain}".lower().replace(" ", "")
        if index == 0:
            role, team, manager = "admin", None, False
            admin_email = email
        else:
            team = teams[(index - 1) % team_count]
            manager = index <= team_count  # the first person placed in each team leads it
            role = "employee"
        pid = str(person)
        events = [
            NewEvent(
                "PersonInvited",
                {
                    "person_id": pid,
                    "email": email,
                    "role": role,
                    # A manager is invited without a team and joins it as its manager.
                    "team_id": str(team) if team and not manager else None,
                },
                at,
            ),
            NewEvent(
                "PersonJoined",
                {
                    "person_id": pid,
                    "display_name": f"{first} {last}",
                    "time_zone": rng.choice(TIME_ZONES),
                },
                at + timedelta(hours=1),
            ),
            NewEvent(
                "PasswordSet",
                {"person_id": pid, "password_hash": password_hash},
                at + timedelta(hours=1),
            ),
        ]
        if manager:
            assert team is not None
            managers.append((team, person))
            events.append(
                NewEvent(
                    "PersonRoleChanged",
                    {"person_id": pid, "role": "manager"},
                    at + timedelta(hours=2),
                )
            )
        writer.add(f"person-{person}", events, 0)
        style = rng.choice(list(STYLES))
        members.append(Member(person, team, manager, STYLES[style]))
        writer.flush_if_full()
        if index % 500 == 499:
            say("people", index + 1, people)
    writer.flush()  # people exist before their managers' assignments
    for team, person in managers:
        writer.add(
            f"team-{team}",
            [
                NewEvent(
                    "TeamManagerAssigned",
                    {"team_id": str(team), "person_id": str(person)},
                    at + timedelta(hours=2),
                )
            ],
            1,
        )
    writer.flush()
    say("people", people, people)
    return members, teams, admin_email


class _History:
    """Each week's events, per stream, in the order a live organisation would append them."""

    def __init__(
        self,
        rng: random.Random,
        members: list[Member],
        teams: list[uuid.UUID],
        week_starts: list[date],
        today: date,
        secret_key: str,
        meetings: int = 0,
    ):
        self.rng = rng
        self.meetings = meetings
        self.members = members
        self.week_starts = week_starts
        self.secret_key = secret_key
        # Nothing after `today`, nor in the future (the journal refuses future times).
        self.limit = min(
            datetime.combine(today + timedelta(days=1), time(0), UTC),
            datetime.now(UTC) + timedelta(hours=1),
        )
        self.climate = {team: rng.gauss(4.6, 0.8) for team in teams}
        # Events falling in a later week than the one that caused them (an outcome days after
        # its action, the end of an experiment): week index -> person -> events.
        self.later: dict[int, dict[uuid.UUID, list[NewEvent]]] = defaultdict(
            lambda: defaultdict(list)
        )
        self.tactics = list(TACTICS)

    def _moment(self, week_start: date) -> datetime:
        rng = self.rng
        day = week_start + timedelta(days=rng.randint(0, 4))
        return datetime.combine(day, time(rng.randint(8, 17), rng.choice((0, 15, 30, 45))), UTC)

    def _place(self, index: int, person: uuid.UUID, event: NewEvent, own: list[NewEvent]) -> None:
        """Keep ``event`` in this week's list, or in the week it happens in."""
        assert event.occurred_at is not None
        if event.occurred_at > self.limit:
            return  # in the future: not logged yet
        week = (event.occurred_at.date() - self.week_starts[0]).days // 7
        if week <= index:
            own.append(event)
        elif week < len(self.week_starts):
            self.later[week][person].append(event)

    def week(self, index: int) -> list[tuple[str, list[NewEvent]]]:
        rng, tactics = self.rng, self.tactics
        week_start = self.week_starts[index]
        week_label = iso_week_of(week_start)
        later = self.later.pop(index, {})
        appends: list[tuple[str, list[NewEvent]]] = []
        pulses: dict[uuid.UUID, list[NewEvent]] = defaultdict(list)
        pulse_at = datetime.combine(week_start + timedelta(days=2), time(0), UTC)
        for member in self.members:
            person = member.person_id
            pid = str(person)
            events: list[NewEvent] = list(later.get(person, ()))
            if rng.random() < PLAN_SHARE:
                plan = rng.sample(tactics, k=rng.randint(2, 5))
                self._place(
                    index,
                    person,
                    NewEvent(
                        "WeeklyPlanSet",
                        {"person_id": pid, "week": week_label, "tactics": plan, "labels": None},
                        datetime.combine(week_start, time(8), UTC),
                    ),
                    events,
                )
            actions = 0 if rng.random() < IDLE_WEEK else rng.randint(0, MAX_ACTIONS)
            for _ in range(actions):
                self._action(index, week_start, member, events)
            if index % EXPERIMENT_EVERY == 4 and rng.random() < EXPERIMENT_SHARE:
                self._experiment(index, week_start, person, events)
            if self.meetings:
                self._meetings(index, week_start, person, appends)
            if member.team_id and not member.manager and rng.random() < PULSE_SHARE:
                pulse = self._pulse(member.team_id, person, week_label, pulse_at)
                if pulse_at <= self.limit:
                    pulses[member.team_id].append(pulse)
            if events:
                events.sort(key=lambda e: e.occurred_at or pulse_at)
                appends.append((f"journal-{person}", events))
        for team, responses in pulses.items():
            appends.append((f"pulse-{team}-{week_label}", responses))
        return appends

    def _action(self, index: int, week_start: date, member: Member, events: list[NewEvent]) -> None:
        rng = self.rng
        pid = str(member.person_id)
        moment = self._moment(week_start)
        tactic = rng.choices(self.tactics, member.weights)[0]
        action_id = str(_uuid(rng))
        self._place(
            index,
            member.person_id,
            NewEvent(
                "MicroActionLogged",
                {
                    "action_id": action_id,
                    "person_id": pid,
                    "tactic": tactic,
                    "minutes": rng.choice((5, 10, 10, 15, 20, 30, 45)),
                    "audience": rng.choice(AUDIENCES),
                    "note": rng.choice(NOTES) if rng.random() < NOTE_SHARE else None,
                },
                moment,
            ),
            events,
        )
        if rng.random() < OUTCOME_SHARE:
            self._place(
                index,
                member.person_id,
                NewEvent(
                    "OutcomeRecorded",
                    {
                        "outcome_id": str(_uuid(rng)),
                        "person_id": pid,
                        "kind": rng.choice(OUTCOME_KINDS),
                        "action_id": None if rng.random() < UNLINKED_SHARE else action_id,
                        "note": None,
                    },
                    moment + timedelta(days=rng.randint(1, 10)),
                ),
                events,
            )
        if rng.random() < FEEDBACK_SHARE:
            request_id = str(_uuid(rng))
            asked = moment + timedelta(minutes=5)
            self._place(
                index,
                member.person_id,
                NewEvent(
                    "FeedbackRequested",
                    {
                        "request_id": request_id,
                        "person_id": pid,
                        "action_id": action_id,
                        "question": rng.choice(QUESTIONS),
                        "expires_at": (asked + timedelta(days=14)).isoformat(),
                    },
                    asked,
                ),
                events,
            )
            if rng.random() < ANSWER_SHARE:
                self._place(
                    index,
                    member.person_id,
                    NewEvent(
                        "FeedbackGiven",
                        {
                            "request_id": request_id,
                            "person_id": pid,
                            "useful": rng.random() < 0.8,
                            "comment": None,
                        },
                        asked + timedelta(hours=rng.randint(1, 48)),
                    ),
                    events,
                )

    def _experiment(
        self, index: int, week_start: date, person: uuid.UUID, events: list[NewEvent]
    ) -> None:
        rng = self.rng
        start = self._moment(week_start)
        experiment = str(_uuid(rng))
        self._place(
            index,
            person,
            NewEvent(
                "ExperimentStarted",
                {
                    "experiment_id": experiment,
                    "person_id": str(person),
                    "tactic": rng.choice(self.tactics),
                    "weeks": 4,
                    "starts_on": start.date().isoformat(),
                    "hypothesis": None,
                },
                start,
            ),
            events,
        )
        self._place(
            index,
            person,
            NewEvent(
                "ExperimentEnded",
                {"experiment_id": experiment, "person_id": str(person), "reflection": None},
                start + timedelta(weeks=4),
            ),
            events,
        )

    def _meetings(
        self,
        index: int,
        week_start: date,
        person: uuid.UUID,
        appends: list[tuple[str, list[NewEvent]]],
    ) -> None:
        """The week's meetings of one person, as the calendar sync writes them."""
        rng = self.rng
        pid = str(person)
        connection = str(uuid.uuid5(person, "calendar"))
        events = []
        if index == 0:
            events.append(
                NewEvent(
                    "CalendarConnected",
                    {"person_id": pid, "connection_id": connection, "provider": "synthetic"},
                    datetime.combine(week_start, time(7), UTC),
                )
            )
        for number in range(self.meetings):
            day = week_start + timedelta(days=rng.randint(0, 4))
            start = datetime.combine(day, time(rng.randint(8, 17), rng.choice((0, 30))), UTC)
            if start > self.limit:
                continue
            end = start + timedelta(minutes=rng.choice((30, 30, 60, 60, 90)))
            events.append(
                NewEvent(
                    "MeetingObserved",
                    {
                        "person_id": pid,
                        "connection_id": connection,
                        "meeting_key": f"{index}-{number}",
                        "start": start.isoformat(),
                        "end": end.isoformat(),
                        "attendee_count": rng.randint(2, 9),
                        "one_on_one": False,
                        "with_manager": rng.random() < 0.2,
                        "organizer_is_self": rng.random() < 0.3,
                        "response_status": "accepted" if rng.random() < 0.9 else "tentative",
                        "recurring": rng.random() < 0.5,
                    },
                    start,
                )
            )
        if events:
            appends.append((f"calendar-{person}", events))

    def _pulse(self, team: uuid.UUID, person: uuid.UUID, week: str, at: datetime) -> NewEvent:
        rng = self.rng
        climate = self.climate[team]
        answers: dict[str, Any] = {}
        for item in PULSE_ITEMS:
            value = rng.gauss(climate, 1.0)
            if item in (
                "ps1_mistakes_held_against",
                "ps3_reject_different",
                "ps5_hard_to_ask_help",
            ):
                value = 8 - value  # reverse-scored items are phrased negatively
            answers[item] = int(min(7, max(1, round(value))))
        responder = keyed_hash(self.secret_key, "pulse", str(person), str(team), week)
        return NewEvent(
            "PulseResponseSubmitted",
            {"team_id": str(team), "week": week, "responder_hash": responder, "answers": answers},
            at,
        )

"""One generator of event histories for every projection (hypothesis), and their writer.

A history is a list of :class:`Write`: what the gateway, the importer and the operators do to
the log, in the order they do it. Events name their entities by :class:`Ref` (``person 3``,
``action 7``), each a UUID of the test's own once written (tests/contract/writer.py): the same
drawn history can be written twice (by two tests) without colliding, and a failing example
prints compactly.

What a history holds, drawn with a model of who exists so that every event is one the
commands could have appended:

* several tenants (organisations), teams, people invited into a team or none, joining,
  moving, leaving, becoming managers, setting working hours, changing time zone;
* micro-actions (some written with an idempotency key), their retractions, outcomes linked
  to an action or not, weekly plans, experiments started and ended, feedback requested and
  given, anonymous pulses, calendar meetings and out-of-office blocks observed, moved and
  cancelled; actions,
  outcomes and requests naming a colleague (or an address), and their confirmations;
  absences declared and withdrawn;
* imports (``append_batch``, as ``JournalCommands.import_events`` writes them): events of the
  past, shuffled, so answers come before their requests, experiments end before they start
  and meetings are cancelled before they are observed; an import sent twice without a key
  appends its events twice;
* retries of a keyed write (the store replays it: nothing new is appended), writes rolled
  back inside a unit of work (``append_in``: positions are skipped), and erasure
  (``EventStore.erase``: the person's key is shredded and ``PersonErased`` appended; nothing
  of theirs is written afterwards).

Cases on which a projection breaks the contract today are left out, each behind a flag
below and pinned as a strict expected failure in tests/contract/test_known_divergences.py:
set the flag to True once the projection is mended.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from hypothesis import strategies as st

from shared.domain.tactics import AUDIENCES, OUTCOME_KINDS, TACTICS
from shared.domain.verification import RELATIONSHIP_TACTICS
from shared.domain.weeks import iso_week_of
from shared.eventlog import NewEvent
from shared.eventlog.events import PULSE_ITEMS

START = datetime(2026, 3, 2, 8, tzinfo=UTC)  # a Monday
ZONES = ("UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
TACTIC_NAMES = tuple(sorted(TACTICS))
OUTCOMES_BEFORE_THEIR_ACTIONS = True
"""Whether an import may put an outcome before the action it names. Capital credits such an
outcome when the action is logged, whatever the batches (it once did only when both landed
in one batch: tests/contract/test_known_divergences.py)."""
ACTIONS_BEFORE_KNOWN_REWARDS = True
"""Whether an import may hold an action dated before an outcome of the person appended
earlier. Levers marks an action rewarded when a rewarding outcome follows it within 14 days
by event time; catch-up judges a batch's actions against every reward stored, so the rows no
longer depend on the batches (tests/contract/test_known_divergences.py keeps the case)."""
RETRACTIONS_OF_DUPLICATES = True
"""Whether an action appended twice (an import sent again without a key) may be retracted.
Capital drops the rows logged before the latest retraction, whatever the batches (it once
deleted both rows in batches but one in one pass: tests/contract/test_known_divergences.py)."""
HISTORY_BEFORE_HIRING = True
"""Whether a person's history may start before the week they were invited (an import of
older actions, a calendar sync of earlier meetings). Levers counts such history in the team
of the invitation whatever the batches (tests/contract/test_known_divergences.py); capital,
whose credit once depended on the batches here, agrees since an action is keyed by its
person and id."""


class Ref(NamedTuple):
    """An entity of a drawn history (``Ref("person", 3)``), a UUID once written."""

    kind: str
    number: int

    def __repr__(self) -> str:
        return f"{self.kind}{self.number}"


@dataclass
class Write:
    """One call on the store.

    ``how``: ``append`` (one stream, ``store.append``), ``batch`` (``append_batch``),
    ``rolled_back`` (``append_in`` in a transaction that is then rolled back), ``erase``
    (``store.erase`` of ``person``) or ``retry`` (write ``retry_of`` again, same key).
    """

    how: str
    tenant: Ref
    streams: list[tuple[str, list[NewEvent]]] = field(default_factory=list)
    key: str | None = None
    person: Ref | None = None
    retry_of: int | None = None  # index of the retried write in the history

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """How hypothesis prints a failing example: as :meth:`__repr__` (compact), not field
        by field (a history's payloads would make tens of kilobytes)."""
        printer.text(repr(self))

    def __repr__(self) -> str:
        if self.how == "erase":
            return f"erase({self.person!r})"
        if self.how == "retry":
            return f"retry(#{self.retry_of})"
        events = [f"{e.type}@{e.occurred_at:%m-%d %H:%M}" for _, es in self.streams for e in es]
        return f"{self.how}[{', '.join(events)}]"


@dataclass
class _Person:
    ref: Ref
    tenant: Ref
    team: Ref | None
    active: bool = True
    erased: bool = False
    actions: list[tuple[Ref, NewEvent]] = field(default_factory=list)
    retracted: set[Ref] = field(default_factory=set)
    requests: list[Ref] = field(default_factory=list)
    answered: set[Ref] = field(default_factory=set)
    outcomes: list[Ref] = field(default_factory=list)
    confirmed: set[Ref] = field(default_factory=set)  # actions and outcomes answered
    absences: list[Ref] = field(default_factory=list)
    experiments: list[tuple[Ref, bool]] = field(default_factory=list)  # (id, ended)
    meetings: list[str] = field(default_factory=list)
    pulses: set[tuple[Ref, Any]] = field(default_factory=set)  # (team, day) answered
    hired: datetime = START
    last_outcome: datetime = START  # the latest outcome appended, by event time


class _World:
    """The model a history is drawn against: who exists, what can be referred to."""

    def __init__(self, draw: st.DrawFn) -> None:
        self.draw = draw
        self.counters: dict[str, int] = {}
        self.tenants = [self.new("tenant") for _ in range(draw(st.integers(1, 3)))]
        self.teams = {
            t: [self.new("team") for _ in range(draw(st.integers(1, 3)))] for t in self.tenants
        }
        self.people: list[_Person] = []
        self.minutes = 0
        self.writes: list[Write] = []
        self.twice: set[Ref] = set()  # actions appended twice (an import sent again)

    def new(self, kind: str) -> Ref:
        number = self.counters.get(kind, 0)
        self.counters[kind] = number + 1
        return Ref(kind, number)

    def now(self) -> datetime:
        return START + timedelta(minutes=self.minutes)

    def pick(self, options: list[Any]) -> Any:
        return self.draw(st.sampled_from(options))

    def living(self) -> list[_Person]:
        return [p for p in self.people if not p.erased]

    def active(self) -> list[_Person]:
        return [p for p in self.people if p.active and not p.erased]

    def append(self, tenant: Ref, stream: str, *events: NewEvent, key: bool = False) -> None:
        """One append to ``stream``; now and then a unit of work holding it is rolled back
        first (a crash mid-write: its positions are skipped) and the client tries again."""
        name = f"k{len(self.writes)}" if key or self.draw(st.integers(0, 5)) == 0 else None
        if self.draw(st.integers(0, 15)) == 0:
            self.writes.append(Write("rolled_back", tenant, [(stream, list(events))], key=name))
        self.writes.append(Write("append", tenant, [(stream, list(events))], key=name))


def _data(**fields: Any) -> dict[str, Any]:
    return fields


def _organisation(world: _World) -> None:
    for tenant in world.tenants:
        world.append(
            tenant,
            f"organization-{tenant!r}",
            NewEvent("OrganizationCreated", _data(organization_id=tenant, name="Org"), world.now()),
        )
        for team in world.teams[tenant]:
            world.append(
                tenant,
                f"team-{team!r}",
                NewEvent(
                    "TeamCreated",
                    _data(team_id=team, name="Team", parent_team_id=None),
                    world.now(),
                ),
            )


def _hire(world: _World) -> None:
    draw = world.draw
    tenant = world.pick(world.tenants)
    team = world.pick([*world.teams[tenant], None])
    person = _Person(world.new("person"), tenant, team, hired=world.now())
    world.people.append(person)
    invited = NewEvent(
        "PersonInvited",
        _data(
            person_id=person.ref,
            email=f"{person.ref!r}@contract.test",
            role="employee",
            team_id=team,
        ),
        world.now(),
    )
    joined = NewEvent(
        "PersonJoined",
        _data(person_id=person.ref, display_name="Someone", time_zone=world.pick(list(ZONES))),
        world.now() + timedelta(hours=draw(st.integers(0, 30))),
    )
    world.append(tenant, f"person-{person.ref!r}", invited, joined)


def _membership(world: _World, person: _Person) -> None:
    draw, now = world.draw, world.now()
    roll = draw(st.integers(0, 6))
    stream = f"person-{person.ref!r}"
    if roll <= 1 and person.active:
        target = world.pick(world.teams[person.tenant])
        moved = NewEvent(
            "PersonMovedTeam",
            _data(person_id=person.ref, from_team_id=person.team, to_team_id=target),
            now,
        )
        person.team = target
        world.append(person.tenant, stream, moved)
    elif roll == 2 and person.active:
        person.active = False
        world.append(
            person.tenant, stream, NewEvent("PersonLeft", _data(person_id=person.ref), now)
        )
    elif roll == 3 and person.team is not None:
        data = _data(team_id=person.team, person_id=person.ref)
        kind = draw(st.sampled_from(["TeamManagerAssigned", "TeamManagerRemoved"]))
        world.append(person.tenant, f"team-{person.team!r}", NewEvent(kind, data, now))
    elif roll == 4:
        zone = world.pick(list(ZONES))
        data = _data(person_id=person.ref, display_name="Renamed", time_zone=zone)
        world.append(person.tenant, stream, NewEvent("PersonJoined", data, now))
    else:
        start = draw(st.sampled_from([420, 480, 540, 600]))
        days = draw(st.lists(st.sampled_from(DAYS), min_size=1, max_size=7, unique=True))
        data = _data(
            person_id=person.ref,
            start_minute=start,
            end_minute=start + draw(st.sampled_from([240, 480, 540])),
            working_days=sorted(days, key=DAYS.index),
            time_zone=world.pick(list(ZONES)),
        )
        world.append(person.tenant, stream, NewEvent("WorkingHoursSet", data, now))


def _action(world: _World, person: _Person, at: datetime) -> tuple[Ref, NewEvent]:
    action = world.new("action")
    data = _data(
        action_id=action,
        person_id=person.ref,
        tactic=world.pick(list(TACTIC_NAMES)),
        minutes=world.draw(st.sampled_from([5, 15, 30, 90])),
        audience=world.pick(list(AUDIENCES)),
        note=None,
    )
    if data["tactic"] in RELATIONSHIP_TACTICS and world.draw(st.booleans()):
        data["counterpart_id"] = _colleague(world, person)
    event = NewEvent("MicroActionLogged", data, at)
    person.actions.append((action, event))
    return action, event


def _colleague(world: _World, person: _Person) -> Ref:
    """Someone of the person's organisation to name (the person too, as an import may)."""
    return world.pick([p.ref for p in world.people if p.tenant == person.tenant])


def _confirmation(world: _World, person: _Person, at: datetime) -> NewEvent | None:
    """The named party confirms or declines one of the person's actions or outcomes, once."""
    items = [("action", a) for a, _ in person.actions] + [("outcome", o) for o in person.outcomes]
    items = [(kind, item) for kind, item in items if item not in person.confirmed]
    if not items:
        return None
    kind, item = world.pick(items)
    person.confirmed.add(item)
    event_type = "ActionConfirmed" if kind == "action" else "OutcomeConfirmed"
    data = {f"{kind}_id": item, "person_id": person.ref, "confirmed": world.draw(st.booleans())}
    return NewEvent(event_type, data, at)


def _absence(world: _World, person: _Person, at: datetime) -> NewEvent:
    """The person declares an absence (an id declared again replaces its days) or withdraws
    one (model 2: leave pauses decay)."""
    if person.absences and world.draw(st.booleans()):
        data = _data(absence_id=world.pick(person.absences), person_id=person.ref)
        return NewEvent("AbsenceWithdrawn", data, at)
    absence = Ref("absence", person.ref.number * 100 + len(person.absences) % 3)
    person.absences.append(absence)
    starts = (at + timedelta(days=world.draw(st.integers(-30, 30)))).date()
    ends = starts + timedelta(days=world.draw(st.integers(0, 60)))
    data = _data(absence_id=absence, person_id=person.ref, starts_on=starts.isoformat(),
                 ends_on=ends.isoformat())  # fmt: skip
    return NewEvent("AbsenceDeclared", data, at)


def _outcome(world: _World, person: _Person, at: datetime, action: Ref | None) -> NewEvent:
    person.last_outcome = max(person.last_outcome, at)
    data = _data(
        outcome_id=world.new("outcome"),
        person_id=person.ref,
        kind=world.pick(list(OUTCOME_KINDS)),
        action_id=action,
        note=None,
    )
    confirmer = world.draw(st.integers(0, 3))
    if confirmer == 1:
        data["confirmer_id"] = _colleague(world, person)
    elif confirmer == 2:
        data["confirmer_email"] = "mentor@outside.example"
    person.outcomes.append(data["outcome_id"])
    return NewEvent("OutcomeRecorded", data, at)


def _request(world: _World, person: _Person, at: datetime) -> tuple[Ref, NewEvent]:
    request = world.new("request")
    linked = world.pick([None, *(a for a, _ in person.actions[-3:])])
    data = _data(
        request_id=request,
        person_id=person.ref,
        action_id=linked,
        question="How was it?",
        expires_at=(at + timedelta(days=14)).isoformat(),
    )
    if world.draw(st.booleans()):
        data["colleague_id"] = _colleague(world, person)
    person.requests.append(request)
    return request, NewEvent("FeedbackRequested", data, at)


def _answer(world: _World, person: _Person, request: Ref, at: datetime) -> NewEvent:
    person.answered.add(request)
    data = _data(
        request_id=request,
        person_id=person.ref,
        useful=world.draw(st.booleans()),
        comment=None,
        confirmed=world.draw(st.booleans()),
    )
    return NewEvent("FeedbackGiven", data, at)


def _meeting(world: _World, person: _Person, at: datetime, key: str | None = None) -> NewEvent:
    if key is None:
        key = f"m{world.new('meeting').number}"
        person.meetings.append(key)
    if world.draw(st.integers(0, 4)) == 0:  # an out-of-office block (a day, or days)
        hours = world.draw(st.sampled_from([4.0, 24.0, 80.0]))
        times = dict(start=at.isoformat(), end=(at + timedelta(hours=hours)).isoformat())
        data = _data(
            person_id=person.ref,
            connection_id=Ref("connection", person.ref.number),
            meeting_key=key,
            **times,
        )
        return NewEvent("OutOfOfficeObserved", data, at)
    hours = world.draw(st.sampled_from([0.5, 1.0, 2.5]))
    data = _data(
        person_id=person.ref,
        connection_id=Ref("connection", person.ref.number),
        meeting_key=key,
        start=at.isoformat(),
        end=(at + timedelta(hours=hours)).isoformat(),
        attendee_count=3,
        one_on_one=False,
        with_manager=world.draw(st.booleans()),
        organizer_is_self=False,
        response_status=world.pick(["accepted", "accepted", "declined", "tentative"]),
        recurring=False,
    )
    return NewEvent("MeetingObserved", data, at)


def _cancel(person: _Person, key: str, at: datetime) -> NewEvent:
    data = _data(
        person_id=person.ref, connection_id=Ref("connection", person.ref.number), meeting_key=key
    )
    return NewEvent("MeetingCancelled", data, at)


def _after_hiring(person: _Person, moment: datetime) -> datetime:
    """``moment``, or a week after the person's invitation if earlier and the generator keeps
    history after hiring (:data:`HISTORY_BEFORE_HIRING`)."""
    if HISTORY_BEFORE_HIRING:
        return moment
    return max(moment, person.hired + timedelta(weeks=1))


def _after_outcomes(person: _Person, moment: datetime) -> datetime:
    """``moment``, or a minute after the person's latest outcome if earlier and the generator
    keeps actions after the rewards appended before them (:data:`ACTIONS_BEFORE_KNOWN_REWARDS`;
    an import's outcomes may lie after the clock)."""
    if ACTIONS_BEFORE_KNOWN_REWARDS:
        return moment
    return max(moment, person.last_outcome + timedelta(minutes=1))


def _journal(world: _World, person: _Person) -> None:
    """One thing a person does now, through the commands (one event, their stream)."""
    draw, now = world.draw, world.now()
    journal, calendar = f"journal-{person.ref!r}", f"calendar-{person.ref!r}"
    roll = draw(st.integers(0, 14))
    open_actions = [
        (a, e)
        for a, e in person.actions
        if a not in person.retracted and (RETRACTIONS_OF_DUPLICATES or a not in world.twice)
    ]
    if roll <= 3 or (roll == 4 and not open_actions):
        _, event = _action(world, person, _after_outcomes(person, now))
        world.append(person.tenant, journal, event, key=draw(st.booleans()))
    elif roll == 4:
        action, logged = world.pick(open_actions)
        person.retracted.add(action)
        data = {
            k: logged.data[k] for k in ("action_id", "person_id", "tactic", "minutes", "audience")
        }
        world.append(
            person.tenant, journal, NewEvent("MicroActionRetracted", data, logged.occurred_at)
        )
    elif roll == 5:
        linked = world.pick([None, *(a for a, _ in person.actions[-4:])])
        world.append(person.tenant, journal, _outcome(world, person, now, linked))
    elif roll == 6:
        tactics = draw(st.lists(st.sampled_from(TACTIC_NAMES), min_size=1, max_size=3, unique=True))
        week = iso_week_of((now + timedelta(days=draw(st.integers(-7, 7)))).date())
        data = _data(person_id=person.ref, week=week, tactics=tactics, labels=None)
        world.append(person.tenant, journal, NewEvent("WeeklyPlanSet", data, now))
    elif roll == 7:
        running = [e for e, ended in person.experiments if not ended]
        end_one: bool = draw(st.booleans())
        if running and end_one:
            experiment = world.pick(running)
            person.experiments = [(e, ended or e == experiment) for e, ended in person.experiments]
            data = _data(experiment_id=experiment, person_id=person.ref, reflection=None)
            world.append(person.tenant, journal, NewEvent("ExperimentEnded", data, now))
        else:
            experiment = world.new("experiment")
            person.experiments.append((experiment, False))
            starts = (now + timedelta(days=draw(st.integers(-10, 10)))).date()
            data = _data(
                experiment_id=experiment,
                person_id=person.ref,
                tactic=world.pick(list(TACTIC_NAMES)),
                weeks=draw(st.integers(1, 4)),
                starts_on=starts.isoformat(),
                hypothesis=None,
            )
            world.append(person.tenant, journal, NewEvent("ExperimentStarted", data, now))
    elif roll == 8:
        _, event = _request(world, person, now)
        world.append(person.tenant, journal, event)
    elif roll == 9 and [r for r in person.requests if r not in person.answered]:
        request = world.pick([r for r in person.requests if r not in person.answered])
        world.append(person.tenant, journal, _answer(world, person, request, now))
    elif roll == 9 and (confirmation := _confirmation(world, person, now)) is not None:
        world.append(person.tenant, journal, confirmation)
    elif roll == 10 and person.team is not None and (person.team, now.date()) not in person.pulses:
        week = iso_week_of(now.date())
        person.pulses.add((person.team, now.date()))
        answers = draw(
            st.dictionaries(st.sampled_from(PULSE_ITEMS), st.integers(1, 7), min_size=1, max_size=4)
        )
        responder = f"{person.ref.number:032x}{person.team.number:032x}"
        data = _data(team_id=person.team, week=week, responder_hash=responder, answers=answers)
        midnight = now.replace(hour=0, minute=0)
        world.append(
            person.tenant,
            f"pulse-{person.team!r}-{week}",
            NewEvent("PulseResponseSubmitted", data, midnight),
            key=True,
        )
    elif roll == 14:
        world.append(person.tenant, journal, _absence(world, person, now))
    elif roll in (11, 12) or not person.meetings:
        start = now + timedelta(days=draw(st.integers(-3, 6)), hours=draw(st.integers(0, 12)))
        world.append(person.tenant, calendar, _meeting(world, person, _after_hiring(person, start)))
    elif draw(st.booleans()):  # moved (maybe to another week)
        key = world.pick(person.meetings)
        start = _after_hiring(person, now + timedelta(days=draw(st.integers(-7, 7))))
        world.append(person.tenant, calendar, _meeting(world, person, start, key))
    else:
        world.append(person.tenant, calendar, _cancel(person, world.pick(person.meetings), now))


def _import(world: _World) -> None:
    """An admin's import of past journal and calendar events, shuffled."""
    draw = world.draw
    tenant = world.pick(world.tenants)
    people = [p for p in world.living() if p.tenant == tenant]
    if not people:
        return
    events: list[tuple[_Person, NewEvent]] = []
    for person in draw(
        st.lists(st.sampled_from(people), min_size=1, max_size=3, unique_by=lambda p: p.ref)
    ):
        back = world.now() - timedelta(days=draw(st.integers(1, 28)))
        back = _after_hiring(person, back)
        back = _after_outcomes(person, back)
        action, logged = _action(world, person, back)
        events.append((person, logged))
        events.append((person, _outcome(world, person, back + timedelta(days=1), action)))
        request, asked = _request(world, person, back + timedelta(hours=1))
        events.append((person, asked))
        if draw(st.booleans()):
            events.append((person, _answer(world, person, request, back + timedelta(hours=5))))
        experiment = world.new("experiment")
        person.experiments.append((experiment, True))
        started = _data(
            experiment_id=experiment,
            person_id=person.ref,
            tactic=world.pick(list(TACTIC_NAMES)),
            weeks=2,
            starts_on=back.date().isoformat(),
            hypothesis=None,
        )
        events.append((person, NewEvent("ExperimentStarted", started, back)))
        if draw(st.booleans()):
            ended = _data(experiment_id=experiment, person_id=person.ref, reflection=None)
            events.append((person, NewEvent("ExperimentEnded", ended, back + timedelta(days=9))))
        meeting = _meeting(world, person, back + timedelta(hours=2))
        events.append((person, meeting))
        if draw(st.booleans()):
            events.append(
                (person, _cancel(person, meeting.data["meeting_key"], back + timedelta(hours=3)))
            )
    order = list(draw(st.permutations(range(len(events)))))
    if not OUTCOMES_BEFORE_THEIR_ACTIONS:  # each linked outcome moved right after its action
        for outcome_at in [i for i, (_, e) in enumerate(events) if e.type == "OutcomeRecorded"]:
            action_at = outcome_at - 1  # _import writes an action, then its outcome
            order.remove(outcome_at)
            order.insert(order.index(action_at) + 1, outcome_at)
    streams: dict[str, list[NewEvent]] = {}
    for i in order:
        person, event = events[i]
        calendar = event.type.startswith("Meeting") or event.type == "OutOfOfficeObserved"
        kind = "calendar" if calendar else "journal"
        streams.setdefault(f"{kind}-{person.ref!r}", []).append(event)
    write = Write(
        "batch",
        tenant,
        list(streams.items()),
        key=f"k{len(world.writes)}" if draw(st.booleans()) else None,
    )
    world.writes.append(write)
    if draw(st.integers(0, 3)) == 0:  # sent again without a key: every event appended twice
        world.twice |= {e.data["action_id"] for _, e in events if e.type == "MicroActionLogged"}
        world.writes.append(Write("batch", tenant, list(streams.items())))


def _retry(world: _World) -> None:
    """A keyed write sent again (not one naming an erased person: their key is gone)."""
    erased = {p.ref for p in world.people if p.erased}
    keyed = [
        i
        for i, w in enumerate(world.writes)
        if w.key is not None
        and w.how in ("append", "batch")
        and not any(e.data.get("person_id") in erased for _, es in w.streams for e in es)
    ]
    if keyed:
        index = world.pick(keyed[-3:])
        world.writes.append(Write("retry", world.writes[index].tenant, retry_of=index))


def _release(world: _World) -> None:
    """A team's (or an organisation's) week released: one event on a stream of its own;
    now and then a second publisher's attempt at the same stream, which appends nothing."""
    tenant = world.pick(world.tenants)
    team = world.pick([*world.teams[tenant], None])
    week = iso_week_of(world.now().date())
    stream = f"release-{team if team is not None else tenant!r}-{week}"
    released = world.__dict__.setdefault("released", set())
    if stream in released:
        return
    released.add(stream)
    value = world.draw(st.integers(0, 1000)) / 10
    release = json.dumps({"levers": {"participation": {"value": value, "suppressed": False}}})
    data = _data(team_id=team, week=week, k=world.draw(st.integers(3, 9)), epsilon_milli=10000,
                 model_version=1, release=release)  # fmt: skip
    world.append(tenant, stream, NewEvent("LeverReleasePublished", data, world.now()))


def _erase(world: _World) -> None:
    living = world.living()
    if len(living) > 1:
        person = world.pick(living)
        person.erased, person.active = True, False
        world.writes.append(Write("erase", person.tenant, person=person.ref))


@st.composite
def histories(draw: st.DrawFn, max_steps: int = 40) -> list[Write]:
    """A history of a few tenants: organisations first, then ``max_steps`` things at most."""
    world = _World(draw)
    _organisation(world)
    for _ in range(draw(st.integers(1, 3))):
        _hire(world)
    for _ in range(draw(st.integers(5, max_steps))):
        world.minutes += draw(st.sampled_from([0, 10, 90, 60 * 20, 60 * 24 * 3]))
        roll = draw(st.integers(0, 19))
        active = world.active()
        if roll == 0 or not active:
            _hire(world)
        elif roll <= 3:
            _membership(world, world.pick(active))
        elif roll == 4:
            _import(world)
        elif roll == 5:
            _retry(world)
        elif roll == 6:
            _erase(world)
        elif roll == 7:
            _release(world)
        else:
            _journal(world, world.pick(active))
    return world.writes

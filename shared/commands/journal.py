"""Journal commands: what an employee logs, plans, tries and asks; pulses; bulk imports."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from shared.commands.base import Actor, append
from shared.commands.settings import pulse_cadence
from shared.directory import DIRECTORY_EVENTS, Person, TeamMember
from shared.domain.errors import Conflict, Forbidden, Gone, InvalidInput, NotFound
from shared.domain.weeks import iso_week_of, next_pulse_period, parse_iso_week, pulse_period
from shared.eventlog import (
    AppendResult,
    EventStore,
    IdempotencyConflict,
    NewEvent,
    RecordedEvent,
    StreamAppend,
)
from shared.eventlog.store import EVENT_ID_NAMESPACE
from shared.security import keyed_hash

MAX_PAST = timedelta(days=730)
MAX_FUTURE = timedelta(days=1)
FEEDBACK_DAYS = 14
UNDO_WINDOW = timedelta(minutes=1)
IMPORT_LIMIT = 50_000
IMPORTABLE = frozenset(
    {
        "MicroActionLogged",
        "OutcomeRecorded",
        "WeeklyPlanSet",
        "ExperimentStarted",
        "ExperimentEnded",
        "FeedbackRequested",
        "FeedbackGiven",
        "MeetingObserved",
        "MeetingCancelled",
    }
)


@dataclass(frozen=True)
class Written:
    """What a command wrote: the id of the thing it created and the log's answer."""

    id: uuid.UUID
    result: AppendResult

    @property
    def event_id(self) -> uuid.UUID:
        return self.result.event_ids[0]

    @property
    def position(self) -> int:
        return self.result.positions[-1]


def check_moment(moment: datetime | None, now: datetime, field: str = "occurred_at") -> datetime:
    """``moment`` (default now), refused if far in the past or in the future."""
    if moment is None:
        return now
    if moment.tzinfo is None:
        raise InvalidInput(
            "a time needs a time zone",
            {field: ["Include a time zone offset, e.g. 2026-11-25T09:30:00Z."]},
        )
    if moment < now - MAX_PAST or moment > now + MAX_FUTURE:
        raise InvalidInput(
            "that time is out of range",
            {field: ["Must be within the last two years and not in the future."]},
        )
    return moment


class JournalCommands:
    """Parameters:
    store: the event store.
    secret_key: keys the anonymous pulse hash.
    on_appended: called after each commit with the event types written (the gateway sends
        projection wake-ups from it); it must not raise.
    """

    def __init__(
        self,
        store: EventStore,
        secret_key: str,
        on_appended: Callable[[frozenset[str]], None] | None = None,
    ):
        self.store = store
        self.secret_key = secret_key
        self.on_appended = on_appended or (lambda types: None)

    # -- the employee's own journal --------------------------------------------------------

    def log_action(
        self,
        actor: Actor,
        tactic: str,
        minutes: int,
        audience: str,
        note: str | None = None,
        occurred_at: datetime | None = None,
        now: datetime | None = None,
    ) -> Written:
        now = now or datetime.now(UTC)
        action_id = self._new_id(actor, "action")
        return self._journal(
            actor,
            action_id,
            NewEvent(
                "MicroActionLogged",
                {
                    "action_id": str(action_id),
                    "person_id": str(self._me(actor)),
                    "tactic": tactic,
                    "minutes": minutes,
                    "audience": audience,
                    "note": note,
                },
                check_moment(occurred_at, now),
            ),
        )

    def undo_action(
        self, actor: Actor, action_id: uuid.UUID, now: datetime | None = None
    ) -> Written:
        """Undo one of the actor's actions within :data:`UNDO_WINDOW` of logging it.

        Appends ``MicroActionRetracted`` (the log keeps the action: nothing is deleted).

        Raises:
            NotFound: no such action of the actor's. Conflict: undone already.
            Gone: logged more than a minute ago.
        """
        now = now or datetime.now(UTC)
        logged = self._find(actor, "MicroActionLogged", "action_id", action_id)
        if logged is None:
            raise NotFound(f"no action {action_id}")
        if self._find(actor, "MicroActionRetracted", "action_id", action_id) is not None:
            raise Conflict("this action has been undone already")
        if now - logged.recorded_at > UNDO_WINDOW:
            raise Gone("an action can be undone only within a minute of logging it")
        data = logged.data
        return self._journal(
            actor,
            action_id,
            NewEvent(
                "MicroActionRetracted",
                {
                    "action_id": str(action_id),
                    "person_id": str(self._me(actor)),
                    "tactic": data["tactic"],
                    "minutes": data["minutes"],
                    "audience": data["audience"],
                },
                logged.occurred_at,  # the action's time: projections subtract it where it was
            ),
            key=f"undo-action:{action_id}",
        )

    def record_outcome(
        self,
        actor: Actor,
        kind: str,
        action_id: uuid.UUID | None = None,
        note: str | None = None,
        occurred_at: datetime | None = None,
        now: datetime | None = None,
    ) -> Written:
        now = now or datetime.now(UTC)
        self._check_my_action(actor, action_id)
        outcome_id = self._new_id(actor, "outcome")
        return self._journal(
            actor,
            outcome_id,
            NewEvent(
                "OutcomeRecorded",
                {
                    "outcome_id": str(outcome_id),
                    "person_id": str(self._me(actor)),
                    "kind": kind,
                    "action_id": str(action_id) if action_id else None,
                    "note": note,
                },
                check_moment(occurred_at, now),
            ),
        )

    def set_plan(
        self, actor: Actor, week: str, tactics: Sequence[str], labels: Sequence[str] | None
    ) -> Written:
        if labels is not None and len(labels) != len(tactics):
            raise InvalidInput(
                "labels and actions differ in number",
                {"actions": ["Give every planned action a label, or none."]},
            )
        plan_id = uuid.uuid5(EVENT_ID_NAMESPACE, f"plan|{self._me(actor)}|{week}")
        return self._journal(
            actor,
            plan_id,
            NewEvent(
                "WeeklyPlanSet",
                {
                    "person_id": str(self._me(actor)),
                    "week": week,
                    "tactics": list(tactics),
                    "labels": list(labels) if labels is not None else None,
                },
            ),
        )

    def start_experiment(
        self,
        actor: Actor,
        tactic: str,
        weeks: int = 4,
        starts_on: date | None = None,
        hypothesis: str | None = None,
        now: datetime | None = None,
    ) -> Written:
        now = now or datetime.now(UTC)
        start = starts_on or now.date()
        if abs((start - now.date()).days) > 365:
            raise InvalidInput(
                "the start date is out of range", {"starts_on": ["Must be within a year of today."]}
            )
        experiment_id = self._new_id(actor, "experiment")
        return self._journal(
            actor,
            experiment_id,
            NewEvent(
                "ExperimentStarted",
                {
                    "experiment_id": str(experiment_id),
                    "person_id": str(self._me(actor)),
                    "tactic": tactic,
                    "weeks": weeks,
                    "starts_on": start.isoformat(),
                    "hypothesis": hypothesis,
                },
            ),
        )

    def end_experiment(
        self, actor: Actor, experiment_id: uuid.UUID, reflection: str | None = None
    ) -> Written:
        if self._find(actor, "ExperimentStarted", "experiment_id", experiment_id) is None:
            raise NotFound(f"no experiment {experiment_id}")
        if self._find(actor, "ExperimentEnded", "experiment_id", experiment_id) is not None:
            raise Conflict("this experiment has ended already")
        return self._journal(
            actor,
            experiment_id,
            NewEvent(
                "ExperimentEnded",
                {
                    "experiment_id": str(experiment_id),
                    "person_id": str(self._me(actor)),
                    "reflection": reflection,
                },
            ),
            key=f"end-experiment:{experiment_id}",
        )

    # -- micro-feedback ---------------------------------------------------------------------

    def request_feedback(
        self,
        actor: Actor,
        question: str,
        action_id: uuid.UUID | None = None,
        days: int = FEEDBACK_DAYS,
        now: datetime | None = None,
    ) -> Written:
        now = now or datetime.now(UTC)
        self._check_my_action(actor, action_id)
        request_id = self._new_id(actor, "feedback")
        return self._journal(
            actor,
            request_id,
            NewEvent(
                "FeedbackRequested",
                {
                    "request_id": str(request_id),
                    "person_id": str(self._me(actor)),
                    "action_id": str(action_id) if action_id else None,
                    "question": question,
                    "expires_at": (now + timedelta(days=days)).isoformat(),
                },
            ),
        )

    def feedback_request(
        self,
        tenant_id: uuid.UUID,
        person_id: uuid.UUID,
        request_id: uuid.UUID,
        now: datetime | None = None,
    ) -> tuple[RecordedEvent, RecordedEvent | None]:
        """The request behind a feedback link and its answer, if any.

        Raises:
            NotFound: no such request. Gone: it expired.
        """
        now = now or datetime.now(UTC)
        asked = self.store.find(
            f"journal-{person_id}", "FeedbackRequested", {"request_id": str(request_id)}
        )
        if asked is None or asked.tenant_id != tenant_id:
            raise NotFound("this feedback link is not valid")
        if datetime.fromisoformat(asked.data["expires_at"]) < now:
            raise Gone("this feedback link has expired")
        answer = self.store.find(
            f"journal-{person_id}", "FeedbackGiven", {"request_id": str(request_id)}
        )
        return asked, answer

    def give_feedback(
        self,
        tenant_id: uuid.UUID,
        person_id: uuid.UUID,
        request_id: uuid.UUID,
        useful: bool,
        comment: str | None = None,
        now: datetime | None = None,
    ) -> Written:
        """A colleague answers through the link: once per link, before it expires."""
        _, answer = self.feedback_request(tenant_id, person_id, request_id, now)
        if answer is not None:
            raise Conflict("this question has been answered already")
        colleague = Actor(tenant_id=tenant_id, person_id=None, source="feedback-link")
        try:
            with self.store.engine.begin() as conn:
                result = append(
                    self.store,
                    conn,
                    colleague,
                    f"journal-{person_id}",
                    [
                        NewEvent(
                            "FeedbackGiven",
                            {
                                "request_id": str(request_id),
                                "person_id": str(person_id),
                                "useful": useful,
                                "comment": comment,
                            },
                        ),
                    ],
                    key=f"feedback-answer:{request_id}",
                )
        except IdempotencyConflict:
            raise Conflict("this question has been answered already") from None
        if result.replayed:
            raise Conflict("this question has been answered already")
        self.on_appended(frozenset({"FeedbackGiven"}))
        return Written(request_id, result)

    # -- the anonymous pulse ----------------------------------------------------------------

    def submit_pulse(
        self,
        actor: Actor,
        answers: Mapping[str, int],
        team_id: uuid.UUID | None = None,
        week: str | None = None,
        now: datetime | None = None,
    ) -> AppendResult:
        """One anonymous response per person, team and ISO week.

        Neither the event nor its metadata names the person: the only link is a keyed hash
        (``COMPOUND_SECRET_KEY``) of person, team and week, which makes a second response
        from the same person a conflict.
        """
        now = now or datetime.now(UTC)
        me = self._me(actor)
        week = week or iso_week_of(now)
        if parse_iso_week(week) > parse_iso_week(iso_week_of(now)):
            raise InvalidInput("that week has not started", {"week": ["Answer for this week."]})
        team_id = self._pulse_team(actor, me, team_id)
        with self.store.engine.connect() as conn:
            cadence = pulse_cadence(conn, actor.tenant_id)
        period = pulse_period(week, cadence)  # the week itself when the pulse is weekly
        responder = keyed_hash(self.secret_key, "pulse", str(me), str(team_id), period)
        anonymous = Actor(tenant_id=actor.tenant_id, person_id=None, source="pulse")
        try:
            with self.store.engine.begin() as conn:
                result = append(
                    self.store,
                    conn,
                    anonymous,
                    f"pulse-{team_id}-{week}",
                    [
                        NewEvent(
                            "PulseResponseSubmitted",
                            {
                                "team_id": str(team_id),
                                "week": week,
                                "responder_hash": responder,
                                "answers": dict(answers),
                            },
                            occurred_at=now.replace(hour=0, minute=0, second=0, microsecond=0),
                        ),
                    ],
                    key=f"pulse:{responder}",
                )
        except IdempotencyConflict:
            if cadence == 1:
                raise Conflict("you have answered this week's pulse already") from None
            raise Conflict(
                f"you have answered this pulse already: it runs every {cadence} weeks, "
                f"the next one opens in week {next_pulse_period(week, cadence)}"
            ) from None
        self.on_appended(frozenset({"PulseResponseSubmitted"}))
        return result

    def _pulse_team(self, actor: Actor, me: uuid.UUID, team_id: uuid.UUID | None) -> uuid.UUID:
        with self.store.engine.connect() as conn:
            teams = set(
                conn.execute(
                    select(TeamMember.team_id).where(
                        TeamMember.person_id == me, TeamMember.tenant_id == actor.tenant_id
                    )
                ).scalars()
            )
        if team_id is None:
            if len(teams) != 1:
                raise InvalidInput(
                    "choose a team",
                    {
                        "team_id": [
                            "You belong to several teams (or none): say which team this is for."
                        ]
                    },
                )
            return next(iter(teams))
        if team_id not in teams:
            raise Forbidden("you can answer the pulse only for your own teams")
        return team_id

    # -- bulk import --------------------------------------------------------------------------

    def import_events(
        self, actor: Actor, events: Sequence[Mapping[str, Any]], now: datetime | None = None
    ) -> list[AppendResult]:
        """Admin bulk import of journal and calendar events, validated, idempotent.

        Each item: ``{"person_id", "type", "data", "occurred_at"?}``; the stream is the
        person's. Directory events are refused (they go through the admin endpoints).
        """
        if not actor.is_admin:
            raise Forbidden("only an admin can import events")
        if not events:
            raise InvalidInput("nothing to import", {"events": ["Give at least one event."]})
        if len(events) > IMPORT_LIMIT:
            raise InvalidInput(
                "too many events", {"events": [f"At most {IMPORT_LIMIT} events per request."]}
            )
        now = now or datetime.now(UTC)
        errors: dict[str, list[str]] = {}
        by_stream: dict[str, list[NewEvent]] = defaultdict(list)
        people: set[str] = set()
        for i, item in enumerate(events):
            kind = item.get("type")
            if kind in DIRECTORY_EVENTS or kind not in IMPORTABLE:
                errors[f"events.{i}.type"] = [f"{kind!r} cannot be imported."]
                continue
            data = item.get("data")
            person = data.get("person_id") if isinstance(data, Mapping) else None
            if not isinstance(person, str):
                errors[f"events.{i}.data.person_id"] = ["Missing or not a string."]
                continue
            try:
                moment = check_moment(item.get("occurred_at"), now)
            except InvalidInput as err:
                errors[f"events.{i}.occurred_at"] = err.errors["occurred_at"]
                continue
            people.add(person)
            stream = ("calendar-" if kind.startswith("Meeting") else "journal-") + person
            by_stream[stream].append(NewEvent(kind, data, moment))  # type: ignore[arg-type]
        known = self._people_of(actor, people)
        for i, item in enumerate(events):
            data = item.get("data")
            if isinstance(data, Mapping) and data.get("person_id") in people - known:
                errors[f"events.{i}.data.person_id"] = ["No such person in this organisation."]
        if errors:
            raise InvalidInput(f"{len(errors)} events cannot be imported", errors)
        results = self.store.append_batch(
            actor.tenant_id,
            [StreamAppend(stream, batch) for stream, batch in by_stream.items()],
            actor.context(),
        )
        self.on_appended(frozenset(str(item["type"]) for item in events))
        return results

    # -- internals ----------------------------------------------------------------------------

    def _people_of(self, actor: Actor, people: set[str]) -> set[str]:
        ids = []
        for p in people:
            try:
                ids.append(uuid.UUID(p))
            except ValueError:
                continue
        with self.store.engine.connect() as conn:
            found = conn.execute(
                select(Person.id).where(Person.id.in_(ids), Person.tenant_id == actor.tenant_id)
            ).scalars()
            return {str(p) for p in found}

    @staticmethod
    def _me(actor: Actor) -> uuid.UUID:
        if actor.person_id is None:
            raise Forbidden("this needs a person, not the system")
        return actor.person_id

    @staticmethod
    def _new_id(actor: Actor, purpose: str) -> uuid.UUID:
        """A new entity id; the same one again for a retried request (same idempotency key)."""
        if actor.idempotency_key is None:
            return uuid.uuid4()
        return uuid.uuid5(
            EVENT_ID_NAMESPACE,
            f"{actor.tenant_id}|{actor.person_id}|{actor.idempotency_key}|{purpose}",
        )

    def _check_my_action(self, actor: Actor, action_id: uuid.UUID | None) -> None:
        """Raises InvalidInput unless ``action_id`` is None or one of the actor's actions."""
        if (
            action_id is not None
            and self._find(actor, "MicroActionLogged", "action_id", action_id) is None
        ):
            raise InvalidInput(
                "no such action", {"action_id": ["You logged no action with this id."]}
            )

    def _find(
        self, actor: Actor, event_type: str, field: str, value: uuid.UUID
    ) -> RecordedEvent | None:
        return self.store.find(f"journal-{self._me(actor)}", event_type, {field: str(value)})

    def _journal(
        self, actor: Actor, entity: uuid.UUID, event: NewEvent, key: str | None = None
    ) -> Written:
        # Journal events touch no inline read model: the single round-trip append will do.
        result = self.store.append(
            actor.tenant_id, f"journal-{self._me(actor)}", None, [event], actor.context(key)
        )
        self.on_appended(frozenset({event.type}))
        return Written(entity, result)

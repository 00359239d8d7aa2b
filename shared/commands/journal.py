"""Journal commands: what an employee logs, plans, tries and asks; pulses; bulk imports.

:class:`JournalCommands` is the one handler the gateway holds. This module decides the
employee's own entries (actions, outcomes, plans, experiments); the other parts live in
:mod:`shared.commands.feedback`, :mod:`shared.commands.pulse` and
:mod:`shared.commands.imports`, on the base :mod:`shared.commands.journal_core`.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from shared.commands.base import Actor
from shared.commands.experiments import ExperimentCommands
from shared.commands.feedback import FEEDBACK_DAYS, FeedbackCommands
from shared.commands.imports import IMPORT_LIMIT, IMPORTABLE, ImportCommands
from shared.commands.journal_core import (
    MAX_FUTURE,
    MAX_PAST,
    Written,
    check_in_span,
    check_moment,
)
from shared.commands.pulse import PulseCommands
from shared.commands.verification import split_party
from shared.commands.volume import append_action
from shared.domain.errors import Conflict, Gone, InvalidInput, NotFound
from shared.domain.verification import RELATIONSHIP_TACTICS
from shared.eventlog import NewEvent, RecordedEvent
from shared.eventlog.ids import EVENT_ID_NAMESPACE
from shared.i18n import gettext

UNDO_WINDOW = timedelta(minutes=1)

__all__ = [
    "FEEDBACK_DAYS",
    "IMPORTABLE",
    "IMPORT_LIMIT",
    "MAX_FUTURE",
    "MAX_PAST",
    "UNDO_WINDOW",
    "JournalCommands",
    "Written",
    "check_moment",
]


class JournalCommands(FeedbackCommands, PulseCommands, ImportCommands, ExperimentCommands):
    """Every journal command: own entries, micro-feedback, the pulse, bulk import.

    Parameters:
        store: the event store.
        secret_key: the deployment's secret key; the pulse no longer uses it (its keys are
            per organisation and period: shared/pulses).
        on_appended: called after each commit with the event types written (the gateway
            sends projection wake-ups from it); it must not raise.
    """

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
        counterpart: uuid.UUID | None = None,
    ) -> Written:
        """Log one micro-action of the actor's.

        Parameters:
            actor: the employee logging.
            tactic: the tactic used (:data:`shared.domain.tactics.TACTICS`).
            minutes: the time it took.
            audience: who it was for (:data:`shared.domain.tactics.AUDIENCES`).
            note: an optional private note.
            occurred_at: when it happened (default: now).
            now: the current time (default: the clock).
            counterpart: the colleague a relationship action was for (they may confirm it).

        Returns:
            The new action's id and the append result.

        Raises:
            Forbidden: the actor is not a person.
            InvalidInput: ``occurred_at`` is out of range (:func:`check_moment`); the
                counterpart is not a colleague, or the tactic not a relationship one.
            TooManyActions: the day already holds the daily limit of the actor's actions.
        """
        now = now or datetime.now(UTC)
        moment = check_moment(occurred_at, now)
        self.check_counterpart(tactic, counterpart)
        party = self.name_party(actor, "action", counterpart, None)
        person = str(self._me(actor))
        action_id = self._new_id(actor, "action")
        event = NewEvent(
            "MicroActionLogged",
            {
                "action_id": str(action_id),
                "person_id": person,
                "tactic": tactic,
                "minutes": minutes,
                "audience": audience,
                "note": note,
                **party,
            },
            moment,
        )
        # The daily limit's count rides on the append's statement (shared/commands/volume.py).
        result = append_action(
            self.store, actor.tenant_id, f"journal-{person}", event, actor.context()
        )
        self.on_appended(frozenset({event.type}))
        return Written(action_id, result)

    def undo_action(
        self, actor: Actor, action_id: uuid.UUID, now: datetime | None = None
    ) -> Written:
        """Undo one of the actor's actions within :data:`UNDO_WINDOW` of logging it (the
        API's undo; :meth:`retract_action` has no window).

        Parameters:
            actor: the employee who logged the action.
            action_id: the action to undo.
            now: the current time (default: the clock).

        Returns:
            The action's id and the append result.

        Raises:
            NotFound: no such action of the actor's. Conflict: undone already.
            Gone: logged more than a minute ago.
        """
        logged = self._retractable(actor, action_id)
        if (now or datetime.now(UTC)) - logged.recorded_at > UNDO_WINDOW:
            raise Gone(gettext("An action can be undone only within a minute of logging it."))
        return self._retract(actor, logged)

    def retract_action(self, actor: Actor, action_id: uuid.UUID) -> Written:
        """Retract one of the actor's actions, however long ago it was logged.

        Appends ``MicroActionRetracted`` with the action's ``occurred_at`` (the log keeps the
        action: nothing is deleted; every projection subtracts it where it was).

        Parameters:
            actor: the employee who logged the action.
            action_id: the action to retract.

        Returns:
            The action's id and the append result.

        Raises:
            NotFound: no such action of the actor's. Conflict: retracted already.
        """
        return self._retract(actor, self._retractable(actor, action_id))

    def correct_action(
        self,
        actor: Actor,
        action_id: uuid.UUID,
        tactic: str,
        minutes: int,
        audience: str,
        note: str | None = None,
    ) -> Written:
        """Correct one of the actor's actions: retract it and log the corrected one at the
        same moment, in one append (both events or neither).

        The corrected action keeps the original's named colleague while its tactic is a
        relationship one (:data:`shared.domain.verification.RELATIONSHIP_TACTICS`).

        Parameters:
            actor: the employee who logged the action.
            action_id: the action to correct.
            tactic, minutes, audience, note: the corrected action's fields.

        Returns:
            The corrected action's new id and the append result (its last event is the
            corrected ``MicroActionLogged``).

        Raises:
            NotFound: no such action of the actor's. Conflict: retracted already.
        """
        logged = self._retractable(actor, action_id)
        counterpart = logged.data.get("counterpart_id")
        party = {"counterpart_id": counterpart} if counterpart else {}
        if tactic not in RELATIONSHIP_TACTICS:
            party = {}
        corrected_id = self._new_id(actor, "action")
        corrected = NewEvent(
            "MicroActionLogged",
            {
                "action_id": str(corrected_id),
                "person_id": str(self._me(actor)),
                "tactic": tactic,
                "minutes": minutes,
                "audience": audience,
                "note": note,
                **party,
            },
            logged.occurred_at,
        )
        events = [self._retraction(actor, logged), corrected]
        result = self.store.append(
            actor.tenant_id,
            f"journal-{self._me(actor)}",
            None,
            events,
            actor.context(f"correct-action:{action_id}"),
        )
        self.on_appended(frozenset(e.type for e in events))
        return Written(corrected_id, result)

    def _retractable(self, actor: Actor, action_id: uuid.UUID) -> RecordedEvent:
        """The actor's ``MicroActionLogged`` of ``action_id``, not retracted yet."""
        logged = self._find(actor, "MicroActionLogged", "action_id", action_id)
        if logged is None:
            raise NotFound(gettext("You logged no action %(id)s.", id=str(action_id)))
        if self._find(actor, "MicroActionRetracted", "action_id", action_id) is not None:
            raise Conflict(gettext("This action has been undone already."))
        return logged

    def _retraction(self, actor: Actor, logged: RecordedEvent) -> NewEvent:
        data = logged.data
        return NewEvent(
            "MicroActionRetracted",
            {
                "action_id": data["action_id"],
                "person_id": str(self._me(actor)),
                "tactic": data["tactic"],
                "minutes": data["minutes"],
                "audience": data["audience"],
            },
            logged.occurred_at,  # the action's time: projections subtract it where it was
        )

    def _retract(self, actor: Actor, logged: RecordedEvent) -> Written:
        action_id = uuid.UUID(logged.data["action_id"])
        return self._journal(
            actor, action_id, self._retraction(actor, logged), key=f"undo-action:{action_id}"
        )

    def record_outcome(
        self,
        actor: Actor,
        kind: str,
        action_id: uuid.UUID | None = None,
        note: str | None = None,
        occurred_at: datetime | None = None,
        now: datetime | None = None,
        confirmer: uuid.UUID | str | None = None,
    ) -> Written:
        """Record an outcome, optionally tied to one of the actor's actions.

        Parameters:
            actor: the employee recording.
            kind: the kind of outcome (checked by the caller's schema).
            action_id: one of the actor's actions it came from, or None.
            note: an optional private note.
            occurred_at: when it happened (default: now).
            now: the current time (default: the clock).
            confirmer: who may confirm it: a colleague's person id, or an address outside.

        Returns:
            The new outcome's id and the append result.

        Raises:
            Forbidden: the actor is not a person.
            InvalidInput: ``action_id`` is not the actor's, ``occurred_at`` is out of range,
                or the confirmer is the actor or not a colleague.
        """
        now = now or datetime.now(UTC)
        self._check_my_action(actor, action_id)
        party = self.name_party(actor, "outcome", *split_party(confirmer))
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
                    **party,
                },
                check_moment(occurred_at, now),
            ),
        )

    def set_plan(
        self,
        actor: Actor,
        week: str,
        tactics: Sequence[str],
        labels: Sequence[str] | None,
        now: datetime | None = None,
    ) -> Written:
        """Set the actor's plan for a week; a second plan for the week replaces the first.

        Parameters:
            actor: the employee planning.
            week: the ISO week (``2026-W49``).
            tactics: the planned tactics, in order.
            labels: one label per planned tactic, or None.
            now: the current time (default: the clock).

        Returns:
            The plan's id (one per person and week) and the append result.

        Raises:
            Forbidden: the actor is not a person.
            InvalidInput: ``labels`` and ``tactics`` differ in length, a tactic is planned
                twice (its message under ``actions.<n>.tactic``, n its second place), or the
                week is not an ISO week in the organisation's span (from its creation minus
                two years to the week holding tomorrow).
        """
        if labels is not None and len(labels) != len(tactics):
            raise InvalidInput(
                gettext("Labels and actions differ in number."),
                {"actions": [gettext("Give every planned action a label, or none.")]},
            )
        repeated = {
            f"actions.{n}.tactic": [gettext("Already in this plan: choose each tactic once.")]
            for n, t in enumerate(tactics)
            if tactics.index(t) < n
        }
        if repeated:
            raise InvalidInput(gettext("A tactic is planned twice: plan each once."), repeated)
        check_in_span("week", "week", week, self._span(actor, now or datetime.now(UTC)))
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

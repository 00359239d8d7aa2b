"""Experiments: an employee tries one tactic for some weeks (the seed's time box), one at a
time unless they choose to run another beside it; ending one records what they learned."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import text

from shared.commands.base import Actor
from shared.commands.journal_core import JournalCore, Written
from shared.domain.errors import Conflict, InvalidInput, NotFound
from shared.eventlog import NewEvent
from shared.i18n import gettext


class ExperimentCommands(JournalCore):
    """Start and end experiments (a base of :class:`shared.commands.JournalCommands`)."""

    def start_experiment(
        self,
        actor: Actor,
        tactic: str,
        weeks: int = 4,
        starts_on: date | None = None,
        hypothesis: str | None = None,
        now: datetime | None = None,
        only_one: bool = False,
    ) -> Written:
        """Start an experiment: try one tactic for some weeks.

        Parameters:
            actor: the employee experimenting.
            tactic: the tactic tried.
            weeks: how long the experiment runs.
            starts_on: its first day (default: today).
            hypothesis: what the employee expects, optionally.
            now: the current time (default: the clock).
            only_one: refuse while another experiment of the actor's runs (the portal's
                default, the seed's "time-box one new tactic"; the API lets a client run
                several).

        Returns:
            The new experiment's id and the append result.

        Raises:
            Forbidden: the actor is not a person.
            InvalidInput: ``starts_on`` is more than a year from today.
            Conflict: ``only_one`` and another experiment runs (not ended, its weeks not over).
        """
        now = now or datetime.now(UTC)
        start = starts_on or now.date()
        if abs((start - now.date()).days) > 365:
            raise InvalidInput(
                gettext("The start date is out of range."),
                {"starts_on": [gettext("Must be within a year of today.")]},
            )
        if only_one and self.running_experiments(actor, now.date()):
            raise Conflict(
                gettext("Another experiment is running."),
                {"alongside": [gettext('One experiment at a time: end the running one, or tick '
                                       '"Run beside the current one".')]},
            )  # fmt: skip
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

    def running_experiments(self, actor: Actor, today: date) -> list[str]:
        """The ids of the actor's experiments running on ``today``: started, not ended, and
        their weeks not over (read from the log).

        Parameters:
            actor: the employee.
            today: the day.

        Returns:
            The experiment ids, in start order.
        """
        stream = f"journal-{self._me(actor)}"
        with self.store.engine.connect() as conn:
            positions = conn.execute(
                text(
                    "SELECT position FROM events WHERE stream_id = :s AND type IN "
                    "('ExperimentStarted', 'ExperimentEnded') ORDER BY position"
                ),
                {"s": stream},
            ).scalars()
            events = self.store.read_positions(conn, list(positions))
        ended = {e.data["experiment_id"] for e in events if e.type == "ExperimentEnded"}
        return [
            e.data["experiment_id"]
            for e in events
            if e.type == "ExperimentStarted"
            and e.data["experiment_id"] not in ended
            and date.fromisoformat(e.data["starts_on"]) + timedelta(weeks=e.data["weeks"]) > today
        ]

    def end_experiment(
        self, actor: Actor, experiment_id: uuid.UUID, reflection: str | None = None
    ) -> Written:
        """End one of the actor's experiments, with an optional reflection.

        Parameters:
            actor: the employee who started it.
            experiment_id: the experiment to end.
            reflection: what the employee learned, optionally.

        Returns:
            The experiment's id and the append result.

        Raises:
            NotFound: no such experiment of the actor's. Conflict: it has ended already.
        """
        if self._find(actor, "ExperimentStarted", "experiment_id", experiment_id) is None:
            raise NotFound(gettext("You started no experiment %(id)s.", id=str(experiment_id)))
        if self._find(actor, "ExperimentEnded", "experiment_id", experiment_id) is not None:
            raise Conflict(gettext("This experiment has ended already."))
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

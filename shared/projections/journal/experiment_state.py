"""The experiments read model's state: each event's effect, once, on plain dataclasses.

:class:`ExperimentsState` folds events in memory; catch-up folds each batch into a fresh one
(shared/projections/journal/experiments.py writes it with SQL), a rebuild the whole log into
one (compared in memory with :func:`compare`, then COPYed).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from shared.eventlog import RecordedEvent
from shared.projections.journal.common import EPOCH, UtcDays

BEFORE_WEEKS = 4
"""An experiment is compared with the 4 weeks before it (the seed's time box)."""
SIGNALS = ("invitations", "useful_feedback", "assignments")
OUTCOME_SIGNALS = {
    "invitation": "invitations",
    "useful_feedback": "useful_feedback",
    "assignment": "assignments",
}
COMPARISON = tuple(f"{w}_{s}" for s in SIGNALS for w in ("before", "during"))
"""The comparison columns: ``before_<signal>``, ``during_<signal>`` for each signal."""


def signal_of(event: RecordedEvent) -> str | None:
    """Which experiment signal an event is.

    Parameters:
        event: an ``OutcomeRecorded`` or ``FeedbackGiven`` event (others are no signal).

    Returns:
        ``"invitations"``, ``"useful_feedback"``, ``"assignments"`` or None.
    """
    if event.type == "OutcomeRecorded":
        return OUTCOME_SIGNALS.get(event.data["kind"])
    if event.type == "FeedbackGiven" and event.data["useful"] is True:
        return "useful_feedback"
    return None


def direction(before: int, during: int) -> str:
    """``"up"``, ``"down"`` or ``"same"``: how a signal moved from ``before`` to ``during``."""
    return "up" if during > before else "down" if during < before else "same"


@dataclass(slots=True)
class ExperimentStart:
    """An experiment's first ``ExperimentStarted``: it runs ``[starts_on, ends_on)``."""

    tenant: str
    person: str
    tactic: str
    starts_on: date
    weeks: int
    position: int

    @property
    def ends_on(self) -> date:
        """The day after its last: ``starts_on`` plus its weeks (whether or not it ended
        early)."""
        return self.starts_on + timedelta(weeks=self.weeks)


@dataclass(slots=True)
class ExperimentEnd:
    """An experiment's first ``ExperimentEnded``."""

    tenant: str
    person: str
    ended_at: datetime
    position: int


@dataclass(slots=True)
class SignalCounts:
    """One person's signals of one UTC day."""

    invitations: int = 0
    useful_feedback: int = 0
    assignments: int = 0

    def count(self, signal: str) -> None:
        """Count one more ``signal`` (one of :data:`SIGNALS`)."""
        if signal == "invitations":
            self.invitations += 1
        elif signal == "useful_feedback":
            self.useful_feedback += 1
        else:
            self.assignments += 1

    def values(self) -> tuple[int, int, int]:
        """The counts in :data:`SIGNALS` order."""
        return (self.invitations, self.useful_feedback, self.assignments)


@dataclass(slots=True)
class ExperimentsState:
    """Experiments events folded in memory: one batch's or the whole log's.

    Attributes:
        started: experiment id -> its first start.
        ended: experiment id -> its first end.
        signals: (person, UTC day) -> that day's signals.
        tenants: person -> the tenant of their last signal.
    """

    started: dict[str, ExperimentStart] = field(default_factory=dict)
    ended: dict[str, ExperimentEnd] = field(default_factory=dict)
    signals: dict[tuple[str, date], SignalCounts] = field(default_factory=dict)
    tenants: dict[str, str] = field(default_factory=dict)
    days: UtcDays = field(default_factory=UtcDays)

    def add(self, events: Iterable[RecordedEvent]) -> None:
        """Fold ``events`` (in position order) in: each event's effect on the read model.

        Parameters:
            events: events of the types :class:`ExperimentsProjection` handles.
        """
        started, ended, signals, tenants, days = (
            self.started, self.ended, self.signals, self.tenants, self.days
        )  # fmt: skip
        for e in events:  # in position order: the first start and end of each are kept
            data = e.data
            if e.type == "ExperimentStarted":
                if data["experiment_id"] not in started:
                    started[data["experiment_id"]] = ExperimentStart(
                        e.tenant_id_text, data["person_id"], data["tactic"],
                        date.fromisoformat(data["starts_on"]), data["weeks"], e.position,
                    )  # fmt: skip
            elif e.type == "ExperimentEnded":
                if data["experiment_id"] not in ended:
                    ended[data["experiment_id"]] = ExperimentEnd(
                        e.tenant_id_text, data["person_id"], e.occurred_at, e.position
                    )
            elif (signal := signal_of(e)) is not None:
                person = data["person_id"]
                tenants[person] = e.tenant_id_text
                key = (person, days[(e.occurred_at - EPOCH).days])
                counts = signals.get(key)
                if counts is None:
                    counts = signals[key] = SignalCounts()
                counts.count(signal)

    def signal_spans(self) -> dict[str, tuple[date, date]]:
        """Per person: the first and the last day with signals in this state."""
        spans: dict[str, tuple[date, date]] = {}
        for person, day in self.signals:
            first, last = spans.get(person, (day, day))
            spans[person] = (min(first, day), max(last, day))
        return spans


def compare(start: ExperimentStart, days: Iterable[tuple[date, SignalCounts]]) -> list[int]:
    """An experiment's comparison from its person's daily signals.

    Parameters:
        start: the experiment's start.
        days: the person's (day, signals), any order and span.

    Returns:
        The :data:`COMPARISON` columns: the signals of the 4 weeks before it and during it.
    """
    starts_on, ends_on = start.starts_on, start.ends_on
    before_from = starts_on - timedelta(days=7 * BEFORE_WEEKS)
    sums = [0] * len(COMPARISON)
    for day, counts in days:
        if before_from <= day < ends_on:
            offset = 0 if day < starts_on else 1
            for i, count in enumerate(counts.values()):
                sums[2 * i + offset] += count
    return sums

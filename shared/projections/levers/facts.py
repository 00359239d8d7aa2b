"""The records a fold keeps per event (plain dataclasses, named fields): an action, an
answer to a feedback request, a meeting's last observation, a team-week's pulse sums.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from shared.domain import levers as model
from shared.projections.levers.schema import MILLI


@dataclass(slots=True)
class ActionFact:
    """A logged micro-action: whose, its week and time, stretch? visible? declined by the
    counterpart it names (a declined stretch task does not count as one)?"""

    person: str
    week: int
    occurred_at: datetime
    stretch: bool
    visible: bool
    at_text: str
    """``occurred_at`` as COPY text (the event's ``occurred_at_text``): a rebuild writes it
    as it was read, not formatted again."""
    declined: bool = False


@dataclass(slots=True)
class RewardFact:
    """A recognition or an invitation: whose, when, does it name a confirmer, confirmed?"""

    person: str
    occurred_at: datetime
    named: bool
    confirmed: bool = False

    @property
    def counts(self) -> bool:
        """Whether it rewards: self-reported (naming nobody), or confirmed by its confirmer
        (one declined or still awaiting an answer does not)."""
        return self.confirmed or not self.named


@dataclass(slots=True)
class Answer:
    """A ``FeedbackGiven``: for whom, its week, the request it answers, and that request's
    output-only flag as the log held it when the answer came (None: not seen yet)."""

    tenant: str
    person: str
    week: int
    request: str
    known: bool | None


@dataclass(slots=True)
class MeetingFact:
    """The last observation of a meeting or an out-of-office block (``away``; times as the
    event's ISO texts), cancelled since?"""

    start: str
    end: str
    declined: bool
    cancelled: bool = False
    away: bool = False

    @property
    def counted(self) -> bool:
        """Whether the meeting (or block) counts in its person's load (neither declined nor
        cancelled): a meeting in the meeting hours, a block off the working hours."""
        return not self.cancelled and not self.declined


@dataclass(slots=True)
class PulseSums:
    """The anonymous pulse answers of a team-week, summed (safety points in thousandths)."""

    responses: int = 0
    safety_n: int = 0
    safety_points: int = 0
    item_sum: list[int] = field(default_factory=lambda: [0] * len(model.ITEMS))
    item_n: list[int] = field(default_factory=lambda: [0] * len(model.ITEMS))

    def add(self, answers: Mapping[str, int]) -> None:
        """Add one response."""
        self.responses += 1
        scale = model.safety_scale(answers)
        if scale is not None:
            self.safety_n += 1
            self.safety_points += round(model.likert_to_100(scale) * MILLI)
        for i, item in enumerate(model.ITEMS):
            if item in answers:
                self.item_sum[i] += answers[item]
                self.item_n[i] += 1

    def values(self) -> tuple[int, int, int, list[int], list[int]]:
        """The sums in ``lever_pulses`` column order."""
        return (self.responses, self.safety_n, self.safety_points, self.item_sum, self.item_n)

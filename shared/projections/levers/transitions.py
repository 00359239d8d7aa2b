"""What each event does to the levers read model, written once: per-event transitions that
fold events into :class:`LeverFacts` (plain dataclasses, no SQL).

Both paths run them: catch-up (:func:`.incremental.apply_batch`) folds one batch and writes
what it found against the stored tables; a rebuild (:class:`.rebuild.LeversFold`) folds the
whole log and resolves it in memory. Where a rule needs what an earlier batch stored (the
request an answer replies to), the fact keeps what the log held when the event came and one
function (:func:`answer_output_only`) decides with what is stored, which a rebuild has none of.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from shared.domain import levers as model
from shared.domain.weeks import week_start
from shared.eventlog import RecordedEvent
from shared.projections.capital import week_index
from shared.projections.levers.calendar import HoursSetting
from shared.projections.levers.membership import MembershipChange
from shared.projections.levers.schema import MEMBERSHIP_EVENTS, MILLI

REWARD_WINDOW = timedelta(days=model.INCENTIVE_WINDOW_DAYS)


@dataclass(slots=True)
class ActionFact:
    """A logged micro-action: whose, its week and time, stretch? visible?"""

    person: str
    week: int
    occurred_at: datetime
    stretch: bool
    visible: bool


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
    """The last observation of a meeting (times as the event's ISO texts), cancelled since?"""

    start: str
    end: str
    declined: bool
    cancelled: bool = False

    @property
    def counted(self) -> bool:
        """Whether the meeting counts in its person's load (neither declined nor cancelled)."""
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


class LeverFacts:
    """Events folded by their transitions (:meth:`add`): one batch's, or the whole log's.

    Attributes (keys are id texts; weeks are week indexes):
        membership: the membership events, in log order.
        actions: action id -> its first ``MicroActionLogged`` (a repeated id counts once).
        action_weeks: (person, week) -> the tenant of the first action in it.
        retracted: ids of retracted actions.
        rewards: outcome id -> (person, time) of its first reward outcome.
        reward_since: person -> the earliest time an action of theirs may have been
            rewarded by this fold's actions and rewards.
        requests: request id -> output-only (no micro-action named), first request wins.
        asked: (tenant, person, week) -> requests.
        answers: the answers, in log order.
        meetings: (person, meeting key) -> its last observation; None: a cancellation of a
            meeting observed before this fold.
        pulses: (tenant, team, week) -> sums.
        hours: (person, week) -> the last working-hours setting of that week.
        rezoned: person -> the first week whose meetings move (None: all of them).
        first_seen: person -> the week of their first activity (for the backfill).
    """

    def __init__(self) -> None:
        self.membership: list[MembershipChange] = []
        self.actions: dict[str, ActionFact] = {}
        self.action_weeks: dict[tuple[str, int], str] = {}
        self.retracted: set[str] = set()
        self.rewards: dict[str, tuple[str, datetime]] = {}
        self.reward_since: dict[str, datetime] = {}
        self.requests: dict[str, bool] = {}
        self.asked: dict[tuple[str, str, int], int] = defaultdict(int)
        self.answers: list[Answer] = []
        self.meetings: dict[tuple[str, str], MeetingFact | None] = {}
        self.pulses: dict[tuple[str, str, int], PulseSums] = {}
        self.hours: dict[tuple[str, int], HoursSetting] = {}
        self.rezoned: dict[str, int | None] = {}
        self.first_seen: dict[str, int] = {}
        self._weeks: dict[date, int] = {}  # the week of each day seen
        self._start_weeks: dict[str, int] = {}  # a meeting start's UTC-date week, minus one

    def add(self, events: Sequence[RecordedEvent]) -> None:
        """Fold ``events`` (in log order, after every event already folded).

        Parameters:
            events: recorded events; types without a transition are passed over.
        """
        weeks, transitions = self._weeks, TRANSITIONS
        for e in events:
            step = transitions.get(e.type)
            if step is None:
                continue
            day = e.occurred_at.date()
            week = weeks.get(day)
            if week is None:
                week = weeks[day] = week_index(day)
            step(self, e, week)

    def seen(self, person: str, week: int) -> None:
        """Note activity of ``person`` in ``week``."""
        first = self.first_seen.get(person)
        if first is None or week < first:
            self.first_seen[person] = week

    def meeting_start_week(self, start: str) -> int:
        """The earliest week a meeting starting at ``start`` (ISO text) can fall in: its local
        week may start a day before its UTC date's."""
        found = self._start_weeks.get(start)
        if found is None:
            found = self._start_weeks[start] = week_index(date.fromisoformat(start[:10])) - 1
        return found


def answer_output_only(answer: Answer, stored: Mapping[str, bool]) -> bool:
    """Whether an answer is output-only: judged by its request as the log held it when the
    answer came. A request stored before the fold came before everything in it; an answer
    whose request is unknown (an import ahead of its request) is not output-only.

    Parameters:
        answer: the answer.
        stored: request id -> output-only, of requests stored before the fold (a rebuild: none).
    """
    if answer.request in stored:
        return stored[answer.request]
    return bool(answer.known)


def rewarded(at: datetime, reward_times: Sequence[datetime]) -> bool:
    """Whether a visible action at ``at`` was rewarded: a reward 0 to 14 days after it
    (``reward_times`` sorted). The incremental adapter asks the same in SQL."""
    i = bisect_left(reward_times, at)
    return i < len(reward_times) and reward_times[i] <= at + REWARD_WINDOW


# -- the transitions: one function per event type ------------------------------------------


def action_logged(facts: LeverFacts, e: RecordedEvent, week: int) -> None:
    """``MicroActionLogged``: an action of the week (the first of its id counts)."""
    data = e.data
    person, action = data["person_id"], data["action_id"]
    if (person, week) not in facts.action_weeks:
        facts.action_weeks[(person, week)] = e.tenant_id_text
    if action not in facts.actions:
        facts.actions[action] = ActionFact(
            person,
            week,
            e.occurred_at,
            data["tactic"] in model.STRETCH_TACTICS,
            data["audience"] != "private",
        )
    facts.seen(person, week)
    since = facts.reward_since.get(person)
    if since is None or e.occurred_at < since:
        facts.reward_since[person] = e.occurred_at


def action_retracted(facts: LeverFacts, e: RecordedEvent, week: int) -> None:
    """``MicroActionRetracted``: the action counts no more."""
    facts.retracted.add(e.data["action_id"])


def outcome_recorded(facts: LeverFacts, e: RecordedEvent, week: int) -> None:
    """``OutcomeRecorded``: a recognition or an invitation rewards the person's visible
    actions of the 14 days before it."""
    data = e.data
    if data["kind"] not in model.REWARD_KINDS:
        return
    person = data["person_id"]
    if data["outcome_id"] not in facts.rewards:
        facts.rewards[data["outcome_id"]] = (person, e.occurred_at)
    since = e.occurred_at - REWARD_WINDOW
    first = facts.reward_since.get(person)
    if first is None or since < first:
        facts.reward_since[person] = since


def feedback_requested(facts: LeverFacts, e: RecordedEvent, week: int) -> None:
    """``FeedbackRequested``: feedback on a logged micro-action speaks to behaviour; without
    one it can only judge an output (the output-only share of ambiguous evaluation). The
    first request of an id counts."""
    data = e.data
    facts.requests.setdefault(data["request_id"], data.get("action_id") is None)
    facts.asked[(e.tenant_id_text, data["person_id"], week)] += 1
    facts.seen(data["person_id"], week)


def feedback_given(facts: LeverFacts, e: RecordedEvent, week: int) -> None:
    """``FeedbackGiven``: an answer, judged by its request as known when it came."""
    data = e.data
    request = data["request_id"]
    facts.answers.append(
        Answer(e.tenant_id_text, data["person_id"], week, request, facts.requests.get(request))
    )
    facts.seen(data["person_id"], week)


def meeting_observed(facts: LeverFacts, e: RecordedEvent, week: int) -> None:
    """``MeetingObserved``: the meeting as last seen (every observation, a moved meeting's
    earlier ones too, counts for the backfill)."""
    data = e.data
    person, start = data["person_id"], data["start"]
    facts.seen(person, facts.meeting_start_week(start))
    facts.meetings[(person, data["meeting_key"])] = MeetingFact(
        start, data["end"], data["response_status"] == "declined"
    )


def meeting_cancelled(facts: LeverFacts, e: RecordedEvent, week: int) -> None:
    """``MeetingCancelled``: the meeting counts no more (until observed again)."""
    key = (e.data["person_id"], e.data["meeting_key"])
    found = facts.meetings.get(key)
    if found is not None:
        found.cancelled = True
    else:
        facts.meetings[key] = None


def pulse_submitted(facts: LeverFacts, e: RecordedEvent, week: int) -> None:
    """``PulseResponseSubmitted``: summed into its team and the week it answers for."""
    data = e.data
    key = (e.tenant_id_text, data["team_id"], week_index(week_start(data["week"])))
    sums = facts.pulses.get(key)
    if sums is None:
        sums = facts.pulses[key] = PulseSums()
    sums.add(data["answers"])


def working_hours_set(facts: LeverFacts, e: RecordedEvent, week: int) -> None:
    """``WorkingHoursSet``: holds from its week on (the later of one week wins); the person's
    meetings from that week on are placed again."""
    setting = HoursSetting.of(e, week)
    if setting is None:
        return
    facts.hours[(setting.person, week)] = setting
    moved_from = facts.rezoned.get(setting.person, week)
    facts.rezoned[setting.person] = None if moved_from is None else min(moved_from, week)


def membership_changed(facts: LeverFacts, e: RecordedEvent, week: int) -> None:
    """A membership event (one without a person, written around the store's validation, says
    nothing about a team and is passed over). ``PersonJoined`` sets the zone of the weeks
    before any working-hours setting: every meeting of the person is placed again."""
    data = e.data
    if "person_id" not in data:
        return
    kind, person = e.type, data["person_id"]
    if kind == "PersonJoined":
        facts.rezoned[person] = None
    team = data.get("to_team_id") if kind == "PersonMovedTeam" else data.get("team_id")
    facts.membership.append(
        MembershipChange(kind, e.tenant_id_text, person, week, team, data.get("time_zone"))
    )


Transition = Callable[[LeverFacts, RecordedEvent, int], None]
"""A per-event transition: the facts, the event, the week index of its ``occurred_at``."""

TRANSITIONS: dict[str, Transition] = {
    "MicroActionLogged": action_logged,
    "MicroActionRetracted": action_retracted,
    "OutcomeRecorded": outcome_recorded,
    "FeedbackRequested": feedback_requested,
    "FeedbackGiven": feedback_given,
    "MeetingObserved": meeting_observed,
    "MeetingCancelled": meeting_cancelled,
    "PulseResponseSubmitted": pulse_submitted,
    "WorkingHoursSet": working_hours_set,
    **{kind: membership_changed for kind in MEMBERSHIP_EVENTS},
}

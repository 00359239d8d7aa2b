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
from datetime import date, datetime, timedelta

from shared.domain import levers as model
from shared.domain.weeks import label_index, week_index
from shared.eventlog import RecordedEvent
from shared.projections.levers.calendar import HoursSetting
from shared.projections.levers.facts import ActionFact, Answer, MeetingFact, PulseSums, RewardFact
from shared.projections.levers.membership import MembershipChange
from shared.projections.levers.schema import MEMBERSHIP_EVENTS

REWARD_WINDOW = timedelta(days=model.INCENTIVE_WINDOW_DAYS)


class LeverFacts:
    """Events folded by their transitions (:meth:`add`): one batch's, or the whole log's.

    Attributes (keys are id texts; weeks are week indexes):
        membership: the membership events, in log order.
        actions: action id -> its first ``MicroActionLogged`` (a repeated id counts once).
        action_weeks: (person, week) -> the tenant of the first action in it.
        retracted: (person, action id) of each retraction: a person retracts only their
            own actions (ids are client-chosen in imports, so another person may use one).
        rewards: outcome id -> its first reward outcome.
        outcome_answers: (person, outcome id) -> the last confirmer's answer (confirmed?) in this
            fold: applied to the fold's reward when recorded before it, and to the one
            stored (catch-up: a reward of an earlier batch, or an id repeated).
        action_answers: (person, action id) -> the counterpart's last answer, likewise.
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

    __slots__ = (
        "_weeks",
        "action_answers",
        "action_weeks",
        "actions",
        "answers",
        "asked",
        "first_seen",
        "hours",
        "meetings",
        "membership",
        "outcome_answers",
        "pulse_weeks",
        "pulses",
        "requests",
        "retracted",
        "reward_since",
        "rewards",
        "rezoned",
        "start_weeks",
    )

    def __init__(self) -> None:
        self.membership: list[MembershipChange] = []
        self.actions: dict[str, ActionFact] = {}
        self.action_weeks: dict[tuple[str, int], str] = {}
        self.retracted: set[tuple[str, str]] = set()
        self.rewards: dict[str, RewardFact] = {}
        self.outcome_answers: dict[tuple[str, str], bool] = {}
        self.action_answers: dict[tuple[str, str], bool] = {}
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
        self.start_weeks: dict[str, int] = {}  # meeting start -> ``meeting_start_week``
        self.pulse_weeks: dict[str, int] = {}  # ISO week label -> its index

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
        """Note activity of ``person`` in ``week``.

        Parameters:
            person: the person.
            week: the week index of the activity.
        """
        first = self.first_seen.get(person)
        if first is None or week < first:
            self.first_seen[person] = week

    def meeting_start_week(self, start: str) -> int:
        """The earliest week a meeting can fall in: its local week may start a day before
        the week of its date.

        Parameters:
            start: the meeting's start, ISO text.

        Returns:
            The week index.
        """
        found = self.start_weeks.get(start)
        if found is None:
            found = self.start_weeks[start] = week_index(date.fromisoformat(start[:10])) - 1
        return found


def answer_output_only(answer: Answer, stored: Mapping[str, bool]) -> bool:
    """Whether an answer is output-only: judged by its request as the log held it when the
    answer came. A request stored before the fold came before everything in it; an answer
    whose request is unknown (an import ahead of its request) is not output-only.

    Parameters:
        answer: the answer.
        stored: request id -> output-only, of requests stored before the fold (a rebuild: none).

    Returns:
        Whether the answer counts as output-only.
    """
    if answer.request in stored:
        return stored[answer.request]
    return bool(answer.known)


def rewarded(at: datetime, reward_times: Sequence[datetime]) -> bool:
    """Whether a visible action at ``at`` was rewarded: a reward 0 to 14 days after it, by
    event time (whatever the order the log holds them in). Both paths run it on the actions
    they fold; catch-up asks the same rule in SQL only to mark actions stored in earlier
    batches when a reward comes (``incremental_actions.apply_actions``).

    Parameters:
        at: the action's time.
        reward_times: the times of the person's rewards, sorted.

    Returns:
        True if one falls 0 to 14 days after ``at``.
    """
    i = bisect_left(reward_times, at)
    return i < len(reward_times) and reward_times[i] <= at + REWARD_WINDOW


# -- the transitions: one function per event type ------------------------------------------


def action_logged(facts: LeverFacts, e: RecordedEvent, week: int) -> None:
    """``MicroActionLogged``: an action of the week (the first of its id counts).

    Parameters:
        facts: the fold.
        e: the event.
        week: the week index of its ``occurred_at``.
    """
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
            e.occurred_at_text,
        )
    first = facts.first_seen.get(person)  # ``seen``, inlined: the hottest of transitions
    if first is None or week < first:
        facts.first_seen[person] = week
    since = facts.reward_since.get(person)
    if since is None or e.occurred_at < since:
        facts.reward_since[person] = e.occurred_at


def action_retracted(facts: LeverFacts, e: RecordedEvent, week: int) -> None:
    """``MicroActionRetracted``: the action counts no more.

    Parameters:
        facts: the fold.
        e: the event.
        week: the week index of its ``occurred_at``.
    """
    facts.retracted.add((e.data["person_id"], e.data["action_id"]))


def outcome_recorded(facts: LeverFacts, e: RecordedEvent, week: int) -> None:
    """``OutcomeRecorded``: a recognition or an invitation rewards the person's visible
    actions of the 14 days before it.

    Parameters:
        facts: the fold.
        e: the event.
        week: the week index of its ``occurred_at``.
    """
    data = e.data
    if data["kind"] not in model.REWARD_KINDS:
        return
    person = data["person_id"]
    if data["outcome_id"] not in facts.rewards:
        named = bool(data.get("confirmer_id") or data.get("confirmer_email"))
        facts.rewards[data["outcome_id"]] = RewardFact(person, e.occurred_at, named)
    since = e.occurred_at - REWARD_WINDOW
    first = facts.reward_since.get(person)
    if first is None or since < first:
        facts.reward_since[person] = since


def outcome_confirmed(facts: LeverFacts, e: RecordedEvent, week: int) -> None:
    """``OutcomeConfirmed``: the confirmer's answer (the last holds); a reward naming a
    confirmer counts once confirmed. Its actions are judged again (catch-up: from the stored
    reward's time, :func:`.incremental_actions.apply_actions`).

    Parameters:
        facts: the fold.
        e: the event.
        week: the week index of its ``occurred_at``.
    """
    data = e.data
    person, outcome, confirmed = data["person_id"], data["outcome_id"], data["confirmed"]
    facts.outcome_answers[(person, outcome)] = confirmed
    reward = facts.rewards.get(outcome)
    if reward is not None and reward.person == person:
        reward.confirmed = confirmed


def action_confirmed(facts: LeverFacts, e: RecordedEvent, week: int) -> None:
    """``ActionConfirmed``: the counterpart's answer (the last holds); a declined stretch
    task does not count as one.

    Parameters:
        facts: the fold.
        e: the event.
        week: the week index of its ``occurred_at``.
    """
    data = e.data
    person, action, confirmed = data["person_id"], data["action_id"], data["confirmed"]
    facts.action_answers[(person, action)] = confirmed
    found = facts.actions.get(action)
    if found is not None and found.person == person:
        found.declined = not confirmed


def feedback_requested(facts: LeverFacts, e: RecordedEvent, week: int) -> None:
    """``FeedbackRequested``: feedback on a logged micro-action speaks to behaviour; without
    one it can only judge an output (the output-only share of ambiguous evaluation). The
    first request of an id counts.

    Parameters:
        facts: the fold.
        e: the event.
        week: the week index of its ``occurred_at``.
    """
    data = e.data
    facts.requests.setdefault(data["request_id"], data.get("action_id") is None)
    facts.asked[(e.tenant_id_text, data["person_id"], week)] += 1
    facts.seen(data["person_id"], week)


def feedback_given(facts: LeverFacts, e: RecordedEvent, week: int) -> None:
    """``FeedbackGiven``: an answer, judged by its request as known when it came.

    Parameters:
        facts: the fold.
        e: the event.
        week: the week index of its ``occurred_at``.
    """
    data = e.data
    request = data["request_id"]
    facts.answers.append(
        Answer(e.tenant_id_text, data["person_id"], week, request, facts.requests.get(request))
    )
    facts.seen(data["person_id"], week)


def meeting_observed(facts: LeverFacts, e: RecordedEvent, week: int) -> None:
    """``MeetingObserved``: the meeting as last seen (every observation, a moved meeting's
    earlier ones too, counts for the backfill).

    Parameters:
        facts: the fold.
        e: the event.
        week: the week index of its ``occurred_at``.
    """
    data = e.data
    person, start = data["person_id"], data["start"]
    # ``seen`` and ``meeting_start_week``, inlined: calendars are most of the log
    earliest = facts.start_weeks.get(start)
    if earliest is None:
        earliest = facts.meeting_start_week(start)
    first = facts.first_seen.get(person)
    if first is None or earliest < first:
        facts.first_seen[person] = earliest
    facts.meetings[(person, data["meeting_key"])] = MeetingFact(
        start, data["end"], data["response_status"] == "declined"
    )


def out_of_office_observed(facts: LeverFacts, e: RecordedEvent, week: int) -> None:
    """``OutOfOfficeObserved``: the block as last seen, kept with the meetings (a meeting the
    person turns into an out-of-office block is one no more).

    Parameters:
        facts: the fold.
        e: the event.
        week: the week index of its ``occurred_at``.
    """
    data = e.data
    person, start = data["person_id"], data["start"]
    facts.seen(person, facts.meeting_start_week(start))
    facts.meetings[(person, data["meeting_key"])] = MeetingFact(
        start, data["end"], False, away=True
    )


def meeting_cancelled(facts: LeverFacts, e: RecordedEvent, week: int) -> None:
    """``MeetingCancelled``: the meeting counts no more (until observed again).

    Parameters:
        facts: the fold.
        e: the event.
        week: the week index of its ``occurred_at``.
    """
    key = (e.data["person_id"], e.data["meeting_key"])
    found = facts.meetings.get(key)
    if found is not None:
        found.cancelled = True
    else:
        facts.meetings[key] = None


def pulse_submitted(facts: LeverFacts, e: RecordedEvent, week: int) -> None:
    """``PulseResponseSubmitted``: summed into its team and the week it answers for.

    Parameters:
        facts: the fold.
        e: the event.
        week: the week index of its ``occurred_at``.
    """
    data = e.data
    answered_week = facts.pulse_weeks.get(data["week"])
    if answered_week is None:
        answered_week = facts.pulse_weeks[data["week"]] = label_index(data["week"])
    key = (e.tenant_id_text, data["team_id"], answered_week)
    sums = facts.pulses.get(key)
    if sums is None:
        sums = facts.pulses[key] = PulseSums()
    sums.add(data["answers"])


def working_hours_set(facts: LeverFacts, e: RecordedEvent, week: int) -> None:
    """``WorkingHoursSet``: holds from its week on (the later of one week wins); the person's
    meetings from that week on are placed again.

    Parameters:
        facts: the fold.
        e: the event.
        week: the week index of its ``occurred_at``.
    """
    setting = HoursSetting.of(e, week)
    if setting is None:
        return
    facts.hours[(setting.person, week)] = setting
    moved_from = facts.rezoned.get(setting.person, week)
    facts.rezoned[setting.person] = None if moved_from is None else min(moved_from, week)


def membership_changed(facts: LeverFacts, e: RecordedEvent, week: int) -> None:
    """A membership event (one without a person, written around the store's validation, says
    nothing about a team and is passed over). ``PersonJoined`` sets the zone of the weeks
    before any working-hours setting: every meeting of the person is placed again.

    Parameters:
        facts: the fold.
        e: the event.
        week: the week index of its ``occurred_at``.
    """
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
    "OutcomeConfirmed": outcome_confirmed,
    "ActionConfirmed": action_confirmed,
    "FeedbackRequested": feedback_requested,
    "FeedbackGiven": feedback_given,
    "MeetingObserved": meeting_observed,
    "OutOfOfficeObserved": out_of_office_observed,
    "MeetingCancelled": meeting_cancelled,
    "PulseResponseSubmitted": pulse_submitted,
    "WorkingHoursSet": working_hours_set,
    **{kind: membership_changed for kind in MEMBERSHIP_EVENTS},
}

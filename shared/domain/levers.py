"""Team levers per ISO week, model version 1: pure functions (docs/levers.md).

The seed article's four levers that raise or lower micro-advancement in a team, plus
participation. Each is 0-100 with its n (distinct people behind it):

* psychological safety: Edmondson's 7-item scale (items 1, 3, 5 reverse-scored), plus the
  behavioural signals of small stretch moves and feedback asked;
* time pressure: meeting load and fragmentation from calendars, plus the workload item
  (higher means more pressure);
* clear incentives: visible micro-actions followed within 14 days by recognition or an
  invitation, plus the incentives item;
* ambiguous evaluation: the evaluation-clarity item reversed (higher means more ambiguous);
* participation: the share of members with at least one action in the week.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise

from shared.i18n import N_

SAFETY_ITEMS = (
    "ps1_mistakes_held_against",
    "ps2_raise_problems",
    "ps3_reject_different",
    "ps4_safe_to_take_risk",
    "ps5_hard_to_ask_help",
    "ps6_no_undermining",
    "ps7_skills_valued",
)
REVERSED = frozenset({"ps1_mistakes_held_against", "ps3_reject_different", "ps5_hard_to_ask_help"})
SURVEY_WEIGHT = 0.7  # of psychological safety; the rest from behaviour
INCENTIVE_WINDOW_DAYS = 14


def likert_to_100(value: float) -> float:
    """1..7 -> 0..100."""
    return (value - 1.0) / 6.0 * 100.0


def safety_scale(answers: Mapping[str, int]) -> float | None:
    """One response's psychological-safety mean (1..7), reverse-scored items reversed."""
    values = [8 - answers[i] if i in REVERSED else answers[i] for i in SAFETY_ITEMS if i in answers]
    return sum(values) / len(values) if values else None


@dataclass(frozen=True)
class Lever:
    value: float | None
    n: int


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def psychological_safety(
    responses: Iterable[Mapping[str, int]], members: int, stretchers: int, askers: int
) -> Lever:
    """Survey scale (0-100) blended with the share of members who tried a small stretch task
    or asked for feedback that week. n: survey respondents."""
    scales = [s for s in (safety_scale(r) for r in responses) if s is not None]
    survey = _mean([likert_to_100(s) for s in scales])
    if survey is None:
        return Lever(None, 0)
    behaviour = 100.0 * min(1.0, (stretchers + askers) / (2 * members)) if members else 0.0
    return Lever(round(SURVEY_WEIGHT * survey + (1 - SURVEY_WEIGHT) * behaviour, 1), len(scales))


def item_lever(responses: Iterable[Mapping[str, int]], item: str, reverse: bool) -> Lever:
    values = [r[item] for r in responses if item in r]
    mean = _mean([likert_to_100(8 - v if reverse else v) for v in values])
    return Lever(None if mean is None else round(mean, 1), len(values))


@dataclass(frozen=True)
class MeetingLoad:
    """One person's week from their calendar (timing and counts only)."""

    working_hours: float
    meeting_hours: float
    focus_hours: float  # uninterrupted blocks of >= 2 h within working hours
    after_hours_meeting_hours: float
    back_to_back: int


def time_pressure(loads: Sequence[MeetingLoad], responses: Iterable[Mapping[str, int]]) -> Lever:
    """Calendar pressure (meeting share, lost focus, after-hours, back-to-back) blended with
    the workload item reversed. n: people with a calendar or a workload answer."""
    parts: list[float] = []
    for load in loads:
        if load.working_hours <= 0:
            continue
        share = min(1.0, load.meeting_hours / load.working_hours)
        no_focus = 1.0 - min(1.0, load.focus_hours / (load.working_hours / 2))
        after = min(1.0, load.after_hours_meeting_hours / 5.0)
        chains = min(1.0, load.back_to_back / 10.0)
        parts.append(100.0 * (0.4 * share + 0.3 * no_focus + 0.15 * after + 0.15 * chains))
    workload = [likert_to_100(8 - r["workload"]) for r in responses if "workload" in r]
    calendar, survey = _mean(parts), _mean(workload)
    value = _blend(calendar, survey, 0.6)
    return Lever(value, max(len(parts), len(workload)) if value is not None else 0)


def clear_incentives(
    visible_actions: int,
    rewarded_actions: int,
    people: int,
    responses: Iterable[Mapping[str, int]],
) -> Lever:
    """Share of visible micro-actions followed within 14 days by recognition or an
    invitation, blended with the incentives item. n: people behind the actions or answers."""
    behaviour = 100.0 * rewarded_actions / visible_actions if visible_actions else None
    item = item_lever(responses, "incentives", reverse=False)
    value = _blend(behaviour, item.value, 0.5)
    n = max(people if behaviour is not None else 0, item.n)
    return Lever(value, n if value is not None else 0)


def _blend(a: float | None, b: float | None, weight_a: float) -> float | None:
    """``weight_a``·a + (1 - weight_a)·b, or whichever of the two exists, rounded."""
    if a is None and b is None:
        return None
    if a is None:
        return round(b, 1) if b is not None else None
    if b is None:
        return round(a, 1)
    return round(weight_a * a + (1 - weight_a) * b, 1)


def participation(members: int, active: int) -> Lever:
    if members == 0:
        return Lever(None, 0)
    return Lever(round(100.0 * active / members, 1), members)


# -- model version 1 over weekly sums (what the lever read model stores) ---------------------

MODEL_VERSION = 1
PULSE_QUESTIONS = {
    "ps1_mistakes_held_against": N_(
        "If you make a mistake on this team, it is often held against you."
    ),
    "ps2_raise_problems": N_(
        "Members of this team are able to bring up problems and tough issues."
    ),
    "ps3_reject_different": N_("People on this team sometimes reject others for being different."),
    "ps4_safe_to_take_risk": N_("It is safe to take a risk on this team."),
    "ps5_hard_to_ask_help": N_("It is difficult to ask other members of this team for help."),
    "ps6_no_undermining": N_(
        "No one on this team would deliberately act in a way that undermines my efforts."
    ),
    "ps7_skills_valued": N_(
        "Working with members of this team, my unique skills and talents are valued and used."
    ),
    "workload": N_("My workload this week left me time for small, deliberate investments."),
    "evaluation_clarity": N_("I understand how my work is evaluated."),
    "incentives": N_("Small, visible contributions are noticed here (praise, invitations)."),
}
"""The pulse statements, in English (marked for the catalogue: translate where shown): what
the pulse page asks and what the dashboards show beside each item's result, word for word.
Edmondson's team psychological safety scale (items 1, 3 and 5 are reverse-scored), then the
three items of the other levers, each agreed with on a 1..7 scale (docs/portal.md)."""
ITEMS = tuple(PULSE_QUESTIONS)  # the order of the stored item arrays
ITEM_INDEX = {item: i for i, item in enumerate(ITEMS)}
STRETCH_TACTICS = frozenset({"small_exposure", "prototype_first"})
REWARD_KINDS = frozenset({"recognition", "invitation"})
FOCUS_BLOCK_HOURS = 2.0
BACK_TO_BACK_GAP_MINUTES = 5
LEVER_NAMES = (
    "psychological_safety",
    "time_pressure",
    "clear_incentives",
    "ambiguous_evaluation",
    "participation",
    "micro_advancement_rate",
)


def item_score(item: str, answer: float) -> float:
    """A 1-7 answer on the 0-100 scale, reverse-scored items reversed (higher = safer)."""
    return likert_to_100(8 - answer if item in REVERSED else answer)


@dataclass(frozen=True)
class WorkingHours:
    """A person's working window in their own time zone (default 09:00-17:00, Mon-Fri)."""

    start_hour: float = 9.0
    end_hour: float = 17.0
    weekdays: frozenset[int] = frozenset({0, 1, 2, 3, 4})

    @property
    def hours_per_day(self) -> float:
        return self.end_hour - self.start_hour


DEFAULT_WORKING_HOURS = WorkingHours()


def _union(spans: Iterable[tuple[float, float]]) -> list[tuple[float, float]]:
    """Sorted, disjoint spans covering the same hours (empty spans dropped)."""
    merged: list[tuple[float, float]] = []  # sorted, disjoint, ends increasing
    for start, end in sorted((s, e) for s, e in spans if e > s):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def _minus(
    spans: Iterable[tuple[float, float]], gone: Sequence[tuple[float, float]]
) -> list[tuple[float, float]]:
    """The parts of each span outside ``gone`` (sorted, disjoint spans), in span order."""
    out: list[tuple[float, float]] = []
    for lo, hi in spans:
        for start, end in gone:
            if end <= lo or start >= hi:
                continue
            if start > lo:
                out.append((lo, start))
            lo = max(lo, end)
            if lo >= hi:
                break
        if lo < hi:
            out.append((lo, hi))
    return out


def meeting_load(
    meetings: Sequence[tuple[float, float]],
    hours: WorkingHours = DEFAULT_WORKING_HOURS,
    away: Sequence[tuple[float, float]] = (),
) -> MeetingLoad:
    """One person's week from their meetings, given as (start, end) in hours since the
    person's local Monday 00:00 (so time zones are applied by the caller).

    * working hours: the working window times the working days, less the time out of
      office (``away``: spans as the meetings', of any extent);
    * meeting hours: the union of meetings inside the working hours (overlaps count once);
    * focus hours: free stretches of at least 2 h inside the working hours;
    * after-hours meeting hours: the union of meetings outside them;
    * back-to-back: meetings starting at most 5 minutes after the previous one ended.

    Time out of office is neither working time nor meeting time: the parts of meetings in
    it count nowhere (invitations a person away left accepted are not meetings they held).
    """
    ordered = sorted((s, e) for s, e in meetings if e > s)
    windows: Iterable[tuple[float, float]] = _plain_windows(hours)
    if away:
        gone = _union(away)
        ordered, windows = sorted(_minus(ordered, gone)), _minus(windows, gone)
    merged = _union(ordered)
    working = inside = focus = 0.0
    first = 0  # the first merged meeting not over before the window (windows ascend)
    count = len(merged)
    for lo, hi in windows:
        working += hi - lo
        cursor = lo
        while first < count and merged[first][1] <= lo:
            first += 1
        i = first
        while i < count and merged[i][0] < hi:
            start, end = merged[i]
            i += 1
            s, e = max(start, lo), min(end, hi)
            if e <= s:
                continue
            inside += e - s
            if s - cursor >= FOCUS_BLOCK_HOURS:
                focus += s - cursor
            cursor = max(cursor, e)
        if hi - cursor >= FOCUS_BLOCK_HOURS:
            focus += hi - cursor
    total = sum(e - s for s, e in merged)
    chains = sum(
        1
        for (_, prev_end), (start, _) in pairwise(ordered)
        if 0 <= start - prev_end <= BACK_TO_BACK_GAP_MINUTES / 60
    )
    return MeetingLoad(working, inside, focus, max(0.0, total - inside), chains)


def _plain_windows(hours: WorkingHours) -> Iterator[tuple[float, float]]:
    """Each working day's window (no one away: the common case, without the subtraction)."""
    for day in range(7):
        if day in hours.weekdays:
            yield day * 24 + hours.start_hour, day * 24 + hours.end_hour


def calendar_pressure(load: MeetingLoad) -> float | None:
    """One person's calendar pressure, 0-100 (the calendar half of time pressure)."""
    if load.working_hours <= 0:
        return None
    share = min(1.0, load.meeting_hours / load.working_hours)
    no_focus = 1.0 - min(1.0, load.focus_hours / (load.working_hours / 2))
    after = min(1.0, load.after_hours_meeting_hours / 5.0)
    chains = min(1.0, load.back_to_back / 10.0)
    return 100.0 * (0.4 * share + 0.3 * no_focus + 0.15 * after + 0.15 * chains)


@dataclass
class WeekSums:
    """Additive weekly sums of one population (a team's members, or any union of teams):
    adding the sums of disjoint populations gives the sums of their union."""

    members: int = 0
    active: int = 0  # members with at least one action
    actions: int = 0
    stretchers: int = 0  # members who tried a stretch task (small exposure, prototype)
    askers: int = 0  # members who asked for feedback
    visible_people: int = 0
    visible_actions: int = 0
    rewarded_actions: int = 0  # visible actions followed within 14 days by a reward
    confirmed_rewarded_actions: int = 0  # of those, rewarded by a confirmed reward
    feedback_people: int = 0
    feedback: int = 0
    output_only: int = 0
    calendar_people: int = 0
    pressure: float = 0.0  # sum of per-person calendar pressure
    meeting_hours: float = 0.0
    working_hours: float = 0.0
    focus_hours: float = 0.0
    after_hours: float = 0.0
    back_to_back: int = 0
    responses: int = 0
    safety_n: int = 0  # responses with at least one safety item
    safety_points: float = 0.0  # sum over responses of their safety scale (0-100)
    item_sum: list[int] | None = None  # raw 1-7 answers summed, in ITEMS order
    item_n: list[int] | None = None

    def __add__(self, other: WeekSums) -> WeekSums:
        result = WeekSums()
        for name in self.__dataclass_fields__:
            a, b = getattr(self, name), getattr(other, name)
            if name in ("item_sum", "item_n"):
                a, b = a or [0] * len(ITEMS), b or [0] * len(ITEMS)
                setattr(result, name, [x + y for x, y in zip(a, b, strict=True)])
            else:
                setattr(result, name, a + b)
        return result

    def item(self, name: str) -> tuple[float | None, int]:
        """Mean 0-100 of one item (reverse-scored items reversed) and its n."""
        if self.item_n is None or self.item_sum is None:
            return None, 0
        i = ITEM_INDEX[name]
        n = self.item_n[i]
        if not n:
            return None, 0
        return round(item_score(name, self.item_sum[i] / n), 1), n


def levers_of(s: WeekSums) -> dict[str, Lever]:
    """The six levers of a population's week (docs/levers.md has every formula)."""
    survey = s.safety_points / s.safety_n if s.safety_n else None
    behaviour = 100.0 * min(1.0, (s.stretchers + s.askers) / (2 * s.members)) if s.members else 0.0
    safety = (
        Lever(None, 0)
        if survey is None
        else Lever(round(SURVEY_WEIGHT * survey + (1 - SURVEY_WEIGHT) * behaviour, 1), s.safety_n)
    )
    workload, workload_n = s.item("workload")
    calendar = s.pressure / s.calendar_people if s.calendar_people else None
    # The workload item asks whether the week left time for small investments: disagreeing
    # is pressure.
    pressure_item = None if workload is None else 100.0 - workload
    pressure = _blend(calendar, pressure_item, 0.6)
    incentives, incentives_n = s.item("incentives")
    rewarded = 100.0 * s.rewarded_actions / s.visible_actions if s.visible_actions else None
    clarity, clarity_n = s.item("evaluation_clarity")
    output_only = 100.0 * s.output_only / s.feedback if s.feedback else None
    ambiguity = _blend(None if clarity is None else 100.0 - clarity, output_only, 0.5)
    clear = _blend(rewarded, incentives, 0.5)
    return {
        "psychological_safety": safety,
        "time_pressure": Lever(
            pressure, max(s.calendar_people, workload_n) if pressure is not None else 0
        ),
        "clear_incentives": Lever(
            clear,
            max(s.visible_people if rewarded is not None else 0, incentives_n)
            if clear is not None
            else 0,
        ),
        "ambiguous_evaluation": Lever(
            ambiguity,
            max(clarity_n, s.feedback_people if output_only is not None else 0)
            if ambiguity is not None
            else 0,
        ),
        "participation": participation(s.members, s.active),
        "micro_advancement_rate": Lever(
            round(s.actions / s.members, 2) if s.members else None, s.members
        ),
    }

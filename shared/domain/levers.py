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

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

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

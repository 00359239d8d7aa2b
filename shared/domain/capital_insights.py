"""What model 2's scores mean for a person (docs/scoring.md): signal vs substance judged on
confirmed capability evidence, rotation, consistency that pauses for leave, every
contribution's share with an "others" line, and the next action that would raise a score
the most this week. Pure functions over :mod:`shared.domain.scoring`'s facts."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date
from typing import Any

from shared.domain import scoring
from shared.domain.scoring import Absence, ActionFact, ActiveDays, Contribution, OutcomeFact
from shared.domain.tactics import TACTICS
from shared.domain.weeks import week_index, week_label

RECENT_WEEKS = 4
SIGNAL_RATIO_FLAG = 3.0  # visibility units per confirmed capability unit, last 4 weeks
FLAG_MIN_VISIBILITY = 2.0  # visibility units below which nothing is flagged
AWAY_WEEK = 0.5  # a week at least half away neither breaks nor extends a streak
EXPLAINED = 10
NEXT_ACTION_MINUTES = 10
NEXT_ACTION_AUDIENCE = "team"


def signal_vs_substance(parts: Iterable[Contribution], as_of_week: int) -> dict[str, Any]:
    """Visibility units of the last 4 weeks over their *confirmed* capability units: the
    seed's "all signal, no substance" when visibility is high and no one confirmed
    capability (self-reported capability clears nothing).

    Parameters:
        parts: the person's contributions as of ``as_of_week``.
        as_of_week: the week scored.

    Returns:
        ``ratio`` (None when nothing confirmed capability) and ``all_signal``.
    """
    recent = [c for c in parts if as_of_week - RECENT_WEEKS < c.week <= as_of_week]
    visibility = sum(c.units[1] for c in recent)
    proven = sum(c.units[0] for c in recent if c.confirmed)
    ratio = visibility / proven if proven > 0 else math.inf
    flagged = visibility >= FLAG_MIN_VISIBILITY and ratio >= SIGNAL_RATIO_FLAG
    return {"ratio": None if math.isinf(ratio) else round(ratio, 2), "all_signal": flagged}


def rotation_balance(actions: Iterable[ActionFact], as_of_week: int) -> dict[str, Any]:
    """Share of visible (team or decision-makers) actions among the last 4 weeks'."""
    recent = [a for a in actions if as_of_week - RECENT_WEEKS < week_index(a.day) <= as_of_week]
    visible = sum(1 for a in recent if a.audience != "private")
    share = visible / len(recent) if recent else None
    return {
        "visible_share": None if share is None else round(share, 2),
        "actions": len(recent),
        "balanced": share is not None and 0.3 <= share <= 0.7,
    }


def consistency(
    actions: Iterable[ActionFact], absences: Iterable[Absence], as_of_week: int, span: int = 12
) -> dict[str, int]:
    """Weeks with an action among the last ``span``, and the current streak: a week at
    least half away (declared leave) neither breaks the streak nor extends it.

    Returns:
        ``active_weeks``, ``span``, ``streak`` and ``away_weeks`` (among the last ``span``).
    """
    active = {w for a in actions if (w := week_index(a.day)) <= as_of_week}
    clock = ActiveDays(absences)
    away = {w for w in range(as_of_week - span + 1, as_of_week + 1)
            if clock.away_share(w) >= AWAY_WEEK}  # fmt: skip
    streak, week = 0, as_of_week if as_of_week in active else as_of_week - 1
    while week in active or clock.away_share(week) >= AWAY_WEEK:
        streak += week in active
        week -= 1
        if week < as_of_week - 520:  # ten years of leave: stop looking
            break
    return {
        "active_weeks": len([w for w in active if w > as_of_week - span]),
        "span": span,
        "streak": streak,
        "away_weeks": len(away),
    }


def explanation(parts: Sequence[Contribution]) -> dict[str, dict[str, Any]]:
    """Per dimension: the self-reported and confirmed units, the largest contributions
    and an "others" line, their shares summing to 1.

    Returns:
        Dimension -> ``self_reported``, ``confirmed`` (units), ``contributions`` (up to
        :data:`EXPLAINED`, each kind, id, tactic or outcome, ISO week, confirmed, share)
        and ``others``
        (count and share of the rest).
    """
    result: dict[str, dict[str, Any]] = {}
    for d, dimension in enumerate(scoring.DIMENSIONS):
        mine = sorted((c for c in parts if c.units[d] > 0), key=lambda c: (-c.units[d], c.ref))
        total = sum(c.units[d] for c in mine)
        top: list[dict[str, Any]] = [
            {"kind": c.kind, "id": c.ref,
             "tactic": c.label if c.kind == "action" else None,
             "outcome": c.label if c.kind == "outcome" else None,
             "week": week_label(c.week), "confirmed": c.confirmed,
             "share": round(c.units[d] / total, 3)}
            for c in mine[:EXPLAINED]
        ]  # fmt: skip
        shown = sum(item["share"] for item in top)
        rest = mine[EXPLAINED:]
        result[dimension] = {
            "self_reported": round(sum(c.units[d] for c in mine if not c.confirmed), 3),
            "confirmed": round(sum(c.units[d] for c in mine if c.confirmed), 3),
            "contributions": top,
            "others": {"count": len(rest), "share": round(1.0 - shown, 3) if top else 0.0},
        }
    return result


def confirmed_part(score: float, self_units: float, confirmed_units: float) -> float:
    """The part of ``score`` the confirmed units make (in score points, one decimal)."""
    total = self_units + confirmed_units
    return round(score * confirmed_units / total, 1) if total > 0 else 0.0


def next_actions(
    actions: Sequence[ActionFact],
    outcomes: Sequence[OutcomeFact],
    absences: Sequence[Absence],
    today: date,
) -> dict[str, dict[str, Any]]:
    """Per dimension, the tactic whose 10-minute team action today would raise the score
    the most, with one of the seed's examples, and what it gains if a colleague confirms
    it (ask one micro-feedback question).

    Parameters:
        actions, outcomes, absences: the person's facts.
        today: the day the action would be logged.

    Returns:
        Dimension -> ``tactic``, ``example``, ``gain`` and ``gain_if_confirmed`` (points).
    """
    week, clock = week_index(today), ActiveDays(absences)
    current = [a for a in actions if week_index(a.day) == week]
    others = scoring.undecayed([a for a in actions if week_index(a.day) != week], outcomes, today)
    head: list[scoring.Contribution] = []
    head_one_way: list[int] = []
    scoring.decay_each(others, clock, today, head, head_one_way)  # once: the same each time

    def scored(this_week: list[ActionFact]) -> dict[str, float]:
        parts, one_way = list(head), list(head_one_way)
        scoring.decay_each(scoring.undecayed(this_week, (), today), clock, today, parts, one_way)
        return scoring.scores_of(scoring.pooled(parts, one_way)).as_dict()

    base = scored(current)
    best: dict[str, dict[str, Any]] = {}
    for tactic in sorted(TACTICS):
        plain = ActionFact(today, tactic, NEXT_ACTION_MINUTES, NEXT_ACTION_AUDIENCE)
        gained = scored([*current, plain])
        proven = scored([*current, replace(plain, confirmed=True)])
        for dimension in scoring.DIMENSIONS:
            gain = round(gained[dimension] - base[dimension], 1)
            if_confirmed = round(proven[dimension] - base[dimension], 1)
            leading = best.get(dimension)
            if leading is None or if_confirmed > leading["gain_if_confirmed"]:
                best[dimension] = {
                    "tactic": tactic,
                    "example": TACTICS[tactic].examples[0],
                    "gain": gain,
                    "gain_if_confirmed": if_confirmed,
                }
    return best

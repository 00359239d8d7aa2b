"""Career capital, model version 1 (docs/scoring.md): pure functions, no I/O, no clock.

Actions are *investment*: each tactic's weights on capability (C), visibility (V) and
relationships (R), times a saturating effort factor, times (for visibility) how visible the
audience is. Outcomes are *returns*: evidence on the dimensions they prove. Both decay with
age (investment: half-life 8 weeks; returns: 26 weeks, proof lasts longer). A dimension's
capital is a saturating function of both, returns weighing three times as much: capital is
what was proven, not only what was done.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from shared.domain.tactics import TACTICS

MODEL_VERSION = 1
DIMENSIONS = ("capability", "visibility", "relationships")
INVESTMENT_HALF_LIFE_WEEKS = 8
RETURNS_HALF_LIFE_WEEKS = 26
RETURNS_WEIGHT = 3.0
SATURATION = 40.0  # decayed units at which a dimension reaches 63 of 100
EFFORT_MINUTES = 15.0
AUDIENCE_VISIBILITY = {"private": 0.25, "team": 1.0, "decision_makers": 1.5}
OUTCOME_EVIDENCE: dict[str, tuple[float, float, float]] = {
    "invitation": (0.5, 2.0, 1.0),
    "assignment": (2.0, 1.0, 0.0),
    "recognition": (0.5, 2.0, 0.5),
    "useful_feedback": (1.0, 0.5, 0.5),
    "new_responsibility": (2.5, 1.0, 0.5),
    "sponsorship": (0.5, 1.5, 3.0),
}
SIGNAL_RATIO_FLAG = 3.0  # visibility / capability investment over 4 weeks
FLAG_MIN_VISIBILITY = 3.0


def effort(minutes: int) -> float:
    """0..1, saturating: 5 min -> 0.28, 15 min -> 0.63, 60 min -> 0.98."""
    return 1.0 - math.exp(-max(0, minutes) / EFFORT_MINUTES)


def investment(tactic: str, minutes: int, audience: str) -> tuple[float, float, float]:
    """One action's undecayed investment on (C, V, R)."""
    t = TACTICS[tactic]
    e = effort(minutes)
    return (t.capability * e, t.visibility * e * AUDIENCE_VISIBILITY[audience], t.relationships * e)


def evidence(kind: str) -> tuple[float, float, float]:
    """One outcome's undecayed evidence on (C, V, R)."""
    return OUTCOME_EVIDENCE[kind]


def decay(age_weeks: int, half_life_weeks: int) -> float:
    return 0.5 ** (max(0, age_weeks) / half_life_weeks)


def capital(invested: float, proven: float) -> float:
    """0..100 from decayed investment and returns."""
    return 100.0 * (1.0 - math.exp(-(invested + RETURNS_WEIGHT * proven) / SATURATION))


@dataclass(frozen=True)
class WeekTotals:
    """One person's undecayed sums for one ISO week (``week_index``: weeks since an epoch)."""

    week_index: int
    invested: tuple[float, float, float]
    proven: tuple[float, float, float]
    actions: int = 0
    visible_actions: int = 0


@dataclass(frozen=True)
class Scores:
    capability: float
    visibility: float
    relationships: float

    def as_dict(self) -> dict[str, float]:
        return {
            "capability": self.capability,
            "visibility": self.visibility,
            "relationships": self.relationships,
        }


def scores_at(weeks: Iterable[WeekTotals], as_of_week: int) -> Scores:
    """Capital per dimension at the end of ``as_of_week`` (later weeks are ignored)."""
    invested = [0.0, 0.0, 0.0]
    proven = [0.0, 0.0, 0.0]
    for w in weeks:
        if w.week_index > as_of_week:
            continue
        age = as_of_week - w.week_index
        di, dp = decay(age, INVESTMENT_HALF_LIFE_WEEKS), decay(age, RETURNS_HALF_LIFE_WEEKS)
        for d in range(3):
            invested[d] += w.invested[d] * di
            proven[d] += w.proven[d] * dp
    values = [round(capital(invested[d], proven[d]), 1) for d in range(3)]
    return Scores(*values)


def signal_vs_substance(weeks: Iterable[WeekTotals], as_of_week: int) -> dict[str, object]:
    """Visibility over capability investment in the last 4 weeks, and the seed's warning
    "all signal, no substance" when it is high and no capability outcome arrived."""
    recent = [w for w in weeks if as_of_week - 3 <= w.week_index <= as_of_week]
    visibility = sum(w.invested[1] for w in recent)
    capability = sum(w.invested[0] for w in recent)
    proven_capability = sum(w.proven[0] for w in recent)
    ratio = visibility / capability if capability > 0 else (math.inf if visibility else 0.0)
    flagged = (
        visibility >= FLAG_MIN_VISIBILITY and ratio >= SIGNAL_RATIO_FLAG and proven_capability == 0
    )
    return {"ratio": None if math.isinf(ratio) else round(ratio, 2), "all_signal": flagged}


def rotation_balance(weeks: Iterable[WeekTotals], as_of_week: int) -> dict[str, object]:
    """Share of visibility-focused actions among the last 4 weeks' actions."""
    recent = [w for w in weeks if as_of_week - 3 <= w.week_index <= as_of_week]
    actions = sum(w.actions for w in recent)
    visible = sum(w.visible_actions for w in recent)
    share = visible / actions if actions else None
    return {
        "visible_share": None if share is None else round(share, 2),
        "actions": actions,
        "balanced": share is not None and 0.3 <= share <= 0.7,
    }


def consistency(weeks: Iterable[WeekTotals], as_of_week: int, span: int = 12) -> dict[str, int]:
    """Weeks with at least one action among the last ``span``, and the current streak."""
    active = {w.week_index for w in weeks if w.actions > 0 and w.week_index <= as_of_week}
    streak = 0
    week = as_of_week if as_of_week in active else as_of_week - 1
    while week in active:
        streak += 1
        week -= 1
    return {
        "active_weeks": len([w for w in active if w > as_of_week - span]),
        "span": span,
        "streak": streak,
    }


def shares(contributions: Mapping[str, float]) -> dict[str, float]:
    """Each contributor's share of the total (0..1), largest first."""
    total = sum(contributions.values())
    if total <= 0:
        return {}
    return {k: round(v / total, 3) for k, v in sorted(contributions.items(), key=lambda kv: -kv[1])}

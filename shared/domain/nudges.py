"""Nudges: rules over the read models, each citing the number that triggered it and the
seed article's practical step it comes from. At most three a week per person.

Employee rules read the person's own capital; manager rules read a team's week of levers,
and only cells that passed suppression (a hidden number never triggers a nudge, so a nudge
cannot leak one).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

DEPOSIT_WEEKS = 2
MAX_NUDGES = 3

# The seed's practical steps, quoted where a nudge comes from.
STEPS = {
    "relationship_deposit": "Relationship deposits: brief interactions that build reciprocity "
    "(thank-you notes, one-minute check-ins).",
    "rotate": "Rotate intentionally: alternate visibility-focused moves with private "
    "skill-building to avoid being all signal and no substance.",
    "start_small": "Start with manageable commitments (10-20 minutes a day or 1-2 "
    "micro-actions per week) and iterate.",
    "feedback_loop": "Ask for a micro-feedback loop: request one specific observation after a "
    'tiny action ("Was that summary useful?").',
    "protect_focus": "Time pressure: chronic overload reduces the bandwidth for deliberate "
    "micro-investments.",
    "celebrate": "Organizations that celebrate incremental contributions and provide safe "
    "feedback loops make micro-advancement tactics thrive.",
    "reward_visible": "Clear incentives: when teams reward short, visible contributions "
    "(public praise, meeting invites) micro-advancements increase.",
    "beyond_outputs": "Ambiguous evaluation: when performance metrics emphasize outputs only, "
    "subtle reputation-building behaviors can be ignored.",
}

# Manager thresholds (levers are 0-100; time pressure and ambiguity: higher is worse).
TIME_PRESSURE_HIGH = 60.0
SAFETY_LOW = 55.0
INCENTIVES_LOW = 40.0
AMBIGUITY_HIGH = 55.0
PARTICIPATION_LOW = 50.0


def _nudge(
    rule: str, because: str, value: Any, suggestion: str, step: str, weight: float
) -> dict[str, Any]:
    return {
        "rule": rule,
        "because": because,
        "value": value,
        "suggestion": suggestion,
        "step": STEPS[step],
        "weight": weight,
    }


def _top(nudges: list[dict[str, Any]]) -> list[dict[str, Any]]:
    nudges.sort(key=lambda n: -n.pop("weight"))
    return nudges[:MAX_NUDGES]


def employee_nudges(capital: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The seed article's advice, when the employee's own numbers call for it (at most 3)."""
    nudges = []
    weeks = capital.get("weeks_since_relationship_deposit", None)
    if weeks is None or weeks >= DEPOSIT_WEEKS:
        nudges.append(
            _nudge(
                "relationship_deposit",
                f"no relationship deposit in the last {DEPOSIT_WEEKS} weeks"
                if weeks is None
                else f"your last relationship deposit was {weeks} weeks ago",
                weeks,
                "Send a thank-you note or do a one-minute check-in with a teammate.",
                "relationship_deposit",
                2.0,
            )
        )
    if "all_signal_no_substance" in capital.get("flags", []):
        ratio = capital.get("signal_vs_substance", {}).get("ratio")
        nudges.append(
            _nudge(
                "all_signal_no_substance",
                "no colleague confirmed any capability of yours over 4 weeks"
                if ratio is None
                else f"visibility is {ratio}x the capability colleagues confirmed over 4 weeks",
                ratio,
                "Alternate with private skill-building: a short stretch task, then ask one "
                "colleague whether it was useful.",
                "rotate",
                3.0,
            )
        )
    consistency = capital.get("consistency")
    if isinstance(consistency, Mapping) and consistency.get("streak") == 0:
        active = consistency.get("active_weeks")
        nudges.append(
            _nudge(
                "steady_accumulation",
                f"no micro-action this week or last; {active} active weeks of the last "
                f"{consistency.get('span')}",
                active,
                "Pick one or two micro-actions for this week and put them in your plan.",
                "start_small",
                1.0,
            )
        )
    return _top(nudges)


def manager_nudges(
    levers: Mapping[str, Mapping[str, Any]], components: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """A team week's nudges for its managers, from visible cells only (at most 3)."""

    def shown(name: str) -> float | None:
        cell = levers.get(name) or {}
        return None if cell.get("suppressed", True) else cell.get("value")

    nudges = []
    pressure = shown("time_pressure")
    if pressure is not None and pressure >= TIME_PRESSURE_HIGH:
        share = None if components.get("suppressed", True) else components.get("meeting_share")
        because = f"time pressure is {pressure} (threshold {TIME_PRESSURE_HIGH:g})"
        if share is not None:
            because += f"; meetings fill {share}% of working hours"
        nudges.append(
            _nudge(
                "protect_focus_blocks",
                because,
                pressure,
                "Protect focus blocks: two meeting-free hours a day, and no meetings after hours.",
                "protect_focus",
                pressure - TIME_PRESSURE_HIGH,
            )
        )
    safety = shown("psychological_safety")
    if safety is not None and safety < SAFETY_LOW:
        nudges.append(
            _nudge(
                "celebrate_and_safe_feedback",
                f"psychological safety is {safety} (threshold {SAFETY_LOW:g})",
                safety,
                "Celebrate incremental contributions in public and set up safe feedback "
                "loops: ask for one specific observation, never a verdict.",
                "celebrate",
                SAFETY_LOW - safety,
            )
        )
    incentives = shown("clear_incentives")
    if incentives is not None and incentives < INCENTIVES_LOW:
        nudges.append(
            _nudge(
                "reward_small_visible_contributions",
                f"clear incentives is {incentives} (threshold {INCENTIVES_LOW:g})",
                incentives,
                "Answer small visible contributions within days: public praise, an invitation "
                "to the next planning meeting.",
                "reward_visible",
                INCENTIVES_LOW - incentives,
            )
        )
    ambiguity = shown("ambiguous_evaluation")
    if ambiguity is not None and ambiguity >= AMBIGUITY_HIGH:
        nudges.append(
            _nudge(
                "explain_evaluation",
                f"ambiguous evaluation is {ambiguity} (threshold {AMBIGUITY_HIGH:g})",
                ambiguity,
                "Say how work is evaluated beyond outputs, and give feedback on how, not "
                "only on what.",
                "beyond_outputs",
                ambiguity - AMBIGUITY_HIGH,
            )
        )
    participation = shown("participation")
    if participation is not None and participation < PARTICIPATION_LOW:
        nudges.append(
            _nudge(
                "start_small_together",
                f"{participation}% of the team logged a micro-action this week "
                f"(threshold {PARTICIPATION_LOW:g}%)",
                participation,
                "Invite everyone to pick one or two micro-actions a week; share yours first.",
                "start_small",
                PARTICIPATION_LOW - participation,
            )
        )
    return _top(nudges)

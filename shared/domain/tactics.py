"""The micro-advancement tactics of the seed article, with their capital weights (model 2).

Weights are on the three capital dimensions: capability (C), visibility (V) and
relationships (R). See docs/scoring.md.
"""

from __future__ import annotations

from dataclasses import dataclass

AUDIENCES = ("private", "team", "decision_makers")
OUTCOME_KINDS = (
    "invitation",
    "assignment",
    "recognition",
    "useful_feedback",
    "new_responsibility",
    "sponsorship",
)


@dataclass(frozen=True)
class Tactic:
    name: str
    label: str
    examples: tuple[str, ...]
    capability: float
    visibility: float
    relationships: float


TACTICS: dict[str, Tactic] = {
    t.name: t
    for t in (
        Tactic(
            "small_exposure",
            "Small exposure",
            ("a short stretch task beside the main role",),
            3,
            1,
            0,
        ),
        Tactic(
            "learning_bit",
            "Learning bit",
            (
                "10 minutes with a new tool",
                "one piece of feedback asked",
                "sharing a relevant article",
            ),
            2,
            0,
            0.5,
        ),
        Tactic(
            "regular_signaling",
            "Regular signaling",
            ("a tidy deck", "a prompt reply", "a concise progress and risk update"),
            0.5,
            2,
            0.5,
        ),
        Tactic(
            "meeting_quick_win",
            "Quick win in a meeting",
            (
                "a one-line clarification",
                "a sharp question",
                "volunteering to follow up",
                "summarising decisions",
            ),
            1,
            2,
            0.5,
        ),
        Tactic(
            "relationship_deposit",
            "Relationship deposit",
            ("a thank-you note", "a one-minute check-in", "helping a teammate"),
            0,
            0.5,
            2,
        ),
        Tactic(
            "network_nudge",
            "Network nudge",
            (
                "congratulating a colleague publicly",
                "a short coffee chat",
                "introducing two contacts",
            ),
            0,
            1,
            2.5,
        ),
        Tactic(
            "prototype_first",
            "Prototype first",
            ("a brief prototype instead of waiting for a perfect product",),
            2,
            1.5,
            0,
        ),
    )
}

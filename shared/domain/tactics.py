"""The micro-advancement tactics of the seed article, with their capital weights (model 2).

Weights are on the three capital dimensions: capability (C), visibility (V) and
relationships (R). See docs/scoring.md.

Each label and example is English, marked for the catalogue (``N_``): translate it where it
is shown (``_(tactic.label)`` in a template, ``gettext(tactic.label)`` in Python).
"""

from __future__ import annotations

from dataclasses import dataclass


def N_(message: str) -> str:
    """Mark ``message`` for the catalogue (the domain imports only the standard library)."""
    return message


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
            N_("Small exposure"),
            (N_("a short stretch task beside the main role"),),
            3,
            1,
            0,
        ),
        Tactic(
            "learning_bit",
            N_("Learning bit"),
            (
                N_("10 minutes with a new tool"),
                N_("one piece of feedback asked"),
                N_("sharing a relevant article"),
            ),
            2,
            0,
            0.5,
        ),
        Tactic(
            "regular_signaling",
            N_("Regular signaling"),
            (N_("a tidy deck"), N_("a prompt reply"), N_("a concise progress and risk update")),
            0.5,
            2,
            0.5,
        ),
        Tactic(
            "meeting_quick_win",
            N_("Quick win in a meeting"),
            (
                N_("a one-line clarification"),
                N_("a sharp question"),
                N_("volunteering to follow up"),
                N_("summarising decisions"),
            ),
            1,
            2,
            0.5,
        ),
        Tactic(
            "relationship_deposit",
            N_("Relationship deposit"),
            (N_("a thank-you note"), N_("a one-minute check-in"), N_("helping a teammate")),
            0,
            0.5,
            2,
        ),
        Tactic(
            "network_nudge",
            N_("Network nudge"),
            (
                N_("congratulating a colleague publicly"),
                N_("a short coffee chat"),
                N_("introducing two contacts"),
            ),
            0,
            1,
            2.5,
        ),
        Tactic(
            "prototype_first",
            N_("Prototype first"),
            (N_("a brief prototype instead of waiting for a perfect product"),),
            2,
            1.5,
            0,
        ),
    )
}

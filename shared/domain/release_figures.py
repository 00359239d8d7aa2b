"""The figures of a weekly release: what each eligible person contributes, bounded, and how a
team's figures are rolled up from its members' and its sub-teams' (docs/privacy.md).

Every figure is a mean over one population of distinct people, each person's contribution
clamped into the figure's bounds, so one person moves a figure over n people by at most
``(high - low) / n``: the sensitivity the noise of :mod:`shared.domain.releases` is scaled to.
Pulse items are sums of anonymous answers: their population is the answers, never more
than the team's eligible members (respondents beyond them are scaled away, not counted).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from shared.domain.levers import ITEMS, REVERSED

ACTIONS_CAP = 10
"""Actions a person contributes to the micro-advancement rate in one week, at most."""

FIGURE_BOUNDS: dict[str, tuple[float, float]] = {
    "participation": (0.0, 100.0),
    "micro_advancement_rate": (0.0, float(ACTIONS_CAP)),
    "safety_behaviour": (0.0, 100.0),
    "safety_survey": (0.0, 100.0),
    "calendar_pressure": (0.0, 100.0),
    "rewarded_share": (0.0, 100.0),
    "confirmed_reward_share": (0.0, 100.0),
    "output_only_share": (0.0, 100.0),
    "meeting_share": (0.0, 100.0),
    "focus_hours_per_person": (0.0, 40.0),
    "after_hours_per_person": (0.0, 20.0),
    "back_to_back_per_person": (0.0, 20.0),
    **{f"item:{item}": (0.0, 100.0) for item in ITEMS},
}
"""Every released figure and the bounds one person's contribution is clamped into. The
budget of a team-week is split over all of them, shown or not (:func:`budget_share`)."""

FIGURES = tuple(FIGURE_BOUNDS)
DETAIL_FIGURES = frozenset(
    {
        *(f"item:{item}" for item in ITEMS if item.startswith("ps")),
        "meeting_share",
        "focus_hours_per_person",
        "after_hours_per_person",
        "back_to_back_per_person",
        "confirmed_reward_share",
    }
)
"""The figures behind a lever's detail page (safety items, calendar components, the share of
rewarded actions a confirmed reward rewarded); the others
are the parts the six levers are blended from."""
DETAIL_SHARE = 0.25
"""The share of a team-week's budget the detail figures split; the lever parts split the rest."""


def budget_share(figure: str) -> float:
    """The share of a team-week's privacy budget one figure spends (all shares add up to 1,
    whatever the data: the split itself says nothing).

    Parameters:
        figure: a name of ``FIGURES``.

    Returns:
        A fraction of the budget.
    """
    if figure in DETAIL_FIGURES:
        return DETAIL_SHARE / len(DETAIL_FIGURES)
    return (1 - DETAIL_SHARE) / (len(FIGURES) - len(DETAIL_FIGURES))


MEMBER_FIGURES = frozenset({"participation", "micro_advancement_rate", "safety_behaviour"})
"""The figures every eligible member is in the population of."""
PERSON_FIGURES = tuple(f for f in FIGURES if not f.startswith("item:") and f != "safety_survey")
"""The figures computed from each eligible person's own week (the others from the pulse)."""


def clamp(value: float, figure: str) -> float:
    """``value`` clamped into the bounds of ``figure``."""
    low, high = FIGURE_BOUNDS[figure]
    return min(high, max(low, value))


@dataclass(frozen=True)
class PersonWeek:
    """One eligible person's week, as the release needs it.

    Parameters:
        actions: micro-actions logged.
        stretched: tried a stretch task (small exposure, prototype).
        asked: asked for feedback.
        visible, rewarded: visible actions, and those rewarded within 14 days.
        confirmed: of the rewarded, those a confirmed reward rewarded (the rest were
            self-reported).
        feedback, output_only: feedback received, and how much of it was output-only.
        calendar: the week's calendar measures (None: no calendar that week): pressure
            (0-100), meeting hours, working hours, focus hours, after-hours hours,
            back-to-back meetings.
    """

    actions: int = 0
    stretched: bool = False
    asked: bool = False
    visible: int = 0
    rewarded: int = 0
    confirmed: int = 0
    feedback: int = 0
    output_only: int = 0
    calendar: tuple[float, float, float, float, float, int] | None = None

    def contributions(self) -> dict[str, float]:
        """This person's value of each figure they are in the population of (clamped)."""
        out = {
            "participation": 100.0 if self.actions else 0.0,
            "micro_advancement_rate": float(min(self.actions, ACTIONS_CAP)),
            "safety_behaviour": 50.0 * (int(self.stretched) + int(self.asked)),
        }
        if self.visible:
            out["rewarded_share"] = 100.0 * min(self.rewarded, self.visible) / self.visible
        if self.rewarded:
            out["confirmed_reward_share"] = (
                100.0 * min(self.confirmed, self.rewarded) / self.rewarded
            )
        if self.feedback:
            out["output_only_share"] = 100.0 * min(self.output_only, self.feedback) / self.feedback
        if self.calendar is not None:
            pressure, meeting, working, focus, after, chains = self.calendar
            out["calendar_pressure"] = pressure
            out["meeting_share"] = 100.0 * meeting / working if working > 0 else 0.0
            out["focus_hours_per_person"] = focus
            out["after_hours_per_person"] = after
            out["back_to_back_per_person"] = float(chains)
        return {name: clamp(value, name) for name, value in out.items()}


@dataclass(frozen=True)
class PulseSums:
    """A team-week's anonymous pulse answers, summed (as the levers read model keeps them).

    Parameters:
        safety_n: responses with a safety item; safety_points: the sum of their safety
            scales on 0-100.
        item_sum, item_n: per item (``ITEMS`` order) the sum of raw 1-7 answers and their
            number.
    """

    safety_n: int = 0
    safety_points: float = 0.0
    item_sum: Sequence[int] = ()
    item_n: Sequence[int] = ()

    def contributions(self) -> dict[str, tuple[float, int]]:
        """Figure -> (sum of answers on 0-100, how many answers)."""
        out = {"safety_survey": (self.safety_points, self.safety_n)}
        for i, item in enumerate(ITEMS):
            n = self.item_n[i] if i < len(self.item_n) else 0
            raw = self.item_sum[i] if i < len(self.item_sum) else 0
            # A 1-7 answer a is (a - 1) / 6 x 100, reversed items (7 - a) / 6 x 100.
            points = (7 * n - raw if item in REVERSED else raw - n) * 100.0 / 6.0
            out[f"item:{item}"] = (points, n)
        return out


@dataclass
class Population:
    """Additive sums of a population's contributions: ``n[figure]`` people (or answers)
    and ``total[figure]`` their summed values; ``members`` the eligible members."""

    members: int = 0
    n: dict[str, int] = field(default_factory=dict)
    total: dict[str, float] = field(default_factory=dict)

    def add_person(self, week: PersonWeek) -> None:
        """Count one eligible member and their contributions."""
        self.members += 1
        for name, value in week.contributions().items():
            self.n[name] = self.n.get(name, 0) + 1
            self.total[name] = self.total.get(name, 0.0) + value

    def add_pulse(self, pulse: PulseSums) -> None:
        """Count a team-week's pulse answers."""
        for name, (points, n) in pulse.contributions().items():
            if n:
                self.n[name] = self.n.get(name, 0) + n
                self.total[name] = self.total.get(name, 0.0) + points

    def __add__(self, other: Population) -> Population:
        out = Population(self.members + other.members, dict(self.n), dict(self.total))
        for name, n in other.n.items():
            out.n[name] = out.n.get(name, 0) + n
            out.total[name] = out.total.get(name, 0.0) + other.total[name]
        return out

    def figure(self, name: str) -> tuple[float | None, int]:
        """A figure's exact mean and its population, answers beyond the members scaled away.

        Returns:
            ``(mean, n)``; ``(None, 0)`` when nobody is behind it.
        """
        if (
            name == "participation"
            or name == "micro_advancement_rate"
            or name == "safety_behaviour"
        ):
            n = self.members
        else:
            n = min(self.n.get(name, 0), self.members)
        count = self.n.get(name, 0)
        if not n or not count:
            return None, 0
        return clamp(self.total.get(name, 0.0) / count, name), n


def rollup(
    root: str,
    children: Mapping[str, Sequence[str]],
    own: Mapping[str, Population],
) -> dict[str, Population]:
    """Every node's population: its own members' and every descendant's.

    Parameters:
        root: the top node.
        children: node -> child nodes.
        own: node -> its own eligible members' population.

    Returns:
        node -> rolled-up population, for ``root`` and every node below it.
    """
    out: dict[str, Population] = {}

    def visit(node: str) -> Population:
        total = own.get(node, Population())
        for child in children.get(node, ()):
            total = total + visit(child)
        out[node] = total
        return total

    visit(root)
    return out

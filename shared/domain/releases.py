"""A week's release: every figure of every team over at least k eligible people, noised once.

:func:`release_tree` turns the eligible populations of a team tree (one week) into what
managers may read of each node, and nothing else:

* each figure (:data:`~shared.domain.release_figures.FIGURES`) over one population of at
  least k distinct people, n being that population's size; a rollup is hidden as well when
  the unseen parts below it add up to 1..k-1 people (:func:`~shared.domain.privacy.protect_tree`);
* each shown figure noised with the Laplace mechanism, scaled to one person's largest effect
  on it, with its share of the team-week's privacy budget (the levers' parts three quarters,
  the detail figures a quarter);
* each lever blended (post-processing, no extra privacy cost) only from its parts that are
  shown, and labelled with them;
* each hidden figure with its reason (:data:`REASONS`).

The noise comes from a :class:`Noise` (OpenDP in production, ``shared/releases/noise.py``);
this module stays pure.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from shared.domain.levers import ITEMS, LEVER_NAMES
from shared.domain.privacy import Cell, effective_k, protect_tree
from shared.domain.release_figures import (
    FIGURE_BOUNDS,
    FIGURES,
    Population,
    budget_share,
    clamp,
    rollup,
)

REASONS = {
    "no_data": "No data yet for this week.",
    "fewer_than_k": "Fewer than k people are behind it.",
    "protects_smaller_group": "Hidden to protect a smaller group (it would reveal one by "
    "subtraction).",
    "not_released": "This week is not released yet: figures are published once a week closes.",
    "too_noisy": "Too few people behind it for its noise: its 90% margin would exceed half "
    "its scale.",
}
"""Why a figure carries no value: the code and the sentence pages and the CSV show."""

ALPHA = 0.1
"""Figures carry the half-width of their 90% interval (``margin``)."""

MAX_MARGIN_SHARE = 0.5
"""The product's bound on noise (issue #17): no figure is published whose 90% margin exceeds
this share of its scale (50 points of 0-100, 5 of 0-10 actions); it is hidden as
``too_noisy``. The margin follows from n and the budget only, never from the data, so hiding
it reveals nothing (docs/privacy.md, "Accuracy")."""


def too_noisy(figure: str, n: int, epsilon: float) -> bool:
    """Whether a figure over n people would be noisier than :data:`MAX_MARGIN_SHARE` allows.

    Parameters:
        figure: a name of ``FIGURES``.
        n: the population (at least 1).
        epsilon: the team-week's privacy budget.

    Returns:
        True when its Laplace 90% margin exceeds the bound.
    """
    low, high = FIGURE_BOUNDS[figure]
    return noise_scale(figure, n, epsilon) * math.log(1 / ALPHA) > MAX_MARGIN_SHARE * (high - low)


Part = tuple[str, Callable[[float], float]]
LEVER_PARTS: dict[str, tuple[tuple[Part, ...], float]] = {
    "psychological_safety": (
        (("safety_survey", lambda v: v), ("safety_behaviour", lambda v: v)),
        0.7,
    ),
    "time_pressure": (
        (("calendar_pressure", lambda v: v), ("item:workload", lambda v: 100.0 - v)),
        0.6,
    ),
    "clear_incentives": (
        (("rewarded_share", lambda v: v), ("item:incentives", lambda v: v)),
        0.5,
    ),
    "ambiguous_evaluation": (
        (("item:evaluation_clarity", lambda v: 100.0 - v), ("output_only_share", lambda v: v)),
        0.5,
    ),
    "participation": ((("participation", lambda v: v),), 1.0),
    "micro_advancement_rate": ((("micro_advancement_rate", lambda v: v),), 1.0),
}
"""Each lever's parts (figure, and how its value enters the lever) and the first's weight.
Psychological safety needs its survey part: without it, no value (docs/levers.md)."""

COMPONENTS = (
    "meeting_share",
    "focus_hours_per_person",
    "after_hours_per_person",
    "back_to_back_per_person",
)


class Noise(Protocol):
    """Where a release's noise comes from."""

    def laplace(self, value: float, scale: float) -> float:
        """``value`` plus Laplace noise of ``scale``."""

    def margin(self, scale: float, alpha: float) -> float:
        """The half-width t with P(|noise| > t) = alpha for Laplace noise of ``scale``."""


def noise_scale(figure: str, n: int, epsilon: float) -> float:
    """The Laplace scale of a figure over n people with the team-week budget ``epsilon``.

    One person moves a mean over n people by at most ``(high - low) / n``; the figure's
    share of the budget is ``epsilon * budget_share(figure)``.

    Parameters:
        figure: a name of ``FIGURES``.
        n: the population (at least 1).
        epsilon: the team-week's privacy budget.

    Returns:
        The scale.
    """
    low, high = FIGURE_BOUNDS[figure]
    return (high - low) / n / (epsilon * budget_share(figure))


def _digits(figure: str) -> int:
    return 2 if FIGURE_BOUNDS[figure][1] <= 20 else 1


def _figure_cells(
    root: str,
    children: Mapping[str, Sequence[str]],
    own: Mapping[str, Population],
    totals: Mapping[str, Population],
    figure: str,
    k: int,
    epsilon: float,
    noise: Noise,
) -> dict[str, dict[str, Any]]:
    """One figure of every node: protected, then noised where shown."""
    exact = {node: pop.figure(figure) for node, pop in totals.items()}
    cells = {(node, 0): Cell(mean, n) for node, (mean, n) in exact.items()}
    own_n = {(node, 0): pop.figure(figure)[1] for node, pop in own.items()}
    protected = protect_tree(root, children, [0], cells, own_n, k)
    out: dict[str, dict[str, Any]] = {}
    for node, (mean, n) in exact.items():
        if mean is None:
            out[node] = _hidden("no_data")
        elif n < k:
            out[node] = _hidden("fewer_than_k")
        elif protected[(node, 0)].suppressed:
            out[node] = _hidden("protects_smaller_group")
        elif too_noisy(figure, n, epsilon):
            out[node] = _hidden("too_noisy")
        else:
            scale = noise_scale(figure, n, epsilon)
            value = clamp(noise.laplace(mean, scale), figure)
            digits = _digits(figure)
            out[node] = {
                "value": round(value, digits),
                "n": n,
                "suppressed": False,
                "margin": round(noise.margin(scale, ALPHA), digits),
                "margin95": noise.margin(scale, ALPHA / 2),
                "reason": None,
            }
    return out


def _hidden(reason: str) -> dict[str, Any]:
    return {"value": None, "n": None, "suppressed": True, "margin": None, "reason": reason}


def _lever(name: str, figures: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """A lever blended from its shown parts (the first of safety's is required)."""
    parts, weight = LEVER_PARTS[name]
    shown = [(f, into) for f, into in parts if not figures[f]["suppressed"]]
    required = name == "psychological_safety" and figures[parts[0][0]]["suppressed"]
    if not shown or required:
        reasons = [figures[f]["reason"] for f, _ in parts]
        if required:
            reasons = reasons[:1]
        with_data = [r for r in reasons if r != "no_data"]
        reason = (
            "no_data"
            if not with_data
            else "protects_smaller_group"
            if "protects_smaller_group" in with_data
            else "fewer_than_k"
            if "fewer_than_k" in with_data
            else "too_noisy"
        )
        return {**_hidden(reason), "parts": []}
    digits = _digits(shown[0][0])
    if len(shown) == 1:
        figure, into = shown[0]
        cell = figures[figure]
        value, margin = into(cell["value"]), cell["margin"]
    else:
        (a, into_a), (b, into_b) = shown
        value = weight * into_a(figures[a]["value"]) + (1 - weight) * into_b(figures[b]["value"])
        # Each part's 95% bound: the blend's error exceeds their weighted sum at most 10% of
        # the time (a union bound), so this is a conservative 90% margin.
        margin = weight * figures[a]["margin95"] + (1 - weight) * figures[b]["margin95"]
    return {
        "value": round(value, digits),
        "n": min(figures[f]["n"] for f, _ in shown),
        "suppressed": False,
        "margin": round(margin, digits),
        "reason": None,
        "parts": [f for f, _ in shown],
    }


def _public(cell: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in cell.items() if key != "margin95"}


def node_release(figures: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """One node's release from its figures: levers, pulse items, calendar components.

    Parameters:
        figures: figure name -> its cell (as :func:`release_tree` computes them).

    Returns:
        ``members`` (shown with participation), ``levers``, ``pulse_items``,
        ``time_pressure_components`` and ``reward_confirmation`` (the share of rewarded
        actions a confirmed reward rewarded), every hidden value with its ``reason``.
    """
    levers = {name: _lever(name, figures) for name in LEVER_NAMES}
    participation = figures["participation"]
    calendar = figures["calendar_pressure"]
    components: dict[str, Any] = {
        "people": calendar["n"],
        "suppressed": calendar["suppressed"],
        "reason": calendar["reason"],
    }
    for name in COMPONENTS:
        cell = figures[name] if not calendar["suppressed"] else calendar
        components[name] = cell["value"]
        components[f"{name}_margin"] = cell["margin"]
    return {
        "members": participation["n"],
        "levers": levers,
        "figures": {name: _public(figures[name]) for name in FIGURES},
        "pulse_items": {item: _public(figures[f"item:{item}"]) for item in ITEMS},
        "time_pressure_components": components,
        "reward_confirmation": _public(figures["confirmed_reward_share"]),
    }


def release_tree(
    root: str,
    children: Mapping[str, Sequence[str]],
    own: Mapping[str, Population],
    k: int,
    epsilon: float,
    noise: Noise,
) -> dict[str, dict[str, Any]]:
    """The release of every node of a tree for one week.

    Parameters:
        root: the top node (the organisation).
        children: node -> its child nodes.
        own: node -> the population of its own eligible members (and its pulse answers).
        k: the organisation's k at release time (raised to the floor).
        epsilon: the privacy budget of each node's week.
        noise: where the noise comes from.

    Returns:
        node -> :func:`node_release` of it, for the root and every node below it.
    """
    k = effective_k(k)
    totals = rollup(root, children, own)
    per_figure = {
        figure: _figure_cells(root, children, own, totals, figure, k, epsilon, noise)
        for figure in FIGURES
    }
    return {
        node: node_release({figure: per_figure[figure][node] for figure in FIGURES})
        for node in totals
    }

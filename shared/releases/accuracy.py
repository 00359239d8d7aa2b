"""How noisy a released figure is: the half-width of its 90% interval by population size
(the accuracy table of docs/privacy.md, printed by ``compound releases accuracy``)."""

from __future__ import annotations

from shared.domain.release_figures import budget_share
from shared.domain.releases import ALPHA, MAX_MARGIN_SHARE, noise_scale, too_noisy
from shared.releases.noise import OpenDPNoise

SIZES = (5, 10, 25, 100)
COLUMNS = (
    ("a lever's part (0-100: participation, a half of a lever)", "participation", ALPHA),
    ("a lever blended from two parts (weights 0.5)", "participation", ALPHA / 2),
    ("micro-advancement rate (actions per person, 0-10)", "micro_advancement_rate", ALPHA),
    ("a safety item or a calendar share (0-100, detail)", "meeting_share", ALPHA),
)


def accuracy_table(epsilon: float) -> str:
    """The accuracy table as Markdown.

    Parameters:
        epsilon: the privacy budget of one team-week (``COMPOUND_PRIVACY_EPSILON``).

    Returns:
        A table: one row per population size of :data:`SIZES`, one column per kind of
        figure, each cell ``± m``: 90% of releases fall within m of the exact figure, and
        "hidden" where m exceeds the bound (:data:`MAX_MARGIN_SHARE`); then the smallest n
        each kind of figure is published at.
    """
    noise = OpenDPNoise()
    head = "| n | " + " | ".join(title for title, _, _ in COLUMNS) + " |"
    lines = [
        f"Budget per team-week: epsilon = {epsilon:g}: each lever part spends "
        f"{epsilon * budget_share('participation'):.3f}, each detail figure (a safety item, a "
        "calendar component, the confirmed share of rewards) "
        f"{epsilon * budget_share('meeting_share'):.3f}.",
        "",
        head,
        "| " + " | ".join("---" for _ in range(len(COLUMNS) + 1)) + " |",
    ]
    for n in SIZES:
        cells = []
        for _, figure, alpha in COLUMNS:
            margin = noise.margin(noise_scale(figure, n, epsilon), alpha)
            cell = f"± {margin:.2f}" if figure == "micro_advancement_rate" else f"± {margin:.1f}"
            cells.append(f"{cell}, hidden" if too_noisy(figure, n, epsilon) else cell)
        lines.append(f"| {n} | " + " | ".join(cells) + " |")
    part, detail = smallest_n("participation", epsilon), smallest_n("meeting_share", epsilon)
    lines += [
        "",
        f"No figure is published whose 90% margin exceeds {MAX_MARGIN_SHARE:.0%} of its scale "
        f"(hidden: `too_noisy`): a lever's parts and the micro-advancement rate need n >= {part}, "
        f"a detail figure n >= {detail} (and every figure at least k people).",
    ]
    return "\n".join(lines)


def smallest_n(figure: str, epsilon: float) -> int:
    """The smallest population a figure is published at (whatever k is).

    Parameters:
        figure: a name of ``FIGURES``.
        epsilon: the team-week's budget.

    Returns:
        The smallest n that is not :func:`~shared.domain.releases.too_noisy`.
    """
    n = 1
    while too_noisy(figure, n, epsilon):
        n += 1
    return n

"""How noisy a released figure is: the half-width of its 90% interval by population size
(the accuracy table of docs/privacy.md, printed by ``compound releases accuracy``)."""

from __future__ import annotations

from shared.domain.release_figures import budget_share
from shared.domain.releases import ALPHA, noise_scale
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
        figure, each cell ``± m``: 90% of releases fall within m of the exact figure.
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
            cells.append(
                f"± {margin:.2f}" if figure == "micro_advancement_rate" else f"± {margin:.1f}"
            )
        lines.append(f"| {n} | " + " | ".join(cells) + " |")
    return "\n".join(lines)

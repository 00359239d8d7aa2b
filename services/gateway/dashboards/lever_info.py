"""What each lever is, in the seed article's words: its label, what raises and lowers it, its
nudge thresholds, and the smallest change since the week before a page calls better or worse
(docs/dashboards.md, "Changes since the week before")."""

from __future__ import annotations

from dataclasses import dataclass

from services.gateway.dashboards.wording import (
    ABOUT_THE_SAME,
    BETTER,
    NO_CHANGE,
    NO_COMPARISON,
    WORSE,
)
from shared.domain.nudges import (
    AMBIGUITY_HIGH,
    INCENTIVES_LOW,
    PARTICIPATION_LOW,
    SAFETY_LOW,
    TIME_PRESSURE_HIGH,
)


@dataclass(frozen=True)
class LeverInfo:
    key: str
    label: str
    short: str
    higher_is_better: bool
    concern: float  # the manager nudge's threshold
    good: float  # comfortably on the right side of it
    seed: str  # the seed article's sentence on this lever
    measure: str
    raises: tuple[str, ...]
    lowers: tuple[str, ...]
    unit: str = ""
    min_change: float = 5.0  # the smallest week-to-week change called better or worse
    more: str = ""  # what a rise means, for a lever where lower is better ("more pressure")
    less: str = ""


LEVERS: dict[str, LeverInfo] = {
    info.key: info
    for info in (
        LeverInfo(
            "psychological_safety",
            "Psychological safety",
            "Safety",
            True,
            SAFETY_LOW,
            70.0,
            "People are likelier to try small stretch moves if mistakes won't be punished.",
            "Edmondson's 7-item pulse scale (70%) and the share of members who tried a small "
            "stretch task (not one its counterpart declined) or asked for feedback that week "
            "(30%), 0-100.",
            (
                "Celebrating incremental contributions in public",
                "Safe feedback loops: one specific observation, never a verdict",
                "Treating a failed small experiment as information",
            ),
            ("Penalising failure", "Valuing only headline outcomes"),
        ),
        LeverInfo(
            "time_pressure",
            "Time pressure",
            "Pressure",
            False,
            TIME_PRESSURE_HIGH,
            45.0,
            "Chronic overload reduces the bandwidth for deliberate micro-investments.",
            "Calendar load (meeting share, missing focus blocks, after-hours and back-to-back "
            "meetings; 60%) and the workload pulse item (40%), 0-100: higher means more pressure.",
            ("Meeting-heavy weeks", "Meetings after hours", "Back-to-back meetings"),
            ("Protected focus blocks of two hours or more", "Meeting norms that free time"),
            more="more pressure",
            less="less pressure",
        ),
        LeverInfo(
            "clear_incentives",
            "Clear incentives",
            "Incentives",
            True,
            INCENTIVES_LOW,
            60.0,
            "When teams reward short, visible contributions (public praise, meeting invites) "
            "micro-advancements increase.",
            "The share of visible micro-actions followed within 14 days by recognition or an "
            "invitation (one naming a confirmer counts once they confirm it; 50%) and the "
            'pulse item "Small, visible contributions are noticed" (50%), 0-100.',
            ("Public praise for small visible contributions", "Invitations to the next meeting"),
            ("Rewarding only headline outcomes", "Contributions that go unanswered"),
        ),
        LeverInfo(
            "ambiguous_evaluation",
            "Ambiguous evaluation",
            "Ambiguity",
            False,
            AMBIGUITY_HIGH,
            40.0,
            "When performance metrics emphasize outputs only, subtle reputation-building "
            "behaviors can be ignored.",
            'The pulse item "I understand how my work is evaluated", reversed (50%), and the '
            "share of feedback asked on outputs only (50%), 0-100: higher means more ambiguous.",
            ("Saying how work is evaluated beyond outputs", "Feedback on how, not only on what"),
            ("Metrics on outputs only", "Reviews nobody can explain"),
            more="more ambiguity",
            less="less ambiguity",
        ),
        LeverInfo(
            "participation",
            "Participation",
            "Participation",
            True,
            PARTICIPATION_LOW,
            75.0,
            "The goal is steady accumulation, not theatrical displays.",
            "The share of members who logged at least one micro-action in the week.",
            ("Manageable commitments: 1-2 micro-actions a week", "A manager who shares theirs"),
            ("Overload", "Cultures that penalise failure: people withdraw"),
            "%",
            min_change=10.0,  # one person of a team of ten
        ),
    )
}
SHOWN = tuple(LEVERS)  # the four levers and participation, in the seed's order


def direction(lever: str, trend: float | None) -> str:
    """How a change since the week before reads: "better", "worse", "about the same" (under
    the lever's documented minimum change, docs/dashboards.md) or "no comparison"."""
    if trend is None:
        return NO_COMPARISON
    if trend == 0:
        return NO_CHANGE
    info = LEVERS[lever]
    if abs(trend) < info.min_change:
        return ABOUT_THE_SAME
    return BETTER if (trend > 0) == info.higher_is_better else WORSE


def trend_text(lever: str, trend: float | None) -> str:
    """A change as the page shows it: "▲ 6.0 (worse: more pressure)", "▼ 0.4 (about the
    same)"; the CSV has the signed number and the direction in columns of their own."""
    word = direction(lever, trend)
    if trend is None:
        return word
    if trend == 0:
        return f"0.0 ({word})"
    info = LEVERS[lever]
    arrow = "▲" if trend > 0 else "▼"
    if word != ABOUT_THE_SAME and info.more:
        word = f"{word}: {info.more if trend > 0 else info.less}"
    return f"{arrow} {abs(trend):.1f} ({word})"

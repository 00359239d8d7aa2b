"""What each lever is, in the seed article's words: its label, what raises and lowers it, its
nudge thresholds, and the smallest change since the week before a page calls better or worse
(docs/dashboards.md, "Changes since the week before"). The texts are marked for the
catalogue (``N_``) and translated where shown (:func:`label`, ``_(info.seed)`` in templates)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.gateway.dashboards.wording import (
    ABOUT_THE_SAME,
    BETTER,
    NO_CHANGE,
    NO_COMPARISON,
    WORSE,
    number,
)
from shared.domain.nudges import (
    AMBIGUITY_HIGH,
    INCENTIVES_LOW,
    PARTICIPATION_LOW,
    SAFETY_LOW,
    TIME_PRESSURE_HIGH,
)
from shared.i18n import N_, gettext


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
    rise: str = ""  # how a rise reads where lower is better ("worse: more pressure")
    fall: str = ""
    higher_means: str = ""  # the sparkline's caption where lower is better


LEVERS: dict[str, LeverInfo] = {
    info.key: info
    for info in (
        LeverInfo(
            "psychological_safety",
            N_("Psychological safety"),
            N_("Safety"),
            True,
            SAFETY_LOW,
            70.0,
            N_("People are likelier to try small stretch moves if mistakes won't be punished."),
            N_(
                "Edmondson's 7-item pulse scale (70%) and the share of members who tried a small "
                "stretch task (not one its counterpart declined) or asked for feedback that week "
                "(30%), 0-100."
            ),
            (
                N_("Celebrating incremental contributions in public"),
                N_("Safe feedback loops: one specific observation, never a verdict"),
                N_("Treating a failed small experiment as information"),
            ),
            (N_("Penalising failure"), N_("Valuing only headline outcomes")),
        ),
        LeverInfo(
            "time_pressure",
            N_("Time pressure"),
            N_("Pressure"),
            False,
            TIME_PRESSURE_HIGH,
            45.0,
            N_("Chronic overload reduces the bandwidth for deliberate micro-investments."),
            N_(
                "Calendar load (meeting share, missing focus blocks, after-hours and back-to-back "
                "meetings; 60%) and the workload pulse item (40%), 0-100: higher means more "
                "pressure."
            ),
            (
                N_("Meeting-heavy weeks"),
                N_("Meetings after hours"),
                N_("Back-to-back meetings"),
            ),
            (
                N_("Protected focus blocks of two hours or more"),
                N_("Meeting norms that free time"),
            ),
            rise=N_("worse: more pressure"),
            fall=N_("better: less pressure"),
            higher_means=N_("higher means more pressure"),
        ),
        LeverInfo(
            "clear_incentives",
            N_("Clear incentives"),
            N_("Incentives"),
            True,
            INCENTIVES_LOW,
            60.0,
            N_(
                "When teams reward short, visible contributions (public praise, meeting invites) "
                "micro-advancements increase."
            ),
            N_(
                "The share of visible micro-actions followed within 14 days by recognition or an "
                "invitation (one naming a confirmer counts once they confirm it; 50%) and the "
                'pulse item "Small, visible contributions are noticed" (50%), 0-100.'
            ),
            (
                N_("Public praise for small visible contributions"),
                N_("Invitations to the next meeting"),
            ),
            (N_("Rewarding only headline outcomes"), N_("Contributions that go unanswered")),
        ),
        LeverInfo(
            "ambiguous_evaluation",
            N_("Ambiguous evaluation"),
            N_("Ambiguity"),
            False,
            AMBIGUITY_HIGH,
            40.0,
            N_(
                "When performance metrics emphasize outputs only, subtle reputation-building "
                "behaviors can be ignored."
            ),
            N_(
                'The pulse item "I understand how my work is evaluated", reversed (50%), and the '
                "share of feedback asked on outputs only (50%), 0-100: higher means more "
                "ambiguous."
            ),
            (
                N_("Saying how work is evaluated beyond outputs"),
                N_("Feedback on how, not only on what"),
            ),
            (N_("Metrics on outputs only"), N_("Reviews nobody can explain")),
            rise=N_("worse: more ambiguity"),
            fall=N_("better: less ambiguity"),
            higher_means=N_("higher means more ambiguity"),
        ),
        LeverInfo(
            "participation",
            N_("Participation"),
            N_("Participation"),
            True,
            PARTICIPATION_LOW,
            75.0,
            N_("The goal is steady accumulation, not theatrical displays."),
            N_("The share of members who logged at least one micro-action in the week."),
            (
                N_("Manageable commitments: 1-2 micro-actions a week"),
                N_("A manager who shares theirs"),
            ),
            (N_("Overload"), N_("Cultures that penalise failure: people withdraw")),
            "%",
            min_change=10.0,  # one person of a team of ten
        ),
    )
}
SHOWN = tuple(LEVERS)  # the four levers and participation, in the seed's order


def label(lever: str) -> str:
    """A lever's name in the reader's language."""
    return gettext(LEVERS[lever].label)


def texts(lever: str) -> dict[str, Any]:
    """A lever's words in the reader's language, for its cards and detail page (translated
    here, not in a template: some hold a literal "%")."""
    info = LEVERS[lever]
    return {
        "label": gettext(info.label),
        "seed": gettext(info.seed),
        "measure": gettext(info.measure),
        "raises": [gettext(r) for r in info.raises],
        "lowers": [gettext(r) for r in info.lowers],
        "higher_means": gettext(info.higher_means) if info.higher_means else "",
    }


def direction(lever: str, trend: float | None) -> str:
    """How a change since the week before reads, untranslated (the CSV and the page
    translate it): "better", "worse", "about the same" (under the lever's minimum change,
    documented in docs/dashboards.md#changes-since-the-week-before), and otherwise
    "no change" or "no comparison"."""
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
        return gettext(word)
    if trend == 0:
        return f"{number(0.0)} ({gettext(word)})"
    info = LEVERS[lever]
    arrow = "▲" if trend > 0 else "▼"
    if word != ABOUT_THE_SAME and info.rise:
        word = info.rise if trend > 0 else info.fall
    return f"{arrow} {number(abs(trend))} ({gettext(word)})"

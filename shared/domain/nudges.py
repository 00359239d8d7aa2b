"""Nudges: rules over the read models, each citing the number that triggered it and the
seed article's practical step it comes from. At most three a week per person.

Employee rules read the person's own capital; manager rules read a team's week of levers,
and only cells that passed suppression (a hidden number never triggers a nudge, so a nudge
cannot leak one).

Texts are English (the API's); each nudge also carries ``because_text`` and ``because_args``
so that a page, a chat message or a digest shows it in its reader's language with
:func:`in_language` (the domain imports no catalogue: the caller passes its ``gettext``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any


def N_(message: str) -> str:
    """Marks ``message`` for the catalogue (shared/i18n extracts every ``N_("...")``)."""
    return message


DEPOSIT_WEEKS = 2
MAX_NUDGES = 3

# The seed's practical steps, quoted where a nudge comes from.
STEPS = {
    "relationship_deposit": N_(
        "Relationship deposits: brief interactions that build reciprocity "
        "(thank-you notes, one-minute check-ins)."
    ),
    "rotate": N_(
        "Rotate intentionally: alternate visibility-focused moves with private "
        "skill-building to avoid being all signal and no substance."
    ),
    "start_small": N_(
        "Start with manageable commitments (10-20 minutes a day or 1-2 "
        "micro-actions per week) and iterate."
    ),
    "feedback_loop": N_(
        "Ask for a micro-feedback loop: request one specific observation after a "
        'tiny action ("Was that summary useful?").'
    ),
    "protect_focus": N_(
        "Time pressure: chronic overload reduces the bandwidth for deliberate micro-investments."
    ),
    "celebrate": N_(
        "Organizations that celebrate incremental contributions and provide safe "
        "feedback loops make micro-advancement tactics thrive."
    ),
    "reward_visible": N_(
        "Clear incentives: when teams reward short, visible contributions "
        "(public praise, meeting invites) micro-advancements increase."
    ),
    "beyond_outputs": N_(
        "Ambiguous evaluation: when performance metrics emphasize outputs only, "
        "subtle reputation-building behaviors can be ignored."
    ),
}

# Manager thresholds (levers are 0-100; time pressure and ambiguity: higher is worse).
TIME_PRESSURE_HIGH = 60.0
SAFETY_LOW = 55.0
INCENTIVES_LOW = 40.0
AMBIGUITY_HIGH = 55.0
PARTICIPATION_LOW = 50.0


Because = tuple[str, dict[str, Any]]
"""Why a nudge fires: a message with ``%(name)s`` placeholders, and their values."""


def _nudge(
    rule: str, because: Because, value: Any, suggestion: str, step: str, weight: float
) -> dict[str, Any]:
    text, args = because
    return {
        "rule": rule,
        "because": text % {k: _plain(v) for k, v in args.items()} if args else text,
        "because_text": text,
        "because_args": args,
        "value": value,
        "suggestion": suggestion,
        "step": STEPS[step],
        "weight": weight,
    }


def _plain(value: Any) -> Any:
    """A number as the English text has always shown it (60.0 as "60")."""
    return f"{value:g}" if isinstance(value, float) else value


def in_language(
    nudge: Mapping[str, Any],
    gettext: Callable[..., str],
    number: Callable[[Any], str] = str,
) -> dict[str, Any]:
    """A nudge with its texts in the reader's language.

    Parameters:
        nudge: one of :func:`employee_nudges` or :func:`manager_nudges`.
        gettext: the catalogue's ``gettext(message, **values)`` (``shared.i18n.gettext``).
        number: how a number is written in that language (``shared.i18n.format_number``).

    Returns:
        The same nudge, ``suggestion``, ``because`` and ``step`` translated.
    """
    args = {
        k: number(v) if isinstance(v, int | float) and not isinstance(v, bool) else v
        for k, v in (nudge.get("because_args") or {}).items()
    }
    because = nudge.get("because_text") or nudge["because"]
    return {
        **nudge,
        "suggestion": gettext(nudge["suggestion"]),
        "because": gettext(because, **args) if args else gettext(because),
        "step": gettext(nudge["step"]),
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
                (
                    N_("no relationship deposit in the last %(weeks)s weeks"),
                    {"weeks": DEPOSIT_WEEKS},
                )
                if weeks is None
                else (
                    N_("your last relationship deposit was %(weeks)s weeks ago"),
                    {"weeks": weeks},
                ),
                weeks,
                N_("Send a thank-you note or do a one-minute check-in with a teammate."),
                "relationship_deposit",
                2.0,
            )
        )
    if "all_signal_no_substance" in capital.get("flags", []):
        ratio = capital.get("signal_vs_substance", {}).get("ratio")
        nudges.append(
            _nudge(
                "all_signal_no_substance",
                (N_("no colleague confirmed any capability of yours over 4 weeks"), {})
                if ratio is None
                else (
                    N_("visibility is %(ratio)sx the capability colleagues confirmed over 4 weeks"),
                    {"ratio": ratio},
                ),
                ratio,
                N_(
                    "Alternate with private skill-building: a short stretch task, then ask one "
                    "colleague whether it was useful."
                ),
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
                (
                    N_(
                        "no micro-action this week or last; active weeks: %(active)s of the "
                        "last %(span)s"
                    ),
                    {"active": active, "span": consistency.get("span")},
                ),
                active,
                N_("Pick one or two micro-actions for this week and put them in your plan."),
                "start_small",
                1.0,
            )
        )
    return _top(nudges)


MANAGER_RULES: tuple[tuple[str, str, bool, float, str, str, str], ...] = (
    (
        "psychological_safety",
        "celebrate_and_safe_feedback",
        False,
        SAFETY_LOW,
        N_("psychological safety is %(value)s (threshold %(threshold)s)"),
        N_(
            "Celebrate incremental contributions in public and set up safe feedback "
            "loops: ask for one specific observation, never a verdict."
        ),
        "celebrate",
    ),
    (
        "clear_incentives",
        "reward_small_visible_contributions",
        False,
        INCENTIVES_LOW,
        N_("clear incentives is %(value)s (threshold %(threshold)s)"),
        N_(
            "Answer small visible contributions within days: public praise, an "
            "invitation to the next planning meeting."
        ),
        "reward_visible",
    ),
    (
        "ambiguous_evaluation",
        "explain_evaluation",
        True,
        AMBIGUITY_HIGH,
        N_("ambiguous evaluation is %(value)s (threshold %(threshold)s)"),
        N_("Say how work is evaluated beyond outputs, and give feedback on how, not only on what."),
        "beyond_outputs",
    ),
    (
        "participation",
        "start_small_together",
        False,
        PARTICIPATION_LOW,
        N_("%(value)s%% of the team logged a micro-action this week (threshold %(threshold)s%%)"),
        N_("Invite everyone to pick one or two micro-actions a week; share yours first."),
        "start_small",
    ),
)
"""The manager rules after time pressure: (lever, rule, fires when high (else when low),
threshold, why, suggestion, the seed's step), in the order they are weighed."""


def _focus_nudge(pressure: float, components: Mapping[str, Any]) -> dict[str, Any]:
    share = None if components.get("suppressed", True) else components.get("meeting_share")
    because: Because = (
        N_("time pressure is %(value)s (threshold %(threshold)s)"),
        {"value": pressure, "threshold": TIME_PRESSURE_HIGH},
    )
    if share is not None:
        because = (
            N_(
                "time pressure is %(value)s (threshold %(threshold)s); meetings fill "
                "%(share)s%% of working hours"
            ),
            {**because[1], "share": share},
        )
    return _nudge(
        "protect_focus_blocks",
        because,
        pressure,
        N_("Protect focus blocks: two meeting-free hours a day, and no meetings after hours."),
        "protect_focus",
        pressure - TIME_PRESSURE_HIGH,
    )


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
        nudges.append(_focus_nudge(pressure, components))
    for lever, rule, when_high, threshold, because, suggestion, step in MANAGER_RULES:
        value = shown(lever)
        if value is None or (value < threshold if when_high else value >= threshold):
            continue
        args = {"value": value, "threshold": threshold}
        excess = value - threshold if when_high else threshold - value
        nudges.append(_nudge(rule, (because, args), value, suggestion, step, excess))
    return _top(nudges)

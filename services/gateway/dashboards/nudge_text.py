"""The manager nudges of shared/domain/nudges.py in the reader's language: each rule's
suggestion, the sentence citing its number, and the seed's step, as whole sentences for the
catalogue (the read model keeps the English; ``tests/dashboards/test_languages.py`` checks
that these say the same in English)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from shared.domain import nudges as rules
from shared.i18n import N_, format_decimal, format_percent, gettext

SUGGESTIONS = {
    "protect_focus_blocks": N_(
        "Protect focus blocks: two meeting-free hours a day, and no meetings after hours."
    ),
    "celebrate_and_safe_feedback": N_(
        "Celebrate incremental contributions in public and set up safe feedback loops: ask "
        "for one specific observation, never a verdict."
    ),
    "reward_small_visible_contributions": N_(
        "Answer small visible contributions within days: public praise, an invitation to the "
        "next planning meeting."
    ),
    "explain_evaluation": N_(
        "Say how work is evaluated beyond outputs, and give feedback on how, not only on what."
    ),
    "start_small_together": N_(
        "Invite everyone to pick one or two micro-actions a week; share yours first."
    ),
}
BECAUSE = {
    "protect_focus_blocks": N_("time pressure is %(value)s (threshold %(threshold)s)"),
    "celebrate_and_safe_feedback": N_(
        "psychological safety is %(value)s (threshold %(threshold)s)"
    ),
    "reward_small_visible_contributions": N_(
        "clear incentives is %(value)s (threshold %(threshold)s)"
    ),
    "explain_evaluation": N_("ambiguous evaluation is %(value)s (threshold %(threshold)s)"),
    "start_small_together": N_(
        "%(value)s of the team logged a micro-action this week (threshold %(threshold)s)"
    ),
}
MEETINGS = N_(
    "time pressure is %(value)s (threshold %(threshold)s); meetings fill %(share)s of working hours"
)
THRESHOLDS = {
    "protect_focus_blocks": rules.TIME_PRESSURE_HIGH,
    "celebrate_and_safe_feedback": rules.SAFETY_LOW,
    "reward_small_visible_contributions": rules.INCENTIVES_LOW,
    "explain_evaluation": rules.AMBIGUITY_HIGH,
    "start_small_together": rules.PARTICIPATION_LOW,
}
STEPS = {
    "protect_focus_blocks": N_(
        "Time pressure: chronic overload reduces the bandwidth for deliberate micro-investments."
    ),
    "celebrate_and_safe_feedback": N_(
        "Organizations that celebrate incremental contributions and provide safe feedback "
        "loops make micro-advancement tactics thrive."
    ),
    "reward_small_visible_contributions": N_(
        "Clear incentives: when teams reward short, visible contributions (public praise, "
        "meeting invites) micro-advancements increase."
    ),
    "explain_evaluation": N_(
        "Ambiguous evaluation: when performance metrics emphasize outputs only, subtle "
        "reputation-building behaviors can be ignored."
    ),
    "start_small_together": N_(
        "Start with manageable commitments (10-20 minutes a day or 1-2 micro-actions per "
        "week) and iterate."
    ),
}
_SHARE = re.compile(r"meetings fill ([\d.]+)%")


def _figure(value: float, percent: bool, whole: bool = False) -> str:
    """A value with one decimal as the rules print it ("66.7", "33.3%"), a threshold without
    ("60", "50%")."""
    digits = 0 if whole and value == int(value) else 1
    if percent:
        return format_percent(value / 100.0, digits=digits)
    return format_decimal(value, digits)


def nudge_row(nudge: Mapping[str, Any]) -> tuple[str, str, str]:
    """A manager nudge's suggestion, its reason with its number and the seed's step, in the
    reader's language (an unknown rule: the read model's English)."""
    rule = nudge.get("rule", "")
    if rule not in SUGGESTIONS:
        return nudge["suggestion"], nudge["because"], nudge["step"]
    percent = rule == "start_small_together"
    values = {
        "value": _figure(nudge["value"], percent),
        "threshold": _figure(THRESHOLDS[rule], percent, whole=True),
    }
    share = _SHARE.search(nudge["because"])
    if share:
        because = gettext(MEETINGS, share=_figure(float(share.group(1)), True), **values)
    else:
        because = gettext(BECAUSE[rule], **values)
    return gettext(SUGGESTIONS[rule]), because, gettext(STEPS[rule])

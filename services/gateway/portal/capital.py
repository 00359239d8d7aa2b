"""My capital: the three dimensions over 12 weeks (a chart and its table), signal vs
substance, rotation, tactic conversion, the streak, where each score comes from, this week's
nudges and the seed's questions as a weekly reflection (my actions: ``history``)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from flask import render_template

from services.gateway.portal.blueprint import bp
from services.gateway.portal.forms import as_of, me, seen
from services.gateway.portal.today import OUTCOME_LABELS
from services.gateway.resources import resources
from shared.domain.nudges import employee_nudges, in_language
from shared.domain.scoring import Absence, ActiveDays
from shared.domain.tactics import TACTICS
from shared.domain.weeks import label_index
from shared.i18n import (
    N_,
    format_date,
    format_number,
    format_percent,
    gettext,
    ngettext,
    week_label,
)
from shared.projections.capital.memo import read_capital_seen

DIMENSIONS = {
    "capability": N_("Capability"),
    "visibility": N_("Visibility"),
    "relationships": N_("Relationships"),
}
HISTORY_WEEKS = 12


def reflection(capital: dict[str, Any]) -> list[dict[str, str]]:
    """The seed's "questions to ask", each beside the number of mine that bears on it."""
    signal = capital["signal_vs_substance"]
    rotation = capital["rotation"]
    conversion = capital["tactic_conversion"]
    converting = sorted(
        (t for t, c in conversion.items() if c["outcomes"]),
        key=lambda t: -conversion[t]["rate"],
    )
    if signal["ratio"] is None and not rotation["actions"]:
        substance = gettext("No actions in the last 4 weeks.")
    elif signal["ratio"] is not None:
        substance = gettext(
            "Visibility is %(ratio)sx the capability colleagues confirmed over the last 4 weeks.",
            ratio=format_number(signal["ratio"]),
        )
    else:
        substance = gettext(
            "No colleague confirmed capability in the last 4 weeks: ask one for a "
            "micro-feedback after a stretch task."
        )
    if rotation["visible_share"] is None:
        seen_by = gettext("No actions in the last 4 weeks.")
    else:
        seen_by = ngettext(
            "%(share)s of your last %(num)d action was seen by your team or decision-makers.",
            "%(share)s of your last %(num)d actions were seen by your team or decision-makers.",
            rotation["actions"],
            share=format_percent(rotation["visible_share"]),
        )
    score = format_number(capital["scores"]["relationships"]["value"])
    if converting:
        names = ", ".join(gettext(TACTICS[t].label) for t in converting)
        paying = gettext(
            "Relationships score %(score)s; tactics that led to outcomes: %(tactics)s.",
            score=score,
            tactics=names,
        )
    else:
        paying = gettext(
            "Relationships score %(score)s; no outcome credited to a tactic yet.", score=score
        )
    return [
        {
            "question": gettext(
                "Which of my current small behaviours actually increase my capability "
                "versus just my visibility?"
            ),
            "evidence": substance,
        },
        {
            "question": gettext(
                "Who notices these actions, and who needs to notice for them to matter?"
            ),
            "evidence": seen_by,
        },
        {
            "question": gettext(
                "Am I building relationships that can lead to sponsorship, or only "
                "shallow recognition?"
            ),
            "evidence": paying,
        },
        {
            "question": gettext(
                "Which system-level changes would amplify or undercut these habits "
                "(performance reviews, meeting norms, incentives)?"
            ),
            "evidence": gettext("Your weekly pulse answers feed your team's levers, anonymously."),
        },
    ]


def shown_nudges(nudges: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Nudges in the reader's language, their numbers written as the language writes them
    (for every page that shows an employee's or a manager's nudges)."""
    return [in_language(n, gettext, format_number) for n in nudges]


def leave_shares(leave: list[dict[str, str]], weeks: list[str]) -> list[float]:
    """The share (0..1) of each ISO week the person declared away."""
    clock = ActiveDays(
        Absence(date.fromisoformat(a["starts_on"]), date.fromisoformat(a["ends_on"])) for a in leave
    )
    return [round(clock.away_share(label_index(week)), 2) for week in weeks]


@bp.get("/capital")
def capital() -> Any:
    user = me()
    position = seen("capital")
    with resources().engine.connect() as conn:
        today = datetime.now(UTC).date()
        mine = read_capital_seen(conn, user.tenant_id, user.person_id, today, position, True)
    history = mine["history"][-HISTORY_WEEKS:]
    away = leave_shares(mine["leave"], [h["week"] for h in history])
    chart = {
        "labels": [week_label(h["week"]) for h in history],
        "series": [
            {"key": key, "label": gettext(label), "values": [h[key] for h in history]}
            for key, label in DIMENSIONS.items()
        ],
        "leave": away,
    }
    conversion = sorted(mine["tactic_conversion"].items(), key=lambda kv: (-kv[1]["rate"], kv[0]))
    return render_template(
        "portal/capital.html",
        capital=mine,
        history=history,
        away=away,
        chart=chart,
        dimensions={key: gettext(label) for key, label in DIMENSIONS.items()},
        conversion=conversion,
        nudges=shown_nudges(employee_nudges(mine)),
        questions=reflection(mine),
        leave_periods="; ".join(
            gettext(
                "%(first)s to %(last)s",
                first=format_date(date.fromisoformat(a["starts_on"])),
                last=format_date(date.fromisoformat(a["ends_on"])),
            )
            for a in mine["leave"]
        ),
        tactics=TACTICS,
        outcome_labels=OUTCOME_LABELS,
        as_of_position=as_of(position),
        empty=not any(h[k] for h in history for k in DIMENSIONS),
    )

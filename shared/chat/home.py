"""The App Home tab: this week's plan with ticks, the streak and the next suggested action,
published for one person (``views.publish`` with their Slack user id: no one else sees it).

Pure: no I/O. The worker reads the same read models as the portal's Today page (the plan,
the capital with its streak and next actions, the nudges) and hands them here, in the
person's locale (``use_locale``).
"""

from __future__ import annotations

from typing import Any

from shared.domain.tactics import TACTICS
from shared.i18n import format_decimal, format_week, gettext, ngettext


def _section(text: str, markdown: bool = True) -> dict[str, Any]:
    kind = "mrkdwn" if markdown else "plain_text"
    return {"type": "section", "text": {"type": kind, "text": text[:3000]}}


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def next_suggestion(capital: dict[str, Any], nudges: list[dict[str, Any]]) -> str:
    """The one thing to do next: this week's first nudge, else the tactic whose action
    would raise a score the most (with the seed's example), else a start.

    Parameters:
        capital: as :func:`shared.projections.capital.read_capital` reads it.
        nudges: :func:`shared.domain.nudges.employee_nudges` of it.
    """
    if nudges:
        return gettext(str(nudges[0]["suggestion"]))
    options = list((capital.get("next_action") or {}).values())
    if not options:
        return gettext("Log one micro-action: /compound.")
    best = max(options, key=lambda o: (o["gain_if_confirmed"], o["tactic"]))
    return gettext(
        "%(tactic)s: %(example)s (+%(gain)s points, +%(confirmed)s if a colleague confirms it)",
        tactic=gettext(TACTICS[best["tactic"]].label),
        example=gettext(str(best["example"])),
        gain=format_decimal(best["gain"]),
        confirmed=format_decimal(best["gain_if_confirmed"]),
    )


def home_view(
    plan: dict[str, Any], streak: dict[str, Any], suggestion: str, portal_url: str
) -> dict[str, Any]:
    """The Home tab's view.

    Parameters:
        plan: :func:`shared.projections.journal.read_plan` of this week.
        streak: the capital's ``consistency`` (``streak``, ``active_weeks``, ``span``).
        suggestion: :func:`next_suggestion`.
        portal_url: the portal's address (no trailing slash).

    Returns:
        A ``home`` view for ``views.publish``.
    """
    weeks = int(streak.get("streak") or 0)
    heading = gettext("Your week (%(week)s)", week=format_week(str(plan["week"])))
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": heading[:150]}},
    ]
    items = plan.get("items") or []
    title = gettext("This week's plan")
    if items:
        ticks = [
            f"{'☑' if item['done'] else '☐'} {_escape(gettext(TACTICS[item['tactic']].label))}"
            for item in items
            if item["tactic"] in TACTICS
        ]
        done = gettext("%(done)d of %(planned)d done", done=plan["done"], planned=plan["planned"])
        blocks.append(_section(f"*{title}* ({done})\n" + "\n".join(ticks)))
    else:
        make_one = _escape(gettext("make one on the portal"))
        make_one = f"<{portal_url}/plan|{make_one}>"
        no_plan = gettext("No plan yet: %(link)s.", link=make_one)
        blocks.append(_section(f"*{title}*\n{no_plan}"))
    in_a_row = ngettext("%(num)d week in a row", "%(num)d weeks in a row", weeks)
    active = ngettext(
        "%(active)d of the last %(num)d week",
        "%(active)d of the last %(num)d weeks",
        int(streak.get("span", 0)),
        active=int(streak.get("active_weeks", 0)),
    )
    streak_title, next_title = gettext("Streak"), gettext("Next")
    blocks.append(_section(f"*{streak_title}*: {in_a_row} ({active})"))
    blocks.append(_section(f"*{next_title}*: {_escape(suggestion)}"))
    blocks.append(
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": "home_open_portal",
                    "text": {"type": "plain_text", "text": gettext("Open Compound")},
                    "url": f"{portal_url}/",
                }
            ],
        }
    )
    blocks.append(
        {
            "type": "context",
            "elements": [{"type": "plain_text", "text": gettext("Only you see this tab.")}],
        }
    )
    return {"type": "home", "blocks": blocks}


def link_view(text: str) -> dict[str, Any]:
    """The Home tab of a Slack user not linked to a person: how to link, nothing else."""
    return {"type": "home", "blocks": [_section(text)]}

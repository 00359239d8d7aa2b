"""The App Home tab: this week's plan with ticks, the streak and the next suggested action,
published for one person (``views.publish`` with their Slack user id: no one else sees it).

Pure: no I/O. The worker reads the same read models as the portal's Today page (the plan,
the capital with its streak and next actions, the nudges) and hands them here.
"""

from __future__ import annotations

from typing import Any

from shared.domain.tactics import TACTICS


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
        return str(nudges[0]["suggestion"])
    options = list((capital.get("next_action") or {}).values())
    if not options:
        return "Log one micro-action: /compound."
    best = max(options, key=lambda o: (o["gain_if_confirmed"], o["tactic"]))
    label = TACTICS[best["tactic"]].label
    return (
        f"{label}: {best['example']} (+{best['gain']} points, "
        f"+{best['gain_if_confirmed']} if a colleague confirms it)"
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
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": f"Your week {plan['week']}"}},
    ]
    items = plan.get("items") or []
    if items:
        ticks = [
            f"{'☑' if item['done'] else '☐'} {TACTICS[item['tactic']].label}"
            for item in items
            if item["tactic"] in TACTICS
        ]
        done = f"{plan['done']} of {plan['planned']} done"
        blocks.append(_section(f"*This week's plan* ({done})\n" + "\n".join(ticks)))
    else:
        blocks.append(
            _section(
                f"*This week's plan*\nNo plan yet: <{portal_url}/plan|make one on the portal>."
            )
        )
    blocks.append(
        _section(
            f"*Streak*: {weeks} week{'' if weeks == 1 else 's'} in a row "
            f"({streak.get('active_weeks', 0)} of the last {streak.get('span', 0)} weeks)"
        )
    )
    blocks.append(_section(f"*Next*: {_escape(suggestion)}"))
    blocks.append(
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": "home_open_portal",
                    "text": {"type": "plain_text", "text": "Open Compound"},
                    "url": f"{portal_url}/",
                }
            ],
        }
    )
    blocks.append(
        {
            "type": "context",
            "elements": [{"type": "plain_text", "text": "Only you see this tab."}],
        }
    )
    return {"type": "home", "blocks": blocks}


def link_view(text: str) -> dict[str, Any]:
    """The Home tab of a Slack user not linked to a person: how to link, nothing else."""
    return {"type": "home", "blocks": [_section(text)]}

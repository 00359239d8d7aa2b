"""Direct messages with buttons (Block Kit), and reading the clicks that come back.

Pure: no I/O. Micro-feedback: the colleague a feedback request names gets the question with
"Useful" / "Not useful" buttons; the click answers the request as that colleague (a confirmed
answer, as from the link mailed to them). Written in the current locale: the caller sets
the colleague's (``use_locale``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from shared.domain.tactics import TACTICS
from shared.i18n import gettext, ngettext

FEEDBACK_ACTIONS = {"feedback_useful": True, "feedback_not_useful": False}
"""The buttons' ``action_id`` and the answer each gives."""


@dataclass(frozen=True)
class FeedbackClick:
    """A click on a feedback button: which request, and the answer."""

    owner: uuid.UUID
    request_id: uuid.UUID
    useful: bool


def feedback_message(
    asker: str, question: str, owner: uuid.UUID, request_id: uuid.UUID
) -> tuple[str, list[dict[str, Any]]]:
    """The direct message asking the named colleague.

    Parameters:
        asker: the asker's name.
        question: their question.
        owner: the asker's person id (the request lives in their journal).
        request_id: the request.

    Returns:
        The message's plain text (notifications) and its blocks.
    """
    text = gettext("%(asker)s asks you: %(question)s", asker=asker, question=question)
    value = f"{owner}:{request_id}"
    buttons = [
        {
            "type": "button",
            "action_id": action,
            "text": {"type": "plain_text", "text": answer_label(useful)},
            "value": value,
            **({"style": "primary"} if useful else {}),
        }
        for action, useful in FEEDBACK_ACTIONS.items()
    ]
    return text, [
        {"type": "section", "text": {"type": "plain_text", "text": text[:3000]}},
        {"type": "actions", "block_id": "feedback", "elements": buttons},
        {
            "type": "context",
            "elements": [
                {"type": "plain_text", "text": gettext("One click answers; it counts as yours.")}
            ],
        },
    ]


def answer_label(useful: bool) -> str:
    """A feedback button's label, and the answer it gives as a thank-you names it."""
    return gettext("Useful") if useful else gettext("Not useful")


def logged(tactic: str, minutes: int) -> str:
    """The confirmation of a logged action (Slack and Teams say the same)."""
    return ngettext(
        "Logged: %(tactic)s, %(num)d minute.",
        "Logged: %(tactic)s, %(num)d minutes.",
        minutes,
        tactic=gettext(TACTICS[tactic].label),
    )


def thanks(useful: bool) -> str:
    """The thank-you for a feedback answer given by a button."""
    return gettext("Thank you: your answer (%(answer)s) is recorded.", answer=answer_label(useful))


def read_feedback_click(action: dict[str, Any]) -> FeedbackClick | None:
    """The feedback a ``block_actions`` action gives, or None when it is not a feedback button.

    Parameters:
        action: one entry of the payload's ``actions``.

    Returns:
        The click, or None (another button, or a value not made by :func:`feedback_message`).
    """
    useful = FEEDBACK_ACTIONS.get(str(action.get("action_id")))
    owner, _, request = str(action.get("value", "")).partition(":")
    if useful is None:
        return None
    try:
        return FeedbackClick(uuid.UUID(owner), uuid.UUID(request), useful)
    except ValueError:
        return None

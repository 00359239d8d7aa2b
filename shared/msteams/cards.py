"""The Adaptive Cards the Teams bot sends, and the reading of what comes back.

Pure: no I/O. The log card offers the seed's tactics, the minutes, the audience and a private
note; its submission is checked by the rules of the Slack modal and the API's ``ActionIn``
(:func:`shared.chat.modal.read_submission`), and a wrong field is answered with the card
again, the message under that field. The feedback card carries "Useful" / "Not useful".
Every text is in the current locale: the caller sets the person's (``use_locale``).
"""

from __future__ import annotations

import uuid
from typing import Any

from shared.chat.messages import FeedbackClick, answer_label
from shared.chat.modal import ACTION, AUDIENCE_LABELS, MINUTES_MAX, NOTE_MAX, LoggedAction
from shared.chat.modal import read_submission as read_modal
from shared.domain.nudges import MAX_NUDGES
from shared.domain.tactics import AUDIENCES, TACTICS
from shared.i18n import format_week, gettext
from shared.projections.digests import nudge_texts

CARD = "application/vnd.microsoft.card.adaptive"
VERSION = "1.4"
LOG = "log"
FEEDBACK = "feedback"
FIELDS = ("tactic", "minutes", "audience", "note")


def attachment(body: list[dict[str, Any]], actions: list[dict[str, Any]]) -> dict[str, Any]:
    """An Adaptive Card as a message attachment."""
    return {
        "contentType": CARD,
        "content": {
            "type": "AdaptiveCard",
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "version": VERSION,
            "body": body,
            "actions": actions,
        },
    }


def message(text: str, card: dict[str, Any] | None = None) -> dict[str, Any]:
    """A message activity: ``text`` (what notifications show), and a card."""
    return {
        "type": "message",
        "text": text,
        **({"attachments": [card]} if card else {}),
    }


def _text(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": text, "wrap": True, **style}


def _error(errors: dict[str, str], name: str) -> list[dict[str, Any]]:
    """The message under a wrong field (red, as the card's own checks show theirs)."""
    if name not in errors:
        return []
    return [_text(errors[name], color="Attention", size="Small", id=f"{name}_error")]


def log_card(
    values: dict[str, Any] | None = None, errors: dict[str, str] | None = None
) -> dict[str, Any]:
    """The card that logs a micro-action.

    Parameters:
        values: what was submitted before (kept when the card comes back with errors).
        errors: field -> message, each shown under its field.

    Returns:
        The attachment.
    """
    was, wrong = values or {}, errors or {}
    choices = [{"title": gettext(t.label), "value": t.name} for t in TACTICS.values()]
    audiences = [{"title": gettext(AUDIENCE_LABELS[a]), "value": a} for a in AUDIENCES]
    body = [
        _text(gettext("Log a micro-action"), weight="Bolder", size="Medium"),
        {
            "type": "Input.ChoiceSet",
            "id": "tactic",
            "label": gettext("What did you do?"),
            "style": "expanded",
            "isRequired": True,
            "errorMessage": gettext("Choose what you did."),
            "choices": choices,
            **({"value": str(was["tactic"])} if was.get("tactic") else {}),
        },
        *_error(wrong, "tactic"),
        {
            "type": "Input.Number",
            "id": "minutes",
            "label": gettext("Minutes"),
            "min": 1,
            "max": MINUTES_MAX,
            "isRequired": True,
            "errorMessage": gettext("Enter whole minutes from 1 to %(max)d.", max=MINUTES_MAX),
            "value": was.get("minutes") or 15,
        },
        *_error(wrong, "minutes"),
        {
            "type": "Input.ChoiceSet",
            "id": "audience",
            "label": gettext("Who saw it?"),
            "style": "expanded",
            "choices": audiences,
            "value": str(was.get("audience") or "private"),
        },
        *_error(wrong, "audience"),
        {
            "type": "Input.Text",
            "id": "note",
            "label": gettext("Note (only you see it)"),
            "isMultiline": True,
            "maxLength": NOTE_MAX,
            **({"value": str(was["note"])} if was.get("note") else {}),
        },
        *_error(wrong, "note"),
    ]
    submit = {"type": "Action.Submit", "title": gettext("Log"), "data": {"action": LOG}}
    return attachment(body, [submit])


def read_log(value: dict[str, Any]) -> LoggedAction | dict[str, str]:
    """Check a submitted log card's ``value`` (input id -> what was chosen or typed).

    Returns:
        The action to log, or one message per wrong field.
    """
    fields = {}
    for name in FIELDS:
        raw = value.get(name)
        text = str(raw) if isinstance(raw, (str, int)) and not isinstance(raw, bool) else None
        if isinstance(raw, float) and raw.is_integer():
            text = str(int(raw))  # Input.Number may come back as 15.0
        fields[name] = {ACTION: {"value": text}}
    return read_modal(fields)


def feedback_card(
    asker: str, question: str, owner: uuid.UUID, request_id: uuid.UUID
) -> dict[str, Any]:
    """The message asking the named colleague, with "Useful" / "Not useful"."""
    text = gettext("%(asker)s asks you: %(question)s", asker=asker, question=question)
    data = {"action": FEEDBACK, "owner": str(owner), "request_id": str(request_id)}
    card = attachment(
        [
            _text(text[:3000]),
            _text(gettext("One click answers; it counts as yours."), size="Small"),
        ],
        [
            {
                "type": "Action.Submit",
                "title": answer_label(useful),
                "data": {**data, "useful": useful},
            }
            for useful in (True, False)
        ],
    )
    return message(text, card)


def read_feedback(value: dict[str, Any]) -> FeedbackClick | None:
    """The feedback a submitted feedback card gives, or None (not one of ours)."""
    useful = value.get("useful")
    if value.get("action") != FEEDBACK or not isinstance(useful, bool):
        return None
    try:
        return FeedbackClick(
            uuid.UUID(str(value.get("owner"))), uuid.UUID(str(value.get("request_id"))), useful
        )
    except ValueError:
        return None


def link_card(url: str) -> dict[str, Any]:
    """The answer to a Teams user not linked to a person yet."""
    text = gettext("Link your Teams account to Compound first (the link works for an hour).")
    link = {"type": "Action.OpenUrl", "title": gettext("Link your account"), "url": url}
    card = attachment([_text(text)], [link])
    return message(text, card)


def _nudges(nudges: list[dict[str, Any]]) -> list[dict[str, Any]]:
    containers = []
    for nudge in nudges[:MAX_NUDGES]:
        suggestion, why, step = nudge_texts(nudge)
        items = [_text(suggestion, weight="Bolder"), _text(why), _text(step, isSubtle=True)]
        containers.append({"type": "Container", "items": items})
    return containers


def digest_card(digest: dict[str, Any], portal_url: str, pulse: bool) -> dict[str, Any]:
    """The weekly digest (as :func:`shared.chat.digest_message.digest_message` says it): the
    person's own nudges, a manager's teams' nudges, the pulse reminder.

    Parameters:
        digest: as :func:`shared.projections.digests.digest_for` builds it.
        portal_url: the portal's public address (no trailing slash).
        pulse: whether to remind the person of their team's pulse.
    """
    heading = gettext("Your week in Compound (%(week)s)", week=format_week(str(digest["week"])))
    own: list[dict[str, Any]] = list(digest.get("nudges") or [])
    body = [_text(heading, weight="Bolder", size="Medium"), *_nudges(own)]
    if not own:
        body.append(_text(gettext("No nudge this week.")))
    for team in digest.get("teams") or []:
        body.append(_text(gettext("Team %(name)s", name=team["name"]), weight="Bolder"))
        body.extend(_nudges(list(team["nudges"])))
    actions = []
    if pulse:
        body.append(_text(gettext("This week's pulse takes a minute (anonymous).")))
        answer = gettext("Answer the pulse")
        actions.append({"type": "Action.OpenUrl", "title": answer, "url": f"{portal_url}/pulse"})
    body.append(_text(gettext("Only you see this message."), size="Small", isSubtle=True))
    first = nudge_texts(own[0])[0] if own else gettext("no nudge this week")
    text = gettext("%(heading)s: %(first)s", heading=heading, first=first)
    return message(text[:3000], attachment(body, actions))

"""The ``/compound`` modal (Block Kit) and the reading of its submission.

Pure: no I/O. The modal offers the seed's tactics as one-tap choices, the minutes, the
audience and a private note. :func:`read_submission` checks the fields as the API's
``ActionIn`` does (services/gateway/api/schemas.py) and names each wrong one by its block, as
Slack's ``response_action: errors`` wants. Every text is in the current locale: the caller
sets the person's (``use_locale``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.domain.tactics import AUDIENCES, TACTICS
from shared.i18n import N_, format_number, gettext

CALLBACK_ID = "compound_log"
ACTION = "value"
"""Every input's ``action_id``: the block id names the field."""
MINUTES_MAX = 480
NOTE_MAX = 2000
AUDIENCE_LABELS = {
    "private": N_("Just me"),
    "team": N_("My team"),
    "decision_makers": N_("Decision-makers"),
}
"""Who saw an action, as the modal and the Teams card offer it (translated where shown)."""


@dataclass(frozen=True)
class LoggedAction:
    """A checked submission: what ``JournalCommands.log_action`` takes."""

    tactic: str
    minutes: int
    audience: str
    note: str | None


def _option(value: str, label: str) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": label[:75]}, "value": value}


def _input(
    block_id: str, label: str, element: dict[str, Any], optional: bool = False
) -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": block_id,
        "label": {"type": "plain_text", "text": label},
        "element": {**element, "action_id": ACTION},
        "optional": optional,
    }


def log_modal(note: str | None = None) -> dict[str, Any]:
    """The modal ``views.open`` shows for ``/compound``.

    Parameters:
        note: text to start the note with (a message shortcut's message, the command's text).

    Returns:
        The view (Block Kit JSON).
    """
    note_element: dict[str, Any] = {"type": "plain_text_input", "multiline": True}
    if note:
        note_element["initial_value"] = note[:NOTE_MAX]
    return {
        "type": "modal",
        "callback_id": CALLBACK_ID,
        # Slack cuts a modal's title at 24 characters, its buttons' at 24.
        "title": {"type": "plain_text", "text": gettext("New micro-action")[:24]},
        "submit": {"type": "plain_text", "text": gettext("Log")[:24]},
        "close": {"type": "plain_text", "text": gettext("Cancel")[:24]},
        "blocks": [
            _input(
                "tactic",
                gettext("What did you do?"),
                {
                    "type": "radio_buttons",
                    "options": [_option(t.name, gettext(t.label)) for t in TACTICS.values()],
                },
            ),
            _input(
                "minutes",
                gettext("Minutes"),
                {
                    "type": "number_input",
                    "is_decimal_allowed": False,
                    "min_value": "1",
                    "max_value": str(MINUTES_MAX),
                    "initial_value": "15",
                },
            ),
            _input(
                "audience",
                gettext("Who saw it?"),
                {
                    "type": "radio_buttons",
                    "options": [_option(a, gettext(AUDIENCE_LABELS[a])) for a in AUDIENCES],
                    "initial_option": _option("private", gettext(AUDIENCE_LABELS["private"])),
                },
            ),
            _input("note", gettext("Note (only you see it)"), note_element, optional=True),
        ],
    }


def _value(values: dict[str, Any], block: str) -> str | None:
    """What the person chose or typed in ``block``, or None."""
    block_state = values.get(block)
    state = block_state.get(ACTION) if isinstance(block_state, dict) else None
    if not isinstance(state, dict):
        return None
    selected = state.get("selected_option")
    if isinstance(selected, dict):
        state = selected
    value = state.get("value")
    return value if isinstance(value, str) else None


def read_submission(values: dict[str, Any]) -> LoggedAction | dict[str, str]:
    """Check a ``view_submission``'s ``view.state.values``.

    Parameters:
        values: Slack's state values (block id -> action id -> element state).

    Returns:
        The action to log, or one message per wrong block (Slack shows each under its field).
    """
    errors: dict[str, str] = {}
    tactic = _value(values, "tactic")
    if tactic not in TACTICS:
        errors["tactic"] = gettext("Choose what you did.")
    raw_minutes = (_value(values, "minutes") or "").strip()
    minutes = int(raw_minutes) if raw_minutes.isdigit() else 0
    if not 1 <= minutes <= MINUTES_MAX:
        errors["minutes"] = gettext("Enter whole minutes from 1 to %(max)d.", max=MINUTES_MAX)
    audience = _value(values, "audience")
    if audience not in AUDIENCES:
        errors["audience"] = gettext("Choose who saw it.")
    note = (_value(values, "note") or "").strip() or None
    if note is not None and len(note) > NOTE_MAX:
        errors["note"] = gettext(
            "Keep the note to %(max)s characters at most.", max=format_number(NOTE_MAX)
        )
    if errors:
        return errors
    assert tactic is not None and audience is not None
    return LoggedAction(tactic, minutes, audience, note)

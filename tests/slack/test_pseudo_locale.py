"""Every text Compound sends (the digest mail, Slack's messages, modal and Home tab, Teams'
cards) goes through the catalogue: built in the pseudo-locale, no letter is left outside its
``⟦…⟧`` marks but what people typed (names, questions) and links."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest

from shared.chat.digest_message import digest_message
from shared.chat.home import home_view, link_view, next_suggestion
from shared.chat.messages import feedback_message, logged, thanks
from shared.chat.modal import log_modal, read_submission
from shared.i18n import PSEUDO, gettext, use_locale
from shared.msteams.cards import digest_card, feedback_card, link_card, log_card
from shared.projections.digests import render, subject

MARKED = re.compile(r"⟦[^⟦⟧]*⟧")
LINK = re.compile(r"https?://[^\s|>\"]+")
TYPED = ("Ada Lovelace", "Platform", "Was the demo clear?")
"""What people typed: shown as they typed it, in every language."""


SHOWN = {"text", "title", "label", "errorMessage", "placeholder"}
"""The keys of Slack's Block Kit and of Adaptive Cards whose strings people read."""


def strings(value: Any, shown: bool = True) -> list[str]:
    """Every string people read in a message, view or card (not ids, codes or styles)."""
    if isinstance(value, str):
        return [value] if shown else []
    if isinstance(value, dict):
        return [s for key, v in value.items() for s in strings(v, key in SHOWN)]
    if isinstance(value, (list, tuple)):
        return [s for v in value for s in strings(v, shown)]
    return []


def unmarked(text: str) -> str:
    """What is left of ``text`` outside the pseudo-locale's marks, links and typed values."""
    while MARKED.search(text):
        text = MARKED.sub("", text)
    text = LINK.sub("", text)
    for typed in TYPED:
        text = text.replace(typed, "")
    return text


def nudge() -> dict[str, Any]:
    with use_locale(PSEUDO):  # a digest is built in its recipient's language
        return {
            "rule": "r",
            "suggestion": gettext("Open Compound"),
            "because": gettext("Minutes"),
            "step": gettext("Log"),
            "value": 1,
        }


def built() -> list[Any]:
    digest = {
        "week": "2026-W49",
        "nudges": [nudge()],
        "teams": [{"team_id": "t", "name": "Platform", "nudges": [nudge()]}],
    }
    empty = {"week": "2026-W49", "nudges": [], "teams": []}
    plan = {
        "week": "2026-W49",
        "items": [{"tactic": "learning_bit", "done": True}],
        "done": 1,
        "planned": 1,
    }
    capital = {
        "next_action": {
            "skill": {
                "tactic": "learning_bit",
                "example": "ten minutes",
                "gain": 1.5,
                "gain_if_confirmed": 3.0,
            }
        }
    }
    owner, request = uuid.uuid4(), uuid.uuid4()
    with use_locale(PSEUDO):
        return [
            digest_message(digest, "https://compound.example", pulse=True),
            digest_message(empty, "https://compound.example", pulse=False),
            home_view(plan, {"streak": 2, "active_weeks": 3, "span": 12}, "⟦x⟧", "https://c.x"),
            home_view({**plan, "items": []}, {"streak": 1}, next_suggestion({}, []), "https://c.x"),
            next_suggestion(capital, []).replace("ten minutes", ""),  # the seed's example
            link_view(gettext("Type /compound to link your Slack account to Compound.")),
            log_modal("a note"),
            read_submission({}),
            feedback_message("Ada Lovelace", "Was the demo clear?", owner, request),
            logged("learning_bit", 1),
            logged("learning_bit", 9),
            thanks(True),
            thanks(False),
            subject("2026-W49"),
            render(digest),
            digest_card(digest, "https://compound.example", pulse=True),
            digest_card(empty, "https://compound.example", pulse=False),
            log_card({}, {"minutes": gettext("Enter whole minutes from 1 to %(max)d.", max=480)}),
            feedback_card("Ada Lovelace", "Was the demo clear?", owner, request),
            link_card("https://compound.example/msteams/link/x"),
        ]


@pytest.mark.parametrize("index", range(20))
def test_every_text_sent_is_catalogued(index: int):
    item = built()[index]
    left = [unmarked(s) for s in strings(item)]
    assert not [s for s in left if re.search(r"[A-Za-z]", s)], (item, left)

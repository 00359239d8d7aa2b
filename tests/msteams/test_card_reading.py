"""The log card's submission, read as the API's ``ActionIn`` reads an action (pure): what
Teams sends back for each input, hostile values included."""

from __future__ import annotations

import uuid

import pytest

from shared.chat.modal import LoggedAction
from shared.msteams.cards import feedback_card, log_card, read_feedback, read_log

GOOD = {"action": "log", "tactic": "learning_bit", "minutes": "15", "audience": "private"}


@pytest.mark.parametrize("minutes", ["15", 15, 15.0, " 15 "])
def test_minutes_as_teams_sends_them(minutes: object) -> None:
    assert read_log({**GOOD, "minutes": minutes}) == LoggedAction(
        "learning_bit", 15, "private", None
    )


@pytest.mark.parametrize(
    "minutes",
    ["", None, True, 0, -1, "481", 481, 15.5, "1e3", "-5", " 15x", [15], {"v": 15}, 10**40],
)
def test_wrong_minutes_are_named(minutes: object) -> None:
    assert read_log({**GOOD, "minutes": minutes}) == {
        "minutes": "Enter whole minutes from 1 to 480."
    }


@pytest.mark.parametrize(
    "change",
    [
        {"tactic": None},
        {"tactic": ["learning_bit"]},
        {"audience": "everyone"},
        {"note": "x" * 2001},
    ],
)
def test_other_wrong_fields_write_nothing(change: dict[str, object]) -> None:
    result = read_log({**GOOD, **change})
    assert isinstance(result, dict) and set(result) == set(change)


def test_the_card_keeps_what_was_typed_and_says_each_error_under_its_field() -> None:
    card = log_card({**GOOD, "minutes": "0", "note": "kept"}, {"minutes": "Enter whole..."})
    body = card["content"]["body"]
    ids = [b.get("id") for b in body]
    assert ids.index("minutes_error") == ids.index("minutes") + 1
    assert next(b for b in body if b.get("id") == "note")["value"] == "kept"
    assert next(b for b in body if b.get("id") == "tactic")["value"] == "learning_bit"


def test_a_feedback_press_is_read_only_from_our_buttons() -> None:
    owner, request = uuid.uuid4(), uuid.uuid4()
    card = feedback_card("Ada", "Clear?", owner, request)["attachments"][0]["content"]
    useful, not_useful = (a["data"] for a in card["actions"])
    assert read_feedback(useful) is not None and read_feedback(useful).useful is True
    assert read_feedback(not_useful) is not None and read_feedback(not_useful).useful is False
    assert read_feedback({**useful, "useful": "yes"}) is None
    assert read_feedback({**useful, "owner": "not-a-uuid"}) is None
    assert read_feedback({**useful, "action": "log"}) is None

"""The ``/compound`` modal's fields and the checks of its submission (pure)."""

from __future__ import annotations

from shared.chat.modal import LoggedAction, log_modal, read_submission
from shared.domain.tactics import AUDIENCES, TACTICS


def state(**chosen: str | None) -> dict[str, object]:
    def radio(value: str | None) -> dict[str, object]:
        return {"value": {"type": "radio_buttons", "selected_option": value and {"value": value}}}

    return {
        "tactic": radio(chosen.get("tactic", "prototype_first")),
        "minutes": {"value": {"type": "number_input", "value": chosen.get("minutes", "30")}},
        "audience": radio(chosen.get("audience", "private")),
        "note": {"value": {"type": "plain_text_input", "value": chosen.get("note")}},
    }


def test_the_modal_offers_every_tactic_and_audience():
    blocks = {b["block_id"]: b for b in log_modal()["blocks"]}
    assert [o["value"] for o in blocks["tactic"]["element"]["options"]] == list(TACTICS)
    assert [o["value"] for o in blocks["audience"]["element"]["options"]] == list(AUDIENCES)
    assert blocks["note"]["optional"] is True
    assert all(len(o["text"]["text"]) <= 75 for o in blocks["tactic"]["element"]["options"])


def test_a_good_submission_is_read():
    assert read_submission(state(note="  a sketch  ")) == LoggedAction(
        "prototype_first", 30, "private", "a sketch"
    )
    assert read_submission(state(note="   ")) == LoggedAction(
        "prototype_first", 30, "private", None
    )


def test_every_wrong_field_is_named_once():
    errors = read_submission(state(tactic=None, minutes="-3", audience="world", note="x" * 2001))
    assert isinstance(errors, dict)
    assert sorted(errors) == ["audience", "minutes", "note", "tactic"]
    assert read_submission({}) == {
        "tactic": "Choose what you did.",
        "minutes": "Enter whole minutes from 1 to 480.",
        "audience": "Choose who saw it.",
    }

"""``/compound`` opens the modal through the stand-in; its submission logs exactly one
action through the journal command, once however often Slack retries; wrong fields answer
``response_action: errors``."""

from __future__ import annotations

import time

import pytest

from shared.domain.tactics import TACTICS
from tests.conftest import make_org
from tests.slack.conftest import SlackWorld, install, link, new_team_id

pytestmark = pytest.mark.integration


def values(tactic: str = "learning_bit", minutes: str = "20", audience: str = "team",
           note: str | None = "read the RFC") -> dict[str, object]:  # fmt: skip
    return {
        "tactic": {"value": {"type": "radio_buttons", "selected_option": {"value": tactic}}},
        "minutes": {"value": {"type": "number_input", "value": minutes}},
        "audience": {"value": {"type": "radio_buttons", "selected_option": {"value": audience}}},
        "note": {"value": {"type": "plain_text_input", "value": note}},
    }


def test_the_command_opens_the_modal_with_the_tactics(world: SlackWorld):
    user_id = link(world, "platform-1")
    response = world.command(user_id, "helped Sam with the deploy")
    assert response.status_code == 200 and response.get_data() == b""
    assert [kind for kind, _ in world.drain()] == ["open_modal"]
    opened = [s for s in world.sent() if s["method"] == "views.open"]
    assert len(opened) == 1
    view = opened[0]["args"]["view"]
    tactic_block = next(b for b in view["blocks"] if b["block_id"] == "tactic")
    assert [o["value"] for o in tactic_block["element"]["options"]] == list(TACTICS)
    note_block = next(b for b in view["blocks"] if b["block_id"] == "note")
    assert note_block["element"]["initial_value"] == "helped Sam with the deploy"


def test_a_submission_logs_one_action_and_a_retry_logs_nothing_more(world: SlackWorld):
    user_id = link(world, "platform-1")
    first = world.submit(user_id, values(), "V0FIRST")
    assert first.status_code == 200 and first.get_data() == b""
    # Slack retries after its 3 s timeout, signed anew (a later timestamp).
    retried = world.submit(user_id, values(), "V0FIRST", at=int(time.time()) + 3, headers={
        "X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})  # fmt: skip
    assert retried.status_code == 200
    tasks = world.drain()
    assert [kind for kind, _ in tasks] == ["log_action", "log_action"]
    world.work().run(*tasks[0])  # a redelivery by Dramatiq as well
    logged = world.events(("MicroActionLogged",))
    assert len(logged) == 1
    event = logged[0]
    assert event.data["person_id"] == str(world.org.people["platform-1"])
    assert (event.data["tactic"], event.data["minutes"], event.data["audience"]) == (
        "learning_bit", 20, "team")  # fmt: skip
    assert event.data["note"] == "read the RFC"
    assert event.metadata["source"] == "slack"
    confirmations = [s for s in world.sent() if s["method"] == "chat.postMessage"]
    assert len(confirmations) == 1  # the replays said nothing
    assert confirmations[0]["args"]["channel"].startswith("D")  # a direct message


@pytest.mark.parametrize(
    ("fields", "wrong"),
    [
        ({"tactic": "astrology"}, "tactic"),
        ({"minutes": "0"}, "minutes"),
        ({"minutes": "481"}, "minutes"),
        ({"minutes": "ten"}, "minutes"),
        ({"audience": "everyone"}, "audience"),
        ({"note": "x" * 2001}, "note"),
    ],
)
def test_wrong_fields_answer_errors_per_field(world: SlackWorld, fields, wrong):
    user_id = link(world, "platform-1")
    response = world.submit(user_id, values(**fields), "V0WRONG")
    assert response.status_code == 200
    body = response.get_json()
    assert body["response_action"] == "errors"
    assert list(body["errors"]) == [wrong]
    assert world.drain() == []
    assert world.events(("MicroActionLogged",)) == []


def test_an_unlinked_user_gets_the_link_prompt_and_writes_nothing(world: SlackWorld):
    response = world.command("UNOBODY2")
    assert response.get_json()["response_type"] == "ephemeral"
    assert "/slack/link/" in response.get_json()["text"]
    submitted = world.submit("UNOBODY2", values(), "V0NOBODY")
    assert submitted.get_json()["response_action"] == "errors"
    assert world.drain() == []
    assert world.events(("MicroActionLogged",)) == []


def test_a_workspace_without_installation_is_told_so(world: SlackWorld):
    world.team_id = "TNOTINSTALLED"
    response = world.command("U0SOMEONE")
    assert response.status_code == 200
    assert "not installed" in response.get_json()["text"]
    assert world.drain() == []


def test_another_organisations_workspace_cannot_write_here(world: SlackWorld):
    ours = link(world, "platform-1")
    theirs_org = make_org(world.store)
    theirs = SlackWorld(world.app, world.store, theirs_org, new_team_id(), world.stand_in)
    install(world.app, theirs_org, theirs.team_id)
    stranger = link(theirs, "platform-1")
    # Their user, claiming our workspace: not linked here, nothing logged anywhere.
    answer = world.submit(stranger, values(), "V0CROSS")
    assert answer.get_json()["response_action"] == "errors"
    # Our user's id, claimed from their workspace: no link there either.
    answer = theirs.submit(ours, values(), "V0CROSS2")
    assert answer.get_json()["response_action"] == "errors"
    assert world.drain() == []
    # A task naming our workspace with their user (as if forged past the gateway): refused.
    world.work().run("log_action", {"team_id": world.team_id, "user_id": stranger,
                                    "view_id": "V0FORGED", "tactic": "learning_bit",
                                    "minutes": 5, "audience": "private"})  # fmt: skip
    assert world.events(("MicroActionLogged",)) == []
    assert theirs.events(("MicroActionLogged",)) == []
    # Their own submission lands in their organisation only.
    theirs.submit(stranger, values(), "V0THEIRS", at=int(time.time()) + 1)
    world.drain()
    assert world.events(("MicroActionLogged",)) == []
    assert [e.data["person_id"] for e in theirs.events(("MicroActionLogged",))] == [
        str(theirs_org.people["platform-1"])
    ]

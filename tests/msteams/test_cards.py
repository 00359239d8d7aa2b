"""Logging and micro-feedback in Teams: the log card's submission appends the same
``MicroActionLogged`` as the portal, once however often it is delivered; wrong fields come
back in the card with their messages; "Useful" / "Not useful" is the named colleague's
confirmed answer."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.msteams.conftest import TeamsWorld, csrf_of, login

pytestmark = pytest.mark.integration

GOOD = {"action": "log", "tactic": "learning_bit", "minutes": "20", "audience": "team",
        "note": "Shared the migration plan"}  # fmt: skip


def cards(world: TeamsWorld, aad: str) -> list[dict[str, Any]]:
    return [
        a["content"]
        for s in world.sent(aad)
        for a in s["activity"].get("attachments", [])
        if a["contentType"] == "application/vnd.microsoft.card.adaptive"
    ]


def texts(world: TeamsWorld, aad: str) -> list[str]:
    return [str(s["activity"].get("text", "")) for s in world.sent(aad)]


def test_an_unknown_user_gets_the_link_and_linking_needs_their_confirmation(world: TeamsWorld):
    aad = world.link("platform-1")
    linked = world.events(("TeamsAccountLinked",))
    assert [e.data["person_id"] for e in linked] == [str(world.org.people["platform-1"])]
    assert linked[0].data["aad_object_id"] == aad
    world.say(aad, text="hi")
    world.drain()
    assert cards(world, aad)[-1]["actions"][0]["data"] == {"action": "log"}


def test_the_link_is_refused_to_another_address(world: TeamsWorld):
    aad = world.add_user(world.org.emails["platform-1"])
    world.say(aad, text="hello")
    world.drain()
    url = cards(world, aad)[-1]["actions"][0]["url"].removeprefix("http://compound.test")
    other = login(world.app, world.org.emails["platform-2"], world.org.password)
    answer = other.post(url, data={"csrf_token": csrf_of(other, url)})
    assert answer.status_code == 403
    forged = other.get(url[:-3] + "abc")
    assert forged.status_code == 404
    assert world.events(("TeamsAccountLinked",)) == []


def test_a_card_submission_logs_one_action_and_a_retry_logs_nothing_more(world: TeamsWorld):
    aad = world.link("platform-1")
    submission = world.activity(aad, value=GOOD)
    assert world.post(submission).status_code == 200
    world.drain()
    assert world.post(submission).status_code == 200  # the Bot Framework retries it
    redelivered = {
        "id": submission["id"],
        "service_url": world.service_url,
        "user_id": submission["from"]["id"],
        "aad_object_id": aad,
        "aad_tenant_id": world.aad_tenant_id,
        "conversation_id": submission["conversation"]["id"],
        "bot_id": submission["recipient"]["id"],
        "text": "",
        "value": GOOD,
    }
    world.work().run("activity", redelivered)  # and Dramatiq redelivers the task
    world.drain()
    logged = world.events(("MicroActionLogged",))
    assert len(logged) == 1
    assert logged[0].data["tactic"] == "learning_bit" and logged[0].data["minutes"] == 20
    assert logged[0].data["person_id"] == str(world.org.people["platform-1"])
    assert len([t for t in texts(world, aad) if t.startswith("Logged: ")]) == 1


@pytest.mark.parametrize(
    "change, field",
    [
        ({"tactic": "nonsense"}, "tactic"),
        ({"minutes": "0"}, "minutes"),
        ({"minutes": "481"}, "minutes"),
        ({"minutes": "2.5"}, "minutes"),
        ({"audience": "everyone"}, "audience"),
        ({"note": "x" * 2001}, "note"),
    ],
)
def test_wrong_fields_come_back_in_the_card(world: TeamsWorld, change: dict[str, str], field: str):
    aad = world.link("platform-1")
    world.say(aad, value={**GOOD, **change})
    world.drain()
    assert world.events(("MicroActionLogged",)) == []
    card = cards(world, aad)[-1]
    errors = [b for b in card["body"] if b.get("id", "").endswith("_error")]
    assert [b["id"] for b in errors] == [f"{field}_error"]
    assert errors[0]["color"] == "Attention"


def test_an_unlinked_users_submission_writes_nothing(world: TeamsWorld):
    aad = world.add_user(world.org.emails["platform-1"])
    world.say(aad, value=GOOD)
    world.drain()
    assert world.events(("MicroActionLogged",)) == []
    assert "Link your Teams account" in texts(world, aad)[-1]


def ask(world: TeamsWorld, asker: str, colleague: str, question: str) -> uuid.UUID:
    client = world.app.test_client()
    response = client.post(
        "/api/v1/feedback-requests",
        json={"question": question, "colleague": str(world.org.people[colleague])},
        headers=world.org.headers(client, asker),
    )
    assert response.status_code == 201, response.get_json()
    return uuid.UUID(response.get_json()["request_id"])


def test_a_button_is_the_named_colleagues_confirmed_answer_once(world: TeamsWorld):
    colleague = world.link("platform-2")
    request_id = ask(world, "platform-1", "platform-2", "Was my summary useful?")
    assert [kind for kind, _ in world.drain()] == ["feedback_ask"]
    card = cards(world, colleague)[-1]
    assert "Was my summary useful?" in card["body"][0]["text"]
    useful, not_useful = (a["data"] for a in card["actions"])
    world.say(colleague, value=useful)
    world.say(colleague, value=not_useful)
    world.drain()
    given = world.events(("FeedbackGiven",))
    assert len(given) == 1
    assert given[0].data["request_id"] == str(request_id)
    assert given[0].data["useful"] is True and given[0].data["confirmed"] is True


def test_someone_else_pressing_the_button_answers_nothing(world: TeamsWorld):
    colleague = world.link("platform-2")
    other = world.link("payments-1")
    ask(world, "platform-1", "platform-2", "Clear enough?")
    world.drain()
    forged = cards(world, colleague)[-1]["actions"][0]["data"]
    world.say(other, value=forged)
    world.drain()
    assert world.events(("FeedbackGiven",)) == []
    assert "not recorded" in texts(world, other)[-1]
    assert all("Clear enough?" not in t for t in texts(world, other))


def test_unlinking_from_teams_and_from_the_portal(world: TeamsWorld):
    aad = world.link("platform-1")
    world.say(aad, text="unlink")
    world.drain()
    assert "no longer linked" in texts(world, aad)[-1]
    again = world.link("platform-1")
    person = login(world.app, world.org.emails["platform-1"], world.org.password)
    page = person.get("/msteams").get_data(as_text=True)
    assert again in page
    person.post(
        "/msteams/unlink",
        data={"csrf_token": csrf_of(person, "/msteams"), "aad_object_id": again},
    )
    unlinked = world.events(("TeamsAccountUnlinked",))
    assert [e.data["by"] for e in unlinked] == ["teams", "person"]
    world.say(again, value=GOOD)
    world.drain()
    assert world.events(("MicroActionLogged",)) == []


def test_erasure_forgets_the_link_and_the_conversation(world: TeamsWorld):
    from shared.commands import Actor, OrganizationCommands
    from shared.eventlog.events_msteams import link_stream
    from shared.msteams.links import TeamsLinks

    aad = world.link("payments-1")
    headers = world.org.headers(world.app.test_client(), "payments-1")
    exported = world.app.test_client().get("/api/v1/me/export", headers=headers)
    assert f'"aad_object_id": "{aad}"' in exported.get_data(as_text=True)
    admin = Actor(tenant_id=world.org.tenant_id, person_id=world.org.admin, role="admin")
    OrganizationCommands(world.store).erase(admin, world.org.people["payments-1"])
    assert TeamsLinks(world.store).link_of(world.aad_tenant_id, aad) is None
    with world.store.engine.connect() as db:
        left = db.exec_driver_sql(
            "SELECT count(*) FROM msteams_conversations WHERE aad_object_id = %s", (aad,)
        ).scalar_one()
    assert left == 0
    linked = world.store.read_stream(link_stream(world.org.people["payments-1"]))
    assert linked[0].data["aad_object_id"] != aad  # shredded with the key

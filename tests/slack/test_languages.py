"""Slack in the reader's language: the weekly digest, the modal and the replies come in the
language each person chose (German, French), else in their organisation's default; someone
not linked yet reads the organisation's default."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.commands import Actor
from shared.commands.settings import patch_settings
from shared.domain.weeks import iso_week_of
from shared.i18n import format_week, use_locale
from shared.i18n.preferences import choose_language
from tests.slack.conftest import SlackWorld, link
from tests.slack.test_digest import a_monday, build, queue
from tests.slack.test_modal import values

pytestmark = pytest.mark.integration


def choose(world: SlackWorld, who: str, locale: str) -> None:
    actor = Actor(tenant_id=world.org.tenant_id, person_id=world.org.people[who], source="test")
    choose_language(world.store, actor, locale)


def posted_to(world: SlackWorld, user_id: str) -> list[dict]:
    """Every ``chat.postMessage`` to the user's direct messages (or to their user id)."""
    channels = {user_id, "D" + user_id[1:]}
    return [
        s["args"] for s in world.sent()
        if s["method"] == "chat.postMessage" and s["args"].get("channel") in channels
    ]  # fmt: skip


def heading(locale: str, week: str) -> str:
    with use_locale(locale):
        return {
            "de": f"Ihre Woche in Compound ({format_week(week)})",
            "fr": f"Votre semaine dans Compound ({format_week(week)})",
        }[locale]


def test_a_german_and_a_french_reader_get_the_digest_in_their_language(world: SlackWorld):
    now = a_monday()
    week = iso_week_of(now - timedelta(weeks=1))
    german, french = link(world, "platform-1"), link(world, "platform-2")
    choose(world, "platform-1", "de")
    choose(world, "platform-2", "fr")
    build(world, week)
    assert queue(world, now)[0] >= 2
    world.drain()

    (to_german,) = posted_to(world, german)
    assert to_german["text"].startswith(heading("de", week) + ": ")
    assert "KW " in to_german["blocks"][0]["text"]["text"]
    blocks = str(to_german["blocks"])
    assert "Aus dem Leitfaden: " in blocks and "Warum: " in blocks
    assert "/pulse|im Portal beantworten>" in blocks and "Nur Sie sehen diese Nachricht." in blocks
    (to_french,) = posted_to(world, french)
    assert to_french["text"].startswith(heading("fr", week) + " : ")
    blocks = str(to_french["blocks"])
    assert "Tiré du guide : " in blocks and "Pourquoi : " in blocks
    assert "/pulse|répondez sur le portail>" in blocks and "Vous seul voyez ce message." in blocks


def test_the_modal_and_the_replies_speak_the_persons_language(world: SlackWorld):
    german = link(world, "platform-1")
    choose(world, "platform-1", "de")
    world.command(german)
    world.drain()
    (opened,) = [s["args"]["view"] for s in world.sent() if s["method"] == "views.open"]
    assert opened["title"]["text"] == "Neue Mikroaktion"
    labels = [b["label"]["text"] for b in opened["blocks"]]
    assert labels == ["Was haben Sie getan?", "Minuten", "Wer hat es gesehen?",
                      "Notiz (nur für Sie sichtbar)"]  # fmt: skip

    wrong = world.submit(german, values(minutes="0"), "V0DEWRONG").get_json()
    assert wrong["errors"] == {"minutes": "Geben Sie ganze Minuten von 1 bis 480 ein."}
    assert world.submit(german, values(minutes="1"), "V0DE").status_code == 200
    world.drain()
    (reply,) = posted_to(world, german)
    assert reply["text"].startswith("Erfasst: ") and reply["text"].endswith(", 1 Minute.")


def test_without_a_choice_the_organisations_default_holds(world: SlackWorld):
    admin = Actor(
        tenant_id=world.org.tenant_id, person_id=world.org.admin, role="admin", source="test"
    )
    patch_settings(
        world.store, admin, None, {"k": 5, "pulse_cadence_weeks": 1, "default_locale": "fr"}
    )
    stranger = world.command("U0NOBODY").get_json()["text"]
    assert stranger.startswith("Liez d'abord votre compte Slack à Compound : <")
    linked, english = link(world, "platform-1"), link(world, "platform-2")
    choose(world, "platform-2", "en")  # one's own choice wins over the default
    assert world.submit(linked, values(minutes="12"), "V0FR").status_code == 200
    assert world.submit(english, values(minutes="12"), "V0EN").status_code == 200
    world.drain()
    assert posted_to(world, linked)[0]["text"].startswith("Enregistré : ")
    assert posted_to(world, linked)[0]["text"].endswith(", 12 minutes.")
    assert posted_to(world, english)[0]["text"].startswith("Logged: ")

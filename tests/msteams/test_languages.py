"""Teams in the reader's language: the weekly digest card and the replies come in the
language each person chose (German, French); someone not linked yet reads the language their
Teams client reports."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from shared.commands import Actor
from shared.domain.weeks import iso_week_of
from shared.i18n import format_week, use_locale
from shared.i18n.preferences import choose_language
from shared.projections import runtime
from shared.projections.digests import build_digests
from tests.msteams.conftest import TeamsWorld
from tests.msteams.test_cards import GOOD, texts
from tests.msteams.test_digest import a_monday, queue

pytestmark = pytest.mark.integration


def choose(world: TeamsWorld, who: str, locale: str) -> None:
    actor = Actor(tenant_id=world.org.tenant_id, person_id=world.org.people[who], source="test")
    choose_language(world.store, actor, locale)


def test_a_german_and_a_french_reader_get_the_digest_in_their_language(world: TeamsWorld):
    now = a_monday()
    week = iso_week_of(now - timedelta(weeks=1))
    german, french = world.link("platform-1"), world.link("platform-2")
    choose(world, "platform-1", "de")
    choose(world, "platform-2", "fr")
    runtime(world.store).ensure()
    with world.store.engine.begin() as conn:
        build_digests(conn, world.org.tenant_id, week, 5)
    assert queue(world, now)[0] == 2
    world.drain()

    with use_locale("de"):
        de_heading = f"Ihre Woche in Compound ({format_week(week)})"
    with use_locale("fr"):
        fr_heading = f"Votre semaine dans Compound ({format_week(week)})"
    assert len([t for t in texts(world, german) if t.startswith(de_heading + ": ")]) == 1
    card = json.dumps(world.sent(german)[-1]["activity"], ensure_ascii=False)
    assert "Aus dem Leitfaden: " in card and "Puls-Umfrage beantworten" in card
    assert "Nur Sie sehen diese Nachricht." in card
    assert len([t for t in texts(world, french) if t.startswith(fr_heading + " : ")]) == 1
    card = json.dumps(world.sent(french)[-1]["activity"], ensure_ascii=False)
    assert "Tiré du guide : " in card and "Répondre au sondage" in card


def test_the_replies_speak_the_persons_language_or_their_clients(world: TeamsWorld):
    german = world.link("platform-1")
    choose(world, "platform-1", "de")
    world.say(german, value={**GOOD, "minutes": "0"})
    world.drain()
    assert texts(world, german)[-1] == "Nichts erfasst: siehe Karte."
    card = world.sent(german)[-1]["activity"]["attachments"][0]["content"]
    errors = [b["text"] for b in card["body"] if b.get("id") == "minutes_error"]
    assert errors == ["Geben Sie ganze Minuten von 1 bis 480 ein."]
    world.say(german, value=GOOD)
    world.drain()
    assert texts(world, german)[-1].startswith("Erfasst: ")
    assert texts(world, german)[-1].endswith(", 20 Minuten.")

    stranger = world.add_user("nobody@example.org")
    activity = world.activity(stranger, text="bonjour")
    activity["locale"] = "fr-FR"  # the Teams client's language
    assert world.post(activity).status_code == 200
    world.drain()
    assert texts(world, stranger)[-1] == (
        "Liez d'abord votre compte Teams à Compound (le lien est valable une heure)."
    )

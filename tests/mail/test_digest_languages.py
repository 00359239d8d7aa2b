"""The weekly digest mail in its recipient's language: the language each person chose, else
their organisation's default, else English; the week as people read it, never its ISO code."""

from __future__ import annotations

import random

import pytest

from shared.commands import Actor
from shared.commands.settings import patch_settings
from shared.eventlog import EventStore
from shared.i18n import format_week, use_locale
from shared.i18n.preferences import choose_language
from shared.notify import LoggingMailer, Message
from shared.projections import runtime
from shared.projections.digests import build_digests, send_digests
from tests.conftest import DemoOrg, make_org

pytestmark = pytest.mark.integration


def choose(store: EventStore, org: DemoOrg, who: str, locale: str) -> None:
    actor = Actor(tenant_id=org.tenant_id, person_id=org.people[who], source="test")
    choose_language(store, actor, locale)


def mailed(store: EventStore, org: DemoOrg, week: str) -> dict[str, Message]:
    runtime(store).ensure()
    with store.engine.begin() as conn:
        build_digests(conn, org.tenant_id, week, 5)
    mailer = LoggingMailer()
    send_digests(store.engine, mailer, week)
    ours = {org.emails[who]: who for who in org.emails}
    return {ours[m.to]: m for m in mailer.sent if m.to in ours}


def in_locale(locale: str, week: str) -> str:
    with use_locale(locale):
        return format_week(week)


def test_a_german_and_a_french_recipient_read_their_digest_in_their_language(store: EventStore):
    org = make_org(store, people_per_team=2)
    choose(store, org, "platform-1", "de")
    choose(store, org, "platform-2", "fr")
    week = f"{random.randint(2040, 2990)}-W{random.randint(2, 50):02d}"  # this test's own
    mails = mailed(store, org, week)

    german, french, english = mails["platform-1"], mails["platform-2"], mails["payments-1"]
    assert german.subject == f"Compound: Ihre Woche ({in_locale('de', week)})"
    assert german.body.startswith(f"Ihre Woche in Compound ({in_locale('de', week)})")
    assert "  Warum: " in german.body and "  Aus dem Leitfaden: " in german.body
    # A newcomer's nudge, its reason and its number in German too (shared/domain/nudges.py).
    assert "  Warum: keine Beziehungspflege in den letzten 2 Wochen." in german.body
    assert "KW " in german.html and week not in german.body
    assert french.subject == f"Compound : votre semaine ({in_locale('fr', week)})"
    assert "  Pourquoi : " in french.body and "  Tiré du guide : " in french.body
    assert english.subject == f"Compound: your week ({in_locale('en', week)})"
    assert "  Why: " in english.body


def test_without_a_choice_the_organisations_default_holds(store: EventStore):
    org = make_org(store, people_per_team=1)
    admin = Actor(tenant_id=org.tenant_id, person_id=org.admin, role="admin", source="test")
    patch_settings(store, admin, None, {"k": 5, "pulse_cadence_weeks": 1, "default_locale": "de"})
    choose(store, org, "payments-1", "fr")  # one's own choice wins
    week = f"{random.randint(2040, 2990)}-W{random.randint(2, 50):02d}"
    mails = mailed(store, org, week)
    assert mails["platform-1"].subject.startswith("Compound: Ihre Woche (KW ")
    assert mails["payments-1"].subject.startswith("Compound : votre semaine (Semaine ")

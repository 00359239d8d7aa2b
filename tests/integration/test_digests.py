"""The weekly digest: built from the read models for every active person, at most three
nudges each with their number and step, mailed once (logged when SMTP is not set)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from shared.domain.weeks import iso_week_of
from shared.eventlog import EventStore
from shared.notify import LoggingMailer, SmtpMailer, mailer_for
from shared.projections import runtime
from shared.projections.digests import build_digests, read_digest, send_digests
from shared.settings import Settings
from tests.conftest import make_org

pytestmark = pytest.mark.integration


def test_digests_are_built_and_mailed_once(store: EventStore):
    org = make_org(store, people_per_team=2)
    runtime(store).catch_up("levers")
    runtime(store).catch_up("capital")
    week = iso_week_of(datetime.now(UTC))
    with store.engine.begin() as conn:
        built = build_digests(conn, org.tenant_id, week, 5)
    assert built == len(org.people)
    with store.engine.connect() as conn:
        digest = read_digest(conn, org.people["platform-1"], week)
        manager = read_digest(conn, org.people["platform-manager"], week)
    assert digest is not None and manager is not None
    assert 1 <= len(digest["nudges"]) <= 3
    assert all(n["because"] and n["step"] and n["suggestion"] for n in digest["nudges"])
    assert {n["rule"] for n in digest["nudges"]} >= {"relationship_deposit"}
    # Platform has 2 members: every lever is hidden, so no team nudge can cite a number.
    assert manager["teams"] == []

    mailer = LoggingMailer()
    tally = send_digests(store.engine, mailer, week)
    # Without SMTP settings nothing is sent: every mail is counted as logged.
    assert tally.sent == 0 and tally.failed == 0
    assert tally.logged >= len(org.people) and len(mailer.sent) == tally.logged
    first = next(m for m in mailer.sent if m.to == org.emails["platform-1"])
    assert "Why: " in first.body and "From the playbook: " in first.body
    assert not send_digests(store.engine, mailer, week)  # each digest is mailed once
    with store.engine.connect() as conn:
        unsent = conn.execute(
            text("SELECT count(*) FROM weekly_digests WHERE week = :w AND sent_at IS NULL"),
            {"w": week},
        ).scalar_one()
    assert unsent == 0


def test_mail_is_logged_not_sent_without_smtp_settings():
    assert isinstance(mailer_for(Settings()), LoggingMailer)
    assert isinstance(mailer_for(Settings(smtp_host="mail.example.test")), SmtpMailer)
    settings = Settings.from_env(
        {"COMPOUND_SMTP_HOST": "mail.example.test", "COMPOUND_SMTP_PORT": "2525",
         "COMPOUND_SMTP_STARTTLS": "0"}
    )  # fmt: skip
    assert (settings.smtp_port, settings.smtp_starttls) == (2525, False)

"""The demo's Mailbox page (only with the local mail server of ``make run``: an admin reads
the organisation's mails, anyone else their own) and the weekly digests mailed through a
real SMTP server, their log honest about what the server accepted."""

from __future__ import annotations

import dataclasses
import logging
import uuid
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from infra.mail_server import LocalMailServer
from shared.eventlog import EventStore
from shared.notify import SmtpMailer, Tally
from shared.projections import runtime
from shared.settings import Settings
from tests.conftest import DemoOrg, make_org
from tests.mail.conftest import await_mail, csrf_of, parts, smtp_server
from workers.scheduler import weekly_digests

pytestmark = pytest.mark.integration


def _logged_in(app: Flask, org: DemoOrg, who: str) -> FlaskClient:
    client = app.test_client()
    form = {"csrf_token": csrf_of(client, "/login"), "email": org.emails[who]}
    answer = client.post("/login", data={**form, "password": org.password})
    assert answer.status_code == 302, answer.get_data(as_text=True)
    return client


def test_no_mailbox_outside_the_demo(app: Flask, org: DemoOrg):
    assert app.config["COMPOUND_SETTINGS"].demo_mailbox is None
    admin = _logged_in(app, org, "admin")
    assert admin.get("/mailbox").status_code == 404
    assert admin.get("/mailbox/anything").status_code == 404
    assert ">Mailbox</a>" not in admin.get("/account").get_data(as_text=True)


def test_the_demo_mailbox_shows_admins_the_mails_sent(
    mail_app: Flask, mail_org: DemoOrg, smtp: LocalMailServer, store: EventStore
):
    """Admins read the mails to people of their organisation (links clickable); another
    organisation's admin reads none, an employee only theirs, an anonymous caller none."""
    admin = _logged_in(mail_app, mail_org, "admin")
    address = f"shown-{uuid.uuid4().hex[:10]}@demo.test"
    invited = admin.post(
        "/api/v1/invitations",
        json={"email": address},
        headers={"X-CSRFToken": csrf_of(admin, "/account")},
    )
    assert invited.status_code == 201 and invited.get_json()["mail"] == "sent"
    await_mail(smtp.maildir, address)

    listing = admin.get("/mailbox")
    assert listing.status_code == 200
    html = listing.get_data(as_text=True)
    assert address in html and "Compound: you are invited" in html
    assert ">Mailbox</a>" in admin.get("/account").get_data(as_text=True)
    row = html[html.index(address) :]
    key = row.split('href="/mailbox/', 1)[1].split('"', 1)[0]
    shown = admin.get(f"/mailbox/{key}").get_data(as_text=True)
    link = invited.get_json()["link"]
    assert f'<a href="{link}">' in shown  # clickable
    assert admin.get("/mailbox/no-such-key").status_code == 404

    # Another organisation's admin sees none of this organisation's mails.
    outsider = make_org(store, people_per_team=1)
    stranger = _logged_in(mail_app, outsider, "admin")
    assert address not in stranger.get("/mailbox").get_data(as_text=True)
    assert stranger.get(f"/mailbox/{key}").status_code == 404

    # A colleague asks an employee a question: the employee reads that mail, not the
    # invitation to someone else (the demo's Ada finds her question so, infra/demo_questions.py).
    asker = mail_app.test_client()
    asked = asker.post(
        "/api/v1/feedback-requests",
        json={"question": "Was my review useful?", "colleague": str(mail_org.people["platform-1"])},
        headers=mail_org.headers(asker, "payments-1"),
    )
    assert asked.status_code == 201, asked.get_json()
    await_mail(smtp.maildir, mail_org.emails["platform-1"])
    employee = _logged_in(mail_app, mail_org, "platform-1")
    own = employee.get("/mailbox").get_data(as_text=True)
    assert "Was my review useful?" not in own  # the list shows subjects only
    assert mail_org.emails["platform-1"] in own and address not in own
    assert ">Mailbox</a>" in employee.get("/account").get_data(as_text=True)
    own_key = own.split('href="/mailbox/', 1)[1].split('"', 1)[0]
    question = employee.get(f"/mailbox/{own_key}").get_data(as_text=True)
    assert "Was my review useful?" in question and "/f/" in question
    assert employee.get(f"/mailbox/{key}").status_code == 404  # someone else's
    anonymous = mail_app.test_client().get("/mailbox")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


def _unsent(store: EventStore, org: DemoOrg) -> int:
    with store.engine.connect() as conn:
        return int(
            conn.execute(
                text(
                    "SELECT count(*) FROM weekly_digests WHERE tenant_id = :t AND sent_at IS NULL"
                ),
                {"t": org.tenant_id},
            ).scalar_one()
        )


def test_digests_count_what_the_server_accepted_and_retry_the_rest(
    store: EventStore,
    mail_settings: Settings,
    smtp: LocalMailServer,
    caplog: pytest.LogCaptureFixture,
):
    runtime(store).ensure()
    org = make_org(store, people_per_team=1)
    now = datetime(2026, 11, 9, 7, 0, tzinfo=UTC)  # Monday of 2026-W46: W45 has just ended

    class Refusing:
        async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
            return "451 4.3.0 try later"

    with smtp_server(Refusing()) as refusing:
        broken = SmtpMailer(dataclasses.replace(mail_settings, smtp_port=refusing.port))
        with caplog.at_level(logging.INFO):
            built, first = weekly_digests(store.engine, mail_settings, broken, now)
    assert built >= len(org.people)
    assert first.sent == 0 and first.failed >= 1
    assert _unsent(store, org) >= 1  # failed ones stay for the next check
    logged = [r.getMessage() for r in caplog.records if r.getMessage().startswith("digests of")]
    assert logged and "0 sent" in logged[-1] and f"{first.failed} failed" in logged[-1]
    assert not any(
        "digest mail sent" in r.getMessage() for r in caplog.records
    )  # nothing was called sent

    caplog.clear()
    working = SmtpMailer(mail_settings)
    with caplog.at_level(logging.INFO):
        _, second = weekly_digests(store.engine, mail_settings, working, now)
    assert second.sent >= 1 and second.failed == 0 and _unsent(store, org) == 0
    mail = await_mail(smtp.maildir, org.emails["platform-1"])
    text_part, html_part = parts(mail)
    assert mail["Subject"] == "Compound: your week (Week 45, 2\u2009\u2013\u20098 Nov)"
    assert "Why: " in text_part and "<p>" in html_part
    assert weekly_digests(store.engine, mail_settings, working, now) == (0, Tally())

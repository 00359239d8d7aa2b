"""Invitations by mail through a real SMTP server: the API and the CLI mail the link (under
COMPOUND_PUBLIC_URL), the link sets a password, an address registered in another
organisation is answered like any other, and a failed mail is said, never called sent."""

from __future__ import annotations

import dataclasses
import logging
import uuid
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from infra.embedded import free_port
from infra.mail_server import LocalMailServer
from shared.eventlog import EventStore
from shared.notify import SmtpMailer
from shared.settings import Settings
from tests.conftest import DemoOrg, make_org
from tests.mail.conftest import (
    PUBLIC_URL,
    await_mail,
    csrf_of,
    inbox,
    link_in,
    parts,
    smtp_server,
)

pytestmark = pytest.mark.integration


def _invite(client: FlaskClient, org: DemoOrg, address: str):
    return client.post(
        "/api/v1/invitations", headers=org.headers(client, "admin"), json={"email": address}
    )


def test_invitation_is_mailed_and_its_link_sets_a_password(
    browser: FlaskClient, mail_org: DemoOrg, smtp: LocalMailServer
):
    address = f"new-{uuid.uuid4().hex[:10]}@demo.test"
    answer = _invite(browser, mail_org, address)
    assert answer.status_code == 201, answer.get_json()
    body = answer.get_json()
    assert body["mail"] == "sent"
    assert body["link"].startswith(PUBLIC_URL + "/invite/")  # kept for scripts

    mail = await_mail(smtp.maildir, address)
    assert mail["Subject"] == "Compound: you are invited"
    link = link_in(mail)
    assert link == body["link"]

    path = urlsplit(link).path
    form = {"csrf_token": csrf_of(browser, path), "display_name": "Nia", "password": "a-long-pass"}
    joined = browser.post(path, data=form)
    assert joined.status_code == 302, joined.get_data(as_text=True)
    assert browser.get("/api/v1/me").get_json()["display_name"] == "Nia"  # logged in at once


def test_an_address_of_another_organisation_is_answered_like_any_and_its_owner_told(
    browser: FlaskClient, mail_org: DemoOrg, store: EventStore, smtp: LocalMailServer
):
    elsewhere = make_org(store, people_per_team=1)
    taken = elsewhere.emails["platform-1"]
    fresh = f"fresh-{uuid.uuid4().hex[:10]}@demo.test"

    answers = [_invite(browser, mail_org, a) for a in (taken, fresh)]
    assert [a.status_code for a in answers] == [201, 201]
    bodies = [a.get_json() for a in answers]
    assert [sorted(b) for b in bodies] == [["link", "mail", "person_id"]] * 2
    assert [b["mail"] for b in bodies] == ["sent", "sent"]
    assert all(b["link"].startswith(PUBLIC_URL + "/invite/") for b in bodies)

    told = await_mail(smtp.maildir, taken)
    assert told["Subject"] == "Compound: this address already has an account"
    text, html = parts(told)
    assert f"{PUBLIC_URL}/login" in text and f"{PUBLIC_URL}/password/forgot" in text
    assert f'<a href="{PUBLIC_URL}/password/forgot">' in html
    assert "/invite/" not in text  # no way into the other organisation

    # The link of the answer names no one: it reads as an invitation already used.
    used = browser.get(urlsplit(bodies[0]["link"]).path)
    assert used.status_code == 410
    assert "This invitation has been used already" in used.get_data(as_text=True)
    # Our own people stay ours to know: inviting one of them again is a conflict.
    again = _invite(browser, mail_org, mail_org.emails["platform-1"])
    assert again.status_code == 409


def test_a_refused_or_unreachable_server_is_reported_never_logged_as_sent(
    mail_app: Flask,
    mail_settings: Settings,
    mail_org: DemoOrg,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
):
    class Refusing:
        async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
            return "554 5.7.1 no thanks"

    down = free_port(0)  # nothing listens there
    client = mail_app.test_client()
    resources = mail_app.extensions["compound"]
    with smtp_server(Refusing()) as refusing:
        for port in (refusing.port, down):
            mailer = SmtpMailer(dataclasses.replace(mail_settings, smtp_port=port))
            monkeypatch.setattr(resources, "mailer", mailer)
            address = f"lost-{uuid.uuid4().hex[:10]}@demo.test"
            with caplog.at_level(logging.INFO, logger="compound.notify"):
                answer = _invite(client, mail_org, address)
            assert answer.status_code == 201
            assert answer.get_json()["mail"] == "failed"  # the admin learns it, link in hand
            lines = [r.getMessage() for r in caplog.records if address in r.getMessage()]
            assert lines and all("NOT sent" in line for line in lines), lines
            caplog.clear()


def test_cli_invite_mails_and_prints_a_full_url(
    mail_settings: Settings, mail_org: DemoOrg, smtp: LocalMailServer, tmp_path
):
    from services.cli import main

    address = f"cli-{uuid.uuid4().hex[:10]}@demo.test"
    env = {
        "DATABASE_URL": mail_settings.database_url or "",
        "REDIS_URL": mail_settings.redis_url or "",
        "COMPOUND_MASTER_KEYS": ",".join(mail_settings.master_keys),
        "COMPOUND_SECRET_KEY": mail_settings.secret_key or "",
        "COMPOUND_DATA_DIR": str(tmp_path),
        "COMPOUND_SMTP_HOST": "127.0.0.1",
        "COMPOUND_SMTP_PORT": str(smtp.port),
        "COMPOUND_SMTP_STARTTLS": "0",
        "COMPOUND_PUBLIC_URL": PUBLIC_URL,
    }
    result = CliRunner().invoke(
        main, ["users", "invite", address, "--org", str(mail_org.tenant_id)], env=env
    )
    assert result.exit_code == 0, result.output
    printed = result.output.split(": ", 1)[1].split()[0]
    assert printed.startswith(PUBLIC_URL + "/invite/")
    assert "invitation mail sent" in result.output
    assert link_in(await_mail(smtp.maildir, address)) == printed
    assert len(inbox(smtp.maildir, address)) == 1

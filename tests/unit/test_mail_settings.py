"""Mail settings and the HTML part: the public URL every link starts with, the reset links'
lifetime, the demo mailbox, and text turned into escaped HTML with clickable links."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.mail_server import LocalMailServer
from shared.notify import LoggingMailer, Message, Tally, deliver
from shared.settings import Settings, SettingsError


def test_the_public_url_defaults_to_the_gateways_own_address():
    assert Settings.from_env({}).public_url == "http://127.0.0.1:8000"
    assert Settings.from_env({"PORT": "9000"}).public_url == "http://127.0.0.1:9000"
    assert Settings.from_env({"HOST": "0.0.0.0"}).public_url == "http://127.0.0.1:8000"
    assert Settings.from_env({"HOST": "box.lan"}).public_url == "http://box.lan:8000"
    given = {"COMPOUND_PUBLIC_URL": "https://compound.example.com/", "PORT": "9000"}
    assert Settings.from_env(given).public_url == "https://compound.example.com"


@pytest.mark.parametrize("url", ["compound.example.com", "ftp://x.test", "https://", "http:///x"])
def test_a_public_url_that_is_no_http_url_is_refused(url: str):
    with pytest.raises(SettingsError, match="COMPOUND_PUBLIC_URL"):
        Settings.from_env({"COMPOUND_PUBLIC_URL": url})


def test_reset_minutes_and_the_demo_mailbox(tmp_path: Path):
    assert Settings.from_env({}).reset_minutes == 30
    assert Settings.from_env({"COMPOUND_RESET_MINUTES": "5"}).reset_minutes == 5
    with pytest.raises(SettingsError, match="COMPOUND_RESET_MINUTES"):
        Settings.from_env({"COMPOUND_RESET_MINUTES": "0"})
    assert Settings.from_env({}).demo_mailbox is None
    server = LocalMailServer(tmp_path / "mailbox")  # not started: its settings only
    settings = Settings.from_env(server.environment())
    assert settings.demo_mailbox == tmp_path / "mailbox"
    assert (settings.smtp_host, settings.smtp_port) == ("127.0.0.1", server.port)
    assert settings.smtp_starttls is False


def test_the_html_part_escapes_the_text_and_links_its_urls():
    message = Message(
        "a@b.test",
        "Hi",
        "Dear <Ada> & co,\nopen https://x.test/invite/a.b-c_d now.\n\nBye",
    )
    assert message.html.count("<p>") == 2
    assert "Dear &lt;Ada&gt; &amp; co,<br>" in message.html
    assert '<a href="https://x.test/invite/a.b-c_d">https://x.test/invite/a.b-c_d</a> now.' in (
        message.html
    )
    assert "javascript:" not in Message("a@b.test", "x", "javascript:alert(1)").html.replace(
        "javascript:alert(1)", ""
    )
    assert "<a" not in Message("a@b.test", "x", "javascript:alert(1)").html


def test_a_logged_mail_is_never_counted_as_sent():
    tally = Tally()
    tally.add(deliver(LoggingMailer(), Message("a@b.test", "x", "y"), "test"))
    assert (tally.sent, tally.logged, tally.failed) == (0, 1, 0)
    assert str(tally) == "0 sent, 0 failed, 1 logged, not sent (no COMPOUND_SMTP_HOST)"
    assert not Tally()

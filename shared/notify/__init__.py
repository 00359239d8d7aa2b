"""Outgoing mail behind one interface: SMTP when ``COMPOUND_SMTP_HOST`` is set, otherwise
each message is logged (never sent), so a test machine without settings mails nobody.

Every mail is plain text plus an HTML alternative derived from it (links clickable), so the
text written once reads the same in both parts. :func:`deliver` is the one place that says
what became of a mail: ``sent`` only once the SMTP server accepted it, ``logged`` without
SMTP settings, ``failed`` otherwise (the caller decides how it is retried or reported).
"""

from __future__ import annotations

import html
import logging
import re
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Literal, Protocol

from shared.settings import Settings

log = logging.getLogger("compound.notify")

Outcome = Literal["sent", "logged", "failed"]
SMTP_TIMEOUT_SECONDS = 10
"""How long one delivery may wait on the SMTP server (a web request may be waiting too)."""

_URL = re.compile(r"https?://[^\s<>\"']+")


@dataclass(frozen=True)
class Message:
    to: str
    subject: str
    body: str

    @property
    def html(self) -> str:
        """The body as HTML: paragraphs kept, every URL a link, everything else escaped."""
        paragraphs = []
        for block in self.body.strip().split("\n\n"):
            lines = [linked_html(line) for line in block.split("\n")]
            paragraphs.append(f"<p>{'<br>'.join(lines)}</p>")
        return (
            '<!doctype html><html><body style="font-family:sans-serif;line-height:1.5">'
            + "\n".join(paragraphs)
            + "</body></html>"
        )


def linked_html(line: str) -> str:
    """``line`` escaped for HTML, each http(s) URL in it a link."""
    out, last = [], 0
    for match in _URL.finditer(line):
        url = match.group(0)
        out.append(html.escape(line[last : match.start()]))
        out.append(f'<a href="{html.escape(url)}">{html.escape(url)}</a>')
        last = match.end()
    out.append(html.escape(line[last:]))
    return "".join(out)


class Mailer(Protocol):
    delivers: bool
    """True when :meth:`send` hands the mail to a server (False: it only logs it)."""

    def send(self, message: Message) -> None:
        """Deliver ``message`` or raise (the caller keeps it unsent to try again)."""


class LoggingMailer:
    """What runs without SMTP settings: the message goes to the log, nowhere else."""

    delivers = False

    def __init__(self) -> None:
        self.sent: list[Message] = []

    def send(self, message: Message) -> None:
        self.sent.append(message)
        log.info("mail not sent (no COMPOUND_SMTP_HOST): to=%s subject=%r", message.to,
                 message.subject)  # fmt: skip


class SmtpMailer:
    """SMTP with STARTTLS (unless turned off) and optional login; multipart/alternative."""

    delivers = True

    def __init__(self, settings: Settings) -> None:
        assert settings.smtp_host
        self.settings = settings

    def compose(self, message: Message) -> EmailMessage:
        """The MIME message: text first, then its HTML alternative (clients show the last
        part they can)."""
        s = self.settings
        mail = EmailMessage()
        mail["From"], mail["To"], mail["Subject"] = s.smtp_from, message.to, message.subject
        mail["Date"] = formatdate(localtime=False, usegmt=True)
        mail["Message-ID"] = make_msgid(domain=s.smtp_from.rpartition("@")[2] or "localhost")
        mail.set_content(message.body)
        mail.add_alternative(message.html, subtype="html")
        return mail

    def send(self, message: Message) -> None:
        s = self.settings
        with smtplib.SMTP(s.smtp_host or "", s.smtp_port, timeout=SMTP_TIMEOUT_SECONDS) as smtp:
            if s.smtp_starttls:
                smtp.starttls()
            if s.smtp_user:
                smtp.login(s.smtp_user, s.smtp_password or "")
            refused = smtp.send_message(self.compose(message))
        if refused:  # some recipients refused while others were accepted
            raise smtplib.SMTPRecipientsRefused(refused)


def mailer_for(settings: Settings) -> Mailer:
    return SmtpMailer(settings) if settings.smtp_host else LoggingMailer()


def deliver(mailer: Mailer, message: Message, what: str) -> Outcome:
    """Hand ``message`` to ``mailer`` and log honestly what became of it; never raises.

    Parameters:
        mailer: the delivery.
        message: the mail.
        what: what kind of mail it is, for the log (``invitation``, ``password reset`` ...).

    Returns:
        ``sent`` (the server accepted it), ``logged`` (no SMTP settings) or ``failed``.
    """
    try:
        mailer.send(message)
    except Exception as err:  # refused, unreachable, timed out, an address it cannot encode
        log.warning("%s mail NOT sent to %s: %s: %s", what, message.to, type(err).__name__, err)
        return "failed"
    if not mailer.delivers:
        return "logged"
    log.info("%s mail sent to %s", what, message.to)
    return "sent"


@dataclass
class Tally:
    """What became of a batch of mails, for a log line that says no more than happened."""

    sent: int = 0
    logged: int = 0
    failed: int = 0

    def add(self, outcome: Outcome) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)

    def __bool__(self) -> bool:
        return bool(self.sent or self.logged or self.failed)

    def __str__(self) -> str:
        parts = [f"{self.sent} sent", f"{self.failed} failed"]
        if self.logged:
            parts.append(f"{self.logged} logged, not sent (no COMPOUND_SMTP_HOST)")
        return ", ".join(parts)

"""Outgoing mail behind one interface: SMTP when ``COMPOUND_SMTP_HOST`` is set, otherwise
each message is logged (never sent), so a demo or a test machine mails nobody."""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol

from shared.settings import Settings

log = logging.getLogger("compound.notify")


@dataclass(frozen=True)
class Message:
    to: str
    subject: str
    body: str


class Mailer(Protocol):
    def send(self, message: Message) -> None:
        """Deliver ``message`` or raise (the caller keeps it unsent to try again)."""


class LoggingMailer:
    """What runs without SMTP settings: the message goes to the log, nowhere else."""

    def __init__(self) -> None:
        self.sent: list[Message] = []

    def send(self, message: Message) -> None:
        self.sent.append(message)
        log.info("mail not sent (no COMPOUND_SMTP_HOST): to=%s subject=%r", message.to,
                 message.subject)  # fmt: skip


class SmtpMailer:
    """SMTP with STARTTLS (unless turned off) and optional login."""

    def __init__(self, settings: Settings) -> None:
        assert settings.smtp_host
        self.settings = settings

    def send(self, message: Message) -> None:
        s = self.settings
        mail = EmailMessage()
        mail["From"], mail["To"], mail["Subject"] = s.smtp_from, message.to, message.subject
        mail.set_content(message.body)
        with smtplib.SMTP(s.smtp_host or "", s.smtp_port, timeout=30) as smtp:
            if s.smtp_starttls:
                smtp.starttls()
            if s.smtp_user:
                smtp.login(s.smtp_user, s.smtp_password or "")
            smtp.send_message(mail)


def mailer_for(settings: Settings) -> Mailer:
    return SmtpMailer(settings) if settings.smtp_host else LoggingMailer()

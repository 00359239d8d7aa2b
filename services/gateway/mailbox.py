"""The demo's Mailbox: what the local SMTP server of ``make run`` accepted.

``make run`` starts that server (infra/mail_server.py) unless ``COMPOUND_SMTP_HOST`` names
another, and sets ``COMPOUND_DEMO_MAILBOX`` to its Maildir. Only then do these pages exist
(404 otherwise), for logged-in people: a new demo user sees the invitation or reset mail
that was "sent" to them, links clickable. The Maildir holds every organisation's mail of
this one machine; an admin sees those addressed to people of their own organisation (another
organisation's reset links are not theirs to follow), anyone else those addressed to them
(a colleague's question, a digest). A real deployment mails through its own server and has
no mailbox here.
"""

from __future__ import annotations

import mailbox
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parseaddr
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, abort, render_template
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import func, select

from services.gateway.resources import resources
from shared.directory import Person
from shared.i18n import gettext
from shared.notify import linked_html

bp = Blueprint("mailbox", __name__, url_prefix="/mailbox")
LATEST = 200
"""The most mails the list shows (newest first)."""


@dataclass(frozen=True)
class Mail:
    key: str
    to: str
    subject: str
    received: datetime
    text: str

    @property
    def html(self) -> Markup:
        """The text part with its links clickable (escaped: no HTML of the mail is shown)."""
        return Markup("<br>".join(linked_html(line) for line in self.text.split("\n")))


def _maildir() -> Path:
    path = resources().settings.demo_mailbox
    if path is None:
        abort(404)
    return path


@bp.before_request
def _people_in_demo() -> Any:
    _maildir()
    if not current_user.is_authenticated:
        from services.gateway.auth import login_manager

        return login_manager.unauthorized()
    return None


@bp.app_context_processor
def _mailbox_on() -> dict[str, Any]:
    """``mailbox_on``: whether the navigation offers the Mailbox."""
    return {"mailbox_on": resources().settings.demo_mailbox is not None}


def _read(box: mailbox.Maildir, key: str) -> Mail:
    message = box.get_message(key)
    parsed = BytesParser(policy=policy.default).parsebytes(message.as_bytes())
    assert isinstance(parsed, EmailMessage)
    part = parsed.get_body(preferencelist=("plain",))
    text = part.get_content() if part is not None else ""
    return Mail(
        key,
        str(parsed.get("To", "")),
        str(parsed.get("Subject", "")),
        datetime.fromtimestamp(message.get_date(), UTC),
        str(text),
    )


def _address(mail: Mail) -> str:
    return parseaddr(mail.to)[1].lower()


def _ours() -> set[str]:
    """The addresses (lower case) whose mail the reader sees: an admin's organisation's
    (invited people included), anyone else's own."""
    if current_user.role != "admin":
        return {str(current_user.email).lower()} if current_user.email else set()
    with resources().engine.connect() as conn:
        rows = conn.execute(
            select(func.lower(Person.email)).where(
                Person.tenant_id == current_user.tenant_id, Person.email.is_not(None)
            )
        )
        return {row[0] for row in rows}


def _mails() -> list[Mail]:
    path = _maildir()
    if not (path / "cur").is_dir():
        return []  # nothing accepted yet
    box = mailbox.Maildir(path, create=False)
    ours = _ours()
    mails = [m for m in (_read(box, key) for key in box.iterkeys()) if _address(m) in ours]
    return sorted(mails, key=lambda m: m.received, reverse=True)[:LATEST]


@bp.get("")
def index() -> Any:
    return render_template("portal/mailbox.html", mails=_mails(), mail=None)


@bp.get("/<key>")
def show(key: str) -> Any:
    path = _maildir()
    try:
        mail = _read(mailbox.Maildir(path, create=False), key)
    except (KeyError, mailbox.NoSuchMailboxError, OSError):
        abort(404, gettext("No such mail."))
    if _address(mail) not in _ours():
        abort(404, gettext("No such mail."))  # not the reader's to read
    return render_template("portal/mailbox.html", mails=None, mail=mail)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)

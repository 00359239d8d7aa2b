"""Invitations by mail: the signed link that sets a password, and the mail that carries it.

The API (services/gateway/api/admin.py) and the CLI (``compound users invite``) both invite
through here, so the link and the mail are the same whichever invited. The link's token
signs (``COMPOUND_SECRET_KEY``) the organisation and the new person; it works for
:data:`INVITATION_DAYS` days, and once (accepting makes the person active).

An address registered in another organisation is answered like any invitation; its owner
gets a mail saying the address already has an account (how to log in, how to reset the
password) instead of a link.
"""

from __future__ import annotations

import uuid
from typing import Any

from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import Engine, select

from shared.commands.people import Invitation
from shared.directory import Person
from shared.i18n import current_locale, gettext, ngettext, use_locale
from shared.i18n.preferences import recipient_locale
from shared.notify import Mailer, Message, Outcome, deliver
from shared.password_reset import FORGOT_PATH
from shared.settings import Settings

INVITATION_DAYS = 14
INVITATION_PATH = "/invite/"
"""Where an invitation link points (the route of services/gateway/auth.py)."""


def invitation_serializer(secret: str) -> URLSafeTimedSerializer:
    """Signs and reads invitation tokens (``loads(..., max_age=INVITATION_DAYS * 86400)``)."""
    return URLSafeTimedSerializer(secret, salt="invitation")


def is_open(engine: Engine, tenant_id: uuid.UUID, person_id: uuid.UUID) -> bool:
    """Whether the invitation of ``person_id`` can still be accepted: the person is still
    invited (not joined, left or erased). The link's page says so at once when it cannot.

    Parameters:
        engine: the database.
        tenant_id: the organisation the link names.
        person_id: the person the link names.
    """
    with engine.connect() as conn:
        status = conn.execute(
            select(Person.status).where(Person.id == person_id, Person.tenant_id == tenant_id)
        ).scalar()
    return status == "invited"


def invitation_link(settings: Settings, tenant_id: uuid.UUID, person_id: uuid.UUID) -> str:
    """The invitation's link under ``COMPOUND_PUBLIC_URL``."""
    token = invitation_serializer(settings.require_secret_key()).dumps(
        {"t": str(tenant_id), "p": str(person_id)}
    )
    return settings.public_url + INVITATION_PATH + str(token)


def invitation_mail(settings: Settings, invitation: Invitation, link: str) -> Message:
    """The mail to the invited address, in the current language: the link, or, for an
    address that has an account elsewhere, what its owner can do instead."""
    base = settings.public_url
    if invitation.registered_elsewhere:
        body = "\n\n".join(
            (
                gettext(
                    "An admin of an organisation on Compound invited this address, but it "
                    "already has a Compound account (one address holds one account)."
                ),
                gettext("Log in with it here: %(link)s", link=base + "/login")
                + "\n"
                + gettext("Forgot its password? Reset it here: %(link)s", link=base + FORGOT_PATH),
                gettext(
                    "To join the organisation that invited you, ask its admin to invite "
                    "another address of yours. Not expecting this? Ignore this mail."
                ),
            )
        )
        subject = gettext("Compound: this address already has an account")
        return Message(invitation.email, subject, body)
    choose = ngettext(
        "Choose your name and a password here (the link works once, for %(num)d day):",
        "Choose your name and a password here (the link works once, for %(num)d days):",
        INVITATION_DAYS,
    )
    body = "\n\n".join(
        (
            gettext(
                "You are invited to join your team on Compound: small, deliberate moves at "
                "work, compounding into career capital. Your journal is private: managers "
                "only ever see team totals."
            ),
            f"{choose}\n{link}",
            gettext("Not expecting this? Ignore this mail."),
        )
    )
    return Message(invitation.email, gettext("Compound: you are invited"), body)


def mail_invitation(
    settings: Settings,
    mailer: Mailer,
    tenant_id: uuid.UUID,
    invitation: Invitation,
    engine: Engine | None = None,
) -> dict[str, Any]:
    """Mail an invitation and say what became of it.

    Parameters:
        settings: the public URL and the secret key.
        mailer: the delivery.
        tenant_id: the inviting organisation.
        invitation: what :meth:`shared.commands.people.PeopleCommands.invite` returned.
        engine: the database, to write in the invited person's language (theirs if chosen,
            else the organisation's default); without it, the current language.

    Returns:
        ``person_id``, ``link`` (for scripts; for an address registered elsewhere a link
        that names no one, so the answer looks the same) and ``mail``: ``sent``, ``logged``
        (no SMTP settings) or ``failed`` (give the link yourself, or invite again later).
    """
    link = invitation_link(settings, tenant_id, invitation.person_id)
    locale = current_locale()
    if engine is not None:
        with engine.connect() as conn:
            locale = recipient_locale(conn, tenant_id, invitation.person_id)
    with use_locale(locale):
        message = invitation_mail(settings, invitation, link)
    outcome: Outcome = deliver(mailer, message, "invitation")
    return {"person_id": invitation.person_id, "link": link, "mail": outcome}

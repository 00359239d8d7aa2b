"""Password reset links: signed, short-lived and single use, with no table to keep.

A link's token signs (``COMPOUND_SECRET_KEY``) the person, the time it was issued and a
fingerprint of their password hash at that time. Using it sets a new password (a
``PasswordSet`` event), so the hash changes and the same link no longer matches: used once.
Any later password change voids it the same way. Links expire after
``COMPOUND_RESET_MINUTES``.

Only active people get a link; an unknown, invited, departed or erased address gets no mail
and the same answer (services/gateway/reset.py).
"""

from __future__ import annotations

import hmac
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import Engine, func, select

from shared.directory import Person
from shared.domain.errors import Gone, NotFound
from shared.i18n import N_, gettext, ngettext, use_locale
from shared.i18n.preferences import language_settings
from shared.i18n.selection import select_locale
from shared.notify import Message
from shared.security import keyed_hash
from shared.settings import Settings

RESET_PATH = "/password/reset/"
"""Where a reset link points (the route of services/gateway/reset.py)."""
FORGOT_PATH = "/password/forgot"


@dataclass(frozen=True)
class ResetHolder:
    """Whom a valid reset link lets set a new password."""

    tenant_id: uuid.UUID
    person_id: uuid.UUID
    email: str


def fingerprint(secret: str, password_hash: str) -> str:
    """A keyed digest of a password hash: the link carries this, never the hash."""
    return keyed_hash(secret, "password-reset", password_hash)[:32]


class ResetLinks:
    """Issue and check reset tokens.

    Parameters:
        settings: the secret key, the links' lifetime (minutes) and the public URL.
        clock: the current time in seconds (tests inject one).
    """

    def __init__(self, settings: Settings, clock: Callable[[], float] = time.time) -> None:
        self.secret = settings.require_secret_key()
        self.max_age = settings.reset_minutes * 60
        self.public_url = settings.public_url
        self.minutes = settings.reset_minutes
        self.clock = clock
        self._serializer = URLSafeSerializer(self.secret, salt="password-reset")

    def token(self, person_id: uuid.UUID, password_hash: str) -> str:
        """A token for ``person_id``, valid while their password hash stays ``password_hash``."""
        issued = int(self.clock())
        return str(
            self._serializer.dumps(
                [str(person_id), fingerprint(self.secret, password_hash), issued]
            )
        )

    def mail_for(
        self, engine: Engine, email: str, browser_languages: str | None = None
    ) -> Message | None:
        """The reset mail for the active person whose address is ``email``, or None.

        Parameters:
            engine: the database.
            email: the address typed (case-insensitive).
            browser_languages: the ``Accept-Language`` of the browser that asked: the mail
                is in the person's own language, else the browser's, else their
                organisation's default.

        Returns:
            The mail holding the link, or None when no active person with a password has
            that address (the caller answers the same either way).
        """
        with engine.connect() as conn:
            row = conn.execute(
                select(Person.id, Person.tenant_id, Person.email, Person.password_hash).where(
                    func.lower(Person.email) == email.strip().lower(),
                    Person.status == "active",
                )
            ).first()
            # The same reads whether or not the address has an account: the answer's time
            # must not tell (services/gateway/reset.py).
            tenant_id, person_id = (row.tenant_id, row.id) if row is not None else (None, None)
            chosen, organisation = language_settings(conn, tenant_id, person_id)
        if row is None or not row.password_hash or not row.email:
            return None
        link = self.public_url + RESET_PATH + self.token(row.id, row.password_hash)
        with use_locale(select_locale(chosen, browser_languages, organisation)):
            choose = ngettext(
                "Choose a new password here (the link works once, for %(num)d minute):",
                "Choose a new password here (the link works once, for %(num)d minutes):",
                self.minutes,
            )
            body = "\n\n".join(
                (
                    gettext(
                        "Someone (we hope you) asked to reset the password of your Compound "
                        "account."
                    ),
                    f"{choose}\n{link}",
                    gettext("Did not ask? Ignore this mail: your password stays as it is."),
                )
            )
            subject = gettext("Compound: reset your password")
        return Message(row.email, subject, body)

    def check(self, engine: Engine, token: str) -> ResetHolder:
        """The person a token lets set a new password.

        Raises:
            NotFound: the token is not one Compound signed (tampered, truncated).
            Gone: it has expired, was used already (the password changed since), or its
                person is no longer active.
        """
        try:
            person, print_, issued = self._serializer.loads(token)
            person_id, issued = uuid.UUID(person), int(issued)
        except (BadSignature, ValueError, TypeError):
            raise NotFound(N_("This reset link is not valid.")) from None
        if not 0 <= self.clock() - issued <= self.max_age:
            raise Gone(N_("This reset link has expired: ask for a new one."))
        with engine.connect() as conn:
            row = conn.execute(
                select(Person.tenant_id, Person.email, Person.password_hash, Person.status).where(
                    Person.id == person_id
                )
            ).first()
        if (
            row is None
            or row.status != "active"
            or not row.password_hash
            or not hmac.compare_digest(fingerprint(self.secret, row.password_hash), str(print_))
        ):
            raise Gone(N_("This reset link has been used already: ask for a new one."))
        return ResetHolder(row.tenant_id, person_id, row.email or "")

"""The half-logged-in state: the password was right, the second factor is still to come.

It is a note in the session cookie (signed, so not forgeable), never a login: Flask-Login
knows no user, so every page and API route refuses the request exactly as for a stranger.
Only the second step's own pages (services/gateway/second_factor.py) read the note, and
only for :data:`MAX_AGE_SECONDS` after the password.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from flask import session

KEY = "pending_login"
MAX_AGE_SECONDS = 600  # time to find the phone, or to scan the QR code when enrolling


@dataclass(frozen=True)
class PendingLogin:
    """Who gave the right password, where they were going, and what the second step is.

    Attributes:
        person_id: the person.
        next_page: the local page to land on once logged in.
        enrol: True when the organisation requires a second factor they do not have yet
            (the step is to enrol one); False when they have one (the step is a code).
        secret: the TOTP secret shown for enrolment (None until the enrolment page is shown).
    """

    person_id: uuid.UUID
    next_page: str
    enrol: bool
    secret: str | None = None


def begin(person_id: uuid.UUID, next_page: str, enrol: bool) -> None:
    """Note that ``person_id`` passed the password step (replacing any earlier note)."""
    session[KEY] = {
        "p": str(person_id),
        "n": next_page,
        "e": enrol,
        "s": None,
        "t": int(time.time()),
    }


def current() -> PendingLogin | None:
    """The note, while fresh; an expired or malformed one is dropped."""
    note = session.get(KEY)
    if not isinstance(note, dict):
        return None
    try:
        if time.time() - int(note["t"]) > MAX_AGE_SECONDS:
            raise ValueError("expired")
        return PendingLogin(uuid.UUID(note["p"]), str(note["n"]), bool(note["e"]), note["s"])
    except (KeyError, TypeError, ValueError):
        clear()
        return None


def remember_secret(secret: str) -> None:
    """Keep the secret shown for enrolment, so that the confirming post checks that one."""
    note = session.get(KEY)
    if isinstance(note, dict):
        session[KEY] = {**note, "s": secret}


def clear() -> None:
    session.pop(KEY, None)

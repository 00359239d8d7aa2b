"""A secret a form just created (a personal access token, recovery codes), carried across the
redirect after the post and shown by the next page once (post-redirect-get: a refresh then
creates nothing again).

The value rides in the session cookie for that one round trip, encrypted (Fernet, a key
derived from ``COMPOUND_SECRET_KEY``): the cookie is signed but readable, and a secret must
never show in it, in a URL or in a log. Taking it removes it.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from flask import session

from services.gateway.resources import resources

PREFIX = "once:"
MAX_AGE_SECONDS = 300
"""A value not shown within five minutes of its post is dropped unread."""


def _fernet() -> Fernet:
    secret = resources().settings.require_secret_key()
    key = hashlib.sha256(f"shown-once\x1f{secret}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def keep(name: str, value: Any) -> None:
    """Keep ``value`` (JSON) for the next page of this session to show once.

    Parameters:
        name: what it is (``new_token``, ``recovery_codes``).
        value: the secret, JSON-serialisable.
    """
    session[PREFIX + name] = _fernet().encrypt(json.dumps(value).encode()).decode()


def take(name: str) -> Any | None:
    """The value kept under ``name``, removed from the session; None when there is none (a
    refresh, another tab, or older than :data:`MAX_AGE_SECONDS`)."""
    sealed = session.pop(PREFIX + name, None)
    if not isinstance(sealed, str):
        return None
    try:
        return json.loads(_fernet().decrypt(sealed.encode(), ttl=MAX_AGE_SECONDS))
    except InvalidToken:
        return None

"""The portal's server-side sessions, as the gateway uses them (the rows: shared/sessions.py).

The signed session cookie carries the session's secret under :data:`SECRET_KEY` (plus
Flask-WTF's CSRF token) and nothing else: no person id, so a cookie saved before a logout
names a row that has ended, and is refused. Logging in clears the cookie's old contents (no
session fixation) and starts a row; logging out ends the row.

The clock is ``app.config["SESSION_CLOCK"]`` when set (tests move time with it), else the
wall clock.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import cast

from flask import current_app, session

from services.gateway.context import current_request, request_globals
from services.gateway.resources import resources
from shared import sessions
from shared.sessions import ActiveSession, Lifetimes, SessionCaller

SECRET_KEY = "s"
"""The session cookie's key holding the session secret."""
CSRF_KEY = "csrf_token"
"""Flask-WTF's key (its ``WTF_CSRF_FIELD_NAME`` default) in the session cookie."""
_UNREAD = object()


def now() -> datetime:
    """The gateway's clock (``SESSION_CLOCK`` in the app's config, for tests)."""
    clock = current_app.config.get("SESSION_CLOCK")
    return clock() if clock is not None else datetime.now(UTC)


def lifetimes() -> Lifetimes:
    """The idle and absolute lifetimes of the settings."""
    return Lifetimes.of(resources().settings)


def begin(tenant_id: uuid.UUID, person_id: uuid.UUID) -> None:
    """Start a session for a person and put its secret in a fresh cookie."""
    request = current_request()
    _, secret = sessions.start(
        resources().engine,
        tenant_id,
        person_id,
        request.headers.get("User-Agent", ""),
        request.remote_addr or "",
        now(),
        lifetimes(),
    )
    session.clear()  # nothing from before the login survives it (session fixation)
    session[SECRET_KEY] = secret


def from_cookie() -> SessionCaller | None:
    """The valid session the request's cookie names, looked up once per request."""
    context = request_globals()
    cached = context.get("web_session", _UNREAD)
    if cached is not _UNREAD:
        return cast(SessionCaller | None, cached)
    secret = session.get(SECRET_KEY)
    found = None
    if isinstance(secret, str) and secret:
        found = sessions.caller_for(resources().engine, secret, now(), lifetimes())
    context.web_session = found
    return found


def end_current(reason: str) -> None:
    """End the request's session (its row, and the cookie's contents)."""
    found = from_cookie()
    if found is not None:
        sessions.end(resources().engine, found.session_id, reason, now())
    session.clear()


def reissue(tenant_id: uuid.UUID, person_id: uuid.UUID) -> None:
    """Replace the request's session by a new one: after the caller's own password change,
    which ended every session made before it, this one included. The CSRF token stays, so
    the caller's other tabs keep working (the same person on the same device)."""
    csrf = session.get(CSRF_KEY)
    end_current("password changed")
    request_globals().web_session = _UNREAD
    begin(tenant_id, person_id)
    if csrf is not None:
        session[CSRF_KEY] = csrf


def listed(person_id: uuid.UUID) -> list[ActiveSession]:
    """A person's valid sessions, the most recently seen first."""
    return sessions.active(resources().engine, person_id, now(), lifetimes())


def revoke(person_id: uuid.UUID, session_id: uuid.UUID) -> bool:
    """End one of a person's sessions (from another device); False: not theirs, or over."""
    return sessions.end(resources().engine, session_id, "revoked", now(), person_id)

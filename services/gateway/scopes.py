"""Which scope each API route needs from a personal access token (issue #20).

One table, by blueprint: a blueprint's reads need its read scope, its writes its write scope;
a few endpoints are named one by one. Session credentials (the portal's cookie, the login
token) carry every scope, so only personal tokens are checked; every route keeps its own role
checks besides (a scope is a ceiling, never a grant: shared/domain/scopes.py).
"""

from __future__ import annotations

import uuid

from flask import Request

from shared.domain.errors import Forbidden
from shared.domain.scopes import ADMIN, JOURNAL_READ, JOURNAL_WRITE, LEVERS_READ

_BY_BLUEPRINT: dict[str, tuple[str | None, str | None]] = {
    # blueprint: (scope of GET and HEAD, scope of writes)
    "journal": (JOURNAL_READ, JOURNAL_WRITE),
    "reads": (JOURNAL_READ, JOURNAL_WRITE),
    "working_hours": (JOURNAL_READ, JOURNAL_WRITE),
    "absences": (JOURNAL_READ, JOURNAL_WRITE),
    "verification": (JOURNAL_READ, JOURNAL_WRITE),
    "levers": (LEVERS_READ, ADMIN),
    "admin": (ADMIN, ADMIN),
    "operations": (ADMIN, ADMIN),
    "sso_admin": (ADMIN, ADMIN),  # the organisation's single sign-on
    "provisioning": (ADMIN, ADMIN),  # its SCIM tokens
    # Who am I, my tokens and sessions: any valid token (minting is refused in the view).
    "session": (None, None),
    "credentials": (None, None),
}
_BY_ENDPOINT: dict[str, str] = {
    "session.export_me": JOURNAL_READ,
    "admin.list_teams": JOURNAL_READ,  # the caller's own teams (an admin's: all of them)
    "levers.get_org_settings": ADMIN,
}
_READS = frozenset({"GET", "HEAD", "OPTIONS"})


def required_scope(request: Request, person_id: uuid.UUID | None = None) -> str | None:
    """The scope the request's route needs (None: any valid credential).

    Parameters:
        request: the API request.
        person_id: the caller (erasing oneself is a journal write, erasing others admin).

    Returns:
        The scope, or None.
    """
    endpoint = request.endpoint or ""
    if endpoint == "admin.erase_person" and (request.view_args or {}).get("person_id") == (
        person_id
    ):
        return JOURNAL_WRITE
    if endpoint in _BY_ENDPOINT:
        return _BY_ENDPOINT[endpoint]
    read, write = _BY_BLUEPRINT.get(request.blueprint or "", (ADMIN, ADMIN))
    return read if request.method in _READS else write


def require_scope(
    scopes: frozenset[str] | None, request: Request, person_id: uuid.UUID | None = None
) -> None:
    """Refuse a token whose ``scopes`` lack the route's.

    Parameters:
        scopes: the token's scopes (None: every scope).
        request: the API request.
        person_id: the token's person.

    Raises:
        Forbidden: the scope is missing (named in the message and under ``scope``).
    """
    if scopes is None:
        return
    needed = required_scope(request, person_id)
    if needed is not None and needed not in scopes:
        raise Forbidden(
            f"this token lacks the scope {needed!r}", {"scope": [f"Missing scope {needed!r}."]}
        )

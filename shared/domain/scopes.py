"""What a personal access token may do: its scopes and its lifetime (issue #20).

A scope is a ceiling, never a grant: a token with ``admin`` still needs an admin behind it,
and every route keeps its own role checks. Session credentials (the portal's cookie and the
``POST /auth/token`` login token) carry every scope of their person's role.
"""

from __future__ import annotations

from collections.abc import Iterable

from shared.domain.errors import Text

JOURNAL_READ = "journal:read"
JOURNAL_WRITE = "journal:write"
LEVERS_READ = "levers:read"
ADMIN = "admin"
SCOPES = (JOURNAL_READ, JOURNAL_WRITE, LEVERS_READ, ADMIN)
"""Every scope, in the order pages and docs list them."""

TOKEN_DAYS_DEFAULT = 90
TOKEN_DAYS_MAX = 365
LEGACY_TOKEN_DAYS = 90
"""A personal token created before scopes existed keeps every scope and expires this many
days after its creation (its event carries no ``scopes``)."""


def scopes_of_role(role: str) -> frozenset[str]:
    """The scopes a person of ``role`` may hold: ``admin`` for admins only.

    Parameters:
        role: ``employee``, ``manager`` or ``admin``.

    Returns:
        The scopes a token of theirs may carry.
    """
    everyone = {JOURNAL_READ, JOURNAL_WRITE, LEVERS_READ}
    return frozenset(everyone | {ADMIN} if role == ADMIN else everyone)


def token_errors(role: str, scopes: Iterable[str], days: int) -> dict[str, list[str]]:
    """Why a new personal token with ``scopes`` valid ``days`` days cannot be made.

    Parameters:
        role: the role of the person asking for it.
        scopes: the scopes asked for.
        days: the days until it expires.

    Returns:
        Messages per field (``scopes``, ``expires_in_days``); empty when it can be made.
    """
    errors: dict[str, list[str]] = {}
    asked = list(scopes)
    unknown = [s for s in asked if s not in SCOPES]
    if not asked:
        errors["scopes"] = [
            Text("Choose at least one scope of %(scopes)s.", scopes=", ".join(SCOPES))
        ]
    elif unknown:
        errors["scopes"] = [
            Text(
                "Unknown scope %(scope)s: one of %(scopes)s.",
                scope=repr(unknown[0]),
                scopes=", ".join(SCOPES),
            )
        ]
    elif not set(asked) <= scopes_of_role(role):
        errors["scopes"] = [Text("Only an admin may hold the %(scope)s scope.", scope=repr(ADMIN))]
    if not 1 <= days <= TOKEN_DAYS_MAX:
        errors["expires_in_days"] = [
            Text("A token lasts from 1 to %(max)d days.", max=TOKEN_DAYS_MAX)
        ]
    return errors

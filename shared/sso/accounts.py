"""Who a verified sign-in is: the linked person, else the person with the verified e-mail
(linked from then on), else a new account when the organisation allows just-in-time ones.

Every change is an event through the directory's ``append`` (``PersonInvited`` and
``PersonJoined`` for a new or invited person, ``SsoIdentityLinked`` for the link), in one
transaction: a refused sign-in writes nothing.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Connection as DbConnection
from sqlalchemy import text

from shared.commands.base import append, system_actor
from shared.eventlog import EventStore, NewEvent
from shared.i18n import N_, gettext
from shared.sso.config import Connection, email_domain
from shared.sso.oidc import SsoError
from shared.sso.store import identity_hash, link_identity, linked_person

NO_ACCOUNT = N_("There is no Compound account for %(email)s: ask your admin for an invitation.")
NOT_VERIFIED = N_(
    "Your identity provider did not confirm your e-mail address, so it cannot sign you in "
    "here: ask your admin."
)
ENDED = N_("This account is no longer active: ask your admin.")
RACED = N_("Sign-in raced another: try again.")
# The page showing an SsoError translates its message (services/gateway/sso.py); one with a
# value in it is translated here, where the value is known.


def verified_email(claims: dict[str, Any]) -> str | None:
    """The claims' e-mail when the provider vouches for it (``email_verified``, or Entra
    ID's ``xms_edov``: the domain's owner verified it), lower-cased; else None."""
    email = claims.get("email")
    vouched = any(claims.get(name) in (True, "true") for name in ("email_verified", "xms_edov"))
    if not isinstance(email, str) or not vouched or email_domain(email) is None:
        return None
    return email.strip().lower()


def _person(conn: DbConnection, where: str, **params: Any) -> Any:
    return conn.execute(
        text(f"SELECT id, tenant_id, status, display_name FROM people WHERE {where}"), params
    ).first()


def person_for(store: EventStore, connection: Connection, claims: dict[str, Any]) -> uuid.UUID:
    """The person a verified sign-in to ``connection``'s organisation is.

    Parameters:
        store: the event store.
        connection: the organisation the sign-in started for.
        claims: the checked ID token's claims.

    Returns:
        An active person of the organisation.

    Raises:
        SsoError: no such person (and no just-in-time account), an unverified e-mail, a
            person who left, or an address of another domain or organisation.
    """
    tenant = connection.tenant_id
    hashed = identity_hash(connection.issuer, str(claims["sub"]))
    with store.engine.connect() as conn:  # the common case: one read, no transaction
        known = conn.execute(
            text(
                "SELECT p.id, p.status FROM sso_identities i JOIN people p ON p.id = i.person_id "
                "AND p.tenant_id = i.tenant_id WHERE i.tenant_id = :t AND i.identity_hash = :h"
            ),
            {"t": tenant, "h": hashed},
        ).first()
    if known is not None:
        if known.status != "active":
            raise SsoError("linked person not active", ENDED)
        return uuid.UUID(str(known.id))
    return _first_sign_in(store, connection, claims, hashed)


def _first_sign_in(
    store: EventStore, connection: Connection, claims: dict[str, Any], hashed: str
) -> uuid.UUID:
    """Match by verified e-mail (or create just in time) and link, in one transaction."""
    tenant = connection.tenant_id
    with store.engine.begin() as conn:
        if linked_person(conn, tenant, hashed) is not None:  # linked by a parallel sign-in
            raise SsoError("identity linked meanwhile", RACED)
        email = verified_email(claims)
        if email is None:
            raise SsoError("e-mail missing or not verified", NOT_VERIFIED)
        if email_domain(email) not in connection.domains:
            raise SsoError(
                "e-mail outside the organisation's domains", gettext(NO_ACCOUNT, email=email)
            )
        row = _person(conn, "lower(email) = :e", e=email)
        if row is not None and row.tenant_id != tenant:
            refusal = gettext(NO_ACCOUNT, email=email)
            raise SsoError("e-mail belongs to another organisation", refusal)
        if row is None and not connection.jit_accounts:
            raise SsoError(
                "no account, just-in-time accounts off", gettext(NO_ACCOUNT, email=email)
            )
        if row is not None and row.status not in ("active", "invited"):
            raise SsoError("matched person not active", ENDED)
        created = row is None
        person_id = uuid.uuid4() if row is None else uuid.UUID(str(row.id))
        if row is None or row.status == "invited":
            _join(store, conn, tenant, person_id, email, claims, invite=row is None)
        link_identity(store, conn, tenant, person_id, hashed, created)
    return person_id


def _join(
    store: EventStore,
    conn: DbConnection,
    tenant: uuid.UUID,
    person_id: uuid.UUID,
    email: str,
    claims: dict[str, Any],
    invite: bool,
) -> None:
    """An account made just in time (invited and joined at once), or an invited person
    joining by signing in; no password: they sign in through the provider."""
    name = str(claims.get("name") or "").strip()[:200] or email.split("@")[0][:200]
    events = []
    if invite:
        invited = {"person_id": str(person_id), "email": email, "role": "employee", "team_id": None}
        events.append(NewEvent("PersonInvited", invited))
    joined = {"person_id": str(person_id), "display_name": name, "time_zone": "UTC"}
    events.append(NewEvent("PersonJoined", joined))
    append(
        store,
        conn,
        system_actor(tenant, source="sso"),
        f"person-{person_id}",
        events,
        expected_version=0 if invite else None,
    )

"""Connections, their domains and linked identities: events, and the rows written with them.

Every change is an event (``SsoConfigured``, ``SsoRemoved``, ``SsoIdentityLinked``:
shared/eventlog/events_sso.py) appended in the transaction that also writes the rows the
login reads (migration 0027), so the rows never lag the log.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from sqlalchemy import Connection as DbConnection
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from shared.commands.base import Actor, append, system_actor
from shared.commands.credentials import sign_out_people
from shared.commands.organization_core import require_admin
from shared.directory.callers import active_people
from shared.domain.errors import Conflict, InvalidInput, NotFound
from shared.eventlog import EventStore, NewEvent
from shared.sso.config import Connection, ConnectionInput, check, email_domain

_COLUMNS = (
    "c.tenant_id, c.issuer, c.client_id, c.client_secret, "
    "ARRAY(SELECT d.domain FROM sso_domains d WHERE d.tenant_id = c.tenant_id "
    "ORDER BY d.domain) AS domains, c.sso_required, c.jit_accounts, c.break_glass_person_id"
)


def _connection(row: Any) -> Connection:
    return Connection(
        row.tenant_id,
        row.issuer,
        row.client_id,
        row.client_secret,
        tuple(row.domains),
        row.sso_required,
        row.jit_accounts,
        row.break_glass_person_id,
    )


def connection_for_tenant(conn: DbConnection, tenant_id: uuid.UUID) -> Connection | None:
    """The organisation's connection, or None when it signs in with passwords only."""
    row = conn.execute(
        text(f"SELECT {_COLUMNS} FROM sso_connections c WHERE c.tenant_id = :t"), {"t": tenant_id}
    ).first()
    return None if row is None else _connection(row)


def connection_for_email(conn: DbConnection, email: str) -> Connection | None:
    """The connection of the organisation that owns the address's domain, if any."""
    domain = email_domain(email)
    if domain is None:
        return None
    row = conn.execute(
        text(
            f"SELECT {_COLUMNS} FROM sso_domains x JOIN sso_connections c "
            "ON c.tenant_id = x.tenant_id WHERE x.domain = :d"
        ),
        {"d": domain},
    ).first()
    return None if row is None else _connection(row)


def _break_glass(conn: DbConnection, tenant_id: uuid.UUID, email: str | None) -> uuid.UUID | None:
    if email is None:
        return None
    row = conn.execute(
        text(
            "SELECT id FROM people WHERE tenant_id = :t AND lower(email) = lower(:e) "
            "AND role = 'admin' AND status = 'active'"
        ),
        {"t": tenant_id, "e": email},
    ).first()
    if row is None:
        raise InvalidInput(
            "invalid SSO configuration",
            {"break_glass_email": ["Name an active admin of this organisation."]},
        )
    return uuid.UUID(str(row.id))


def _claimed_elsewhere(conn: DbConnection, tenant_id: uuid.UUID, domains: tuple[str, ...]) -> None:
    taken = (
        conn.execute(
            text("SELECT domain FROM sso_domains WHERE domain = ANY(:d) AND tenant_id <> :t"),
            {"d": list(domains), "t": tenant_id},
        )
        .scalars()
        .all()
    )
    # Nor may an admin route a domain whose people belong to another organisation: its login
    # page would send them to this organisation's provider (a phishing page, if the admin
    # wished). Without DNS proof of ownership, the directory is the evidence there is.
    peopled = (
        conn.execute(
            text(
                "SELECT DISTINCT lower(split_part(email, '@', 2)) FROM people "
                "WHERE tenant_id <> :t AND lower(split_part(email, '@', 2)) = ANY(:d)"
            ),
            {"d": list(domains), "t": tenant_id},
        )
        .scalars()
        .all()
    )
    if taken or peopled:
        names = ", ".join(sorted({*taken, *peopled}))
        raise Conflict(
            "a domain belongs to another organisation",
            {"domains": [f"Already in use by another organisation: {names}."]},
        )


def configure(store: EventStore, actor: Actor, body: dict[str, Any]) -> Connection:
    """Set the organisation's provider (admins): ``SsoConfigured`` and its rows.

    Parameters:
        store: the event store (its master keys seal the client secret).
        actor: an admin of the organisation (or the system, from the CLI).
        body: the admin's input (:func:`shared.sso.config.check`).

    Returns:
        The stored connection.

    Raises:
        Forbidden: the actor is not an admin.
        InvalidInput: a field is wrong (nothing written).
        Conflict: a domain is routed to another organisation.
        MissingMasterKey: no master key to seal the secret with.
    """
    require_admin(actor)
    tenant = actor.tenant_id
    try:
        with store.engine.begin() as conn:
            conn.execute(text("SELECT pg_advisory_xact_lock(7406021027)"))  # domains: one writer
            before = connection_for_tenant(conn, tenant)
            given = check(body, secret_known=before is not None)
            break_glass = _break_glass(conn, tenant, given.break_glass_email)
            _claimed_elsewhere(conn, tenant, given.domains)
            sealed = _sealed(store, given, before)
            data = {
                "issuer": given.issuer,
                "client_id": given.client_id,
                "client_secret_sealed": sealed,
                "domains": list(given.domains),
                "sso_required": given.sso_required,
                "jit_accounts": given.jit_accounts,
                "break_glass_person_id": str(break_glass) if break_glass else None,
            }
            append(store, conn, actor, f"sso-{tenant}", [NewEvent("SsoConfigured", data)])
            _write_rows(conn, tenant, given, sealed, break_glass)
            if given.sso_required and not (before and before.sso_required):
                _sign_out_password_users(store, conn, actor, break_glass)
            found = connection_for_tenant(conn, tenant)
    except IntegrityError:  # another organisation took a domain in the same instant
        raise Conflict(
            "a domain belongs to another organisation",
            {"domains": ["Already routed to another organisation."]},
        ) from None
    assert found is not None
    return found


def _sign_out_password_users(
    store: EventStore, conn: DbConnection, actor: Actor, break_glass: uuid.UUID | None
) -> None:
    """Single sign-on just became required: every session and token of the organisation's
    people ends, so each signs in again through the provider; the break-glass admin and the
    admin deciding keep theirs."""
    keep = {break_glass, actor.person_id}
    people = active_people(conn, actor.tenant_id)
    sign_out_people(store, conn, actor, (p for p in people if p not in keep))


def _sealed(store: EventStore, given: ConnectionInput, before: Connection | None) -> str:
    if given.client_secret is None:
        assert before is not None
        return before.client_secret_sealed
    return store.keyring.master.encrypt(given.client_secret.encode()).decode()


def _write_rows(
    conn: DbConnection,
    tenant: uuid.UUID,
    given: ConnectionInput,
    sealed: str,
    break_glass: uuid.UUID | None,
) -> None:
    conn.execute(
        text(
            "INSERT INTO sso_connections (tenant_id, issuer, client_id, client_secret, "
            "sso_required, jit_accounts, break_glass_person_id, configured_at) "
            "VALUES (:t, :i, :c, :s, :r, :j, :b, now()) ON CONFLICT (tenant_id) DO UPDATE SET "
            "issuer = :i, client_id = :c, client_secret = :s, sso_required = :r, "
            "jit_accounts = :j, break_glass_person_id = :b, configured_at = now()"
        ),
        {
            "t": tenant,
            "i": given.issuer,
            "c": given.client_id,
            "s": sealed,
            "r": given.sso_required,
            "j": given.jit_accounts,
            "b": break_glass,
        },
    )
    conn.execute(text("DELETE FROM sso_domains WHERE tenant_id = :t"), {"t": tenant})
    conn.execute(
        text("INSERT INTO sso_domains (domain, tenant_id) SELECT unnest(CAST(:d AS text[])), :t"),
        {"d": list(given.domains), "t": tenant},
    )


def remove(store: EventStore, actor: Actor) -> None:
    """End the organisation's SSO (admins): ``SsoRemoved``; passwords work again.

    Raises:
        Forbidden: the actor is not an admin.
        NotFound: the organisation has no connection.
    """
    require_admin(actor)
    with store.engine.begin() as conn:
        before = connection_for_tenant(conn, actor.tenant_id)
        if before is None:
            raise NotFound("this organisation has no single sign-on")
        append(
            store,
            conn,
            actor,
            f"sso-{actor.tenant_id}",
            [NewEvent("SsoRemoved", {"issuer": before.issuer})],
        )
        conn.execute(
            text("DELETE FROM sso_connections WHERE tenant_id = :t"), {"t": actor.tenant_id}
        )


def open_secret(store: EventStore, connection: Connection) -> str:
    """The client secret in clear (for the token request only)."""
    return store.keyring.master.decrypt(connection.client_secret_sealed.encode()).decode()


def identity_hash(issuer: str, subject: str) -> str:
    """What is kept of an identity at a provider: SHA-256 of issuer and subject."""
    return hashlib.sha256(f"{issuer}\n{subject}".encode()).hexdigest()


def linked_person(conn: DbConnection, tenant_id: uuid.UUID, hashed: str) -> uuid.UUID | None:
    """The person an identity was linked to, if any."""
    found = conn.execute(
        text("SELECT person_id FROM sso_identities WHERE tenant_id = :t AND identity_hash = :h"),
        {"t": tenant_id, "h": hashed},
    ).scalar()
    return None if found is None else uuid.UUID(str(found))


def link_identity(
    store: EventStore,
    conn: DbConnection,
    tenant_id: uuid.UUID,
    person_id: uuid.UUID,
    hashed: str,
    created: bool,
) -> None:
    """Append ``SsoIdentityLinked`` and its row, in the caller's transaction."""
    actor = system_actor(tenant_id, source="sso")
    data = {"person_id": str(person_id), "identity_hash": hashed, "created": created}
    append(store, conn, actor, f"sso-identity-{person_id}", [NewEvent("SsoIdentityLinked", data)])
    conn.execute(
        text(
            "INSERT INTO sso_identities (tenant_id, identity_hash, person_id) "
            "VALUES (:t, :h, :p) ON CONFLICT DO NOTHING"
        ),
        {"t": tenant_id, "h": hashed, "p": person_id},
    )

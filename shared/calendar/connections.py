"""Calendar connections: who connected which provider, their OAuth tokens (encrypted at rest
with the master keys, a MultiFernet) and the connection's state.

Connecting and disconnecting are commands: each changes the connection row and appends its
event (``CalendarConnected`` / ``CalendarDisconnected``) in one transaction. A connection's id
is derived from the person and provider, so reconnecting continues the same connection and
a full resync after it appends nothing already in the log.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from cryptography.fernet import Fernet, MultiFernet
from sqlalchemy import Connection as DbConnection
from sqlalchemy import Engine

from shared.database import as_psycopg
from shared.eventlog import AppendContext, EventStore, MissingMasterKey, NewEvent

CONNECTION_NAMESPACE = uuid.UUID("0c4a1e5d-77b1-4d0e-8d0e-6c61656e6461")


def connection_id_for(person_id: uuid.UUID, provider: str) -> uuid.UUID:
    return uuid.uuid5(CONNECTION_NAMESPACE, f"{person_id}|{provider}")


def stream_for(person_id: uuid.UUID) -> str:
    return f"calendar-{person_id}"


class TokenCipher:
    """Encrypts OAuth tokens with the master keys (newest first); rotation re-encrypts."""

    def __init__(self, master_keys: tuple[str, ...] | list[str]):
        self._fernet = MultiFernet([Fernet(k) for k in master_keys]) if master_keys else None

    @property
    def fernet(self) -> MultiFernet:
        if self._fernet is None:
            raise MissingMasterKey()
        return self._fernet

    def seal(self, token: dict[str, Any]) -> bytes:
        return self.fernet.encrypt(orjson.dumps(token))

    def open(self, sealed: bytes) -> dict[str, Any]:
        value = orjson.loads(self.fernet.decrypt(sealed))
        assert isinstance(value, dict)
        return value


@dataclass
class CalendarConnection:
    id: uuid.UUID
    tenant_id: uuid.UUID
    person_id: uuid.UUID
    provider: str
    status: str
    token: dict[str, Any] | None
    sync_token: str | None
    last_sync_at: datetime | None
    last_error: str | None
    meetings: int

    @property
    def stream(self) -> str:
        return stream_for(self.person_id)


_COLUMNS = (
    "id, tenant_id, person_id, provider, status, token, sync_token, last_sync_at, "
    "last_error, meetings"
)


class Connections:
    """The connection rows and the commands that change them.

    Parameters:
        store: appends the connection events.
        cipher: encrypts tokens at rest.
    """

    def __init__(self, store: EventStore, cipher: TokenCipher):
        self.store = store
        self.engine: Engine = store.engine
        self.cipher = cipher

    def _row(self, row: Any) -> CalendarConnection:
        sealed = row[5]
        return CalendarConnection(
            id=row[0],
            tenant_id=row[1],
            person_id=row[2],
            provider=row[3],
            status=row[4],
            token=self.cipher.open(bytes(sealed)) if sealed is not None else None,
            sync_token=row[6],
            last_sync_at=row[7],
            last_error=row[8],
            meetings=row[9],
        )

    def get(self, connection_id: uuid.UUID) -> CalendarConnection | None:
        with self.engine.connect() as db:
            row = (
                as_psycopg(db)
                .execute(
                    f"SELECT {_COLUMNS} FROM calendar_connections WHERE id = %s", (connection_id,)
                )
                .fetchone()
            )
            db.rollback()
        return self._row(row) if row else None

    def of_person(self, person_id: uuid.UUID) -> dict[str, CalendarConnection]:
        with self.engine.connect() as db:
            rows = (
                as_psycopg(db)
                .execute(
                    f"SELECT {_COLUMNS} FROM calendar_connections WHERE person_id = %s",
                    (person_id,),
                )
                .fetchall()
            )
            db.rollback()
        return {r[3]: self._row(r) for r in rows}

    def person_status(self, person_id: uuid.UUID) -> str | None:
        """The person's directory status (``active``, ``left``, ``erased`` ...), if known."""
        with self.engine.connect() as db:
            row = (
                as_psycopg(db)
                .execute("SELECT status FROM people WHERE id = %s", (person_id,))
                .fetchone()
            )
            db.rollback()
        return str(row[0]) if row else None

    # -- commands ------------------------------------------------------------------------------

    def connect(
        self,
        tenant_id: uuid.UUID,
        person_id: uuid.UUID,
        provider: str,
        token: dict[str, Any],
        context: AppendContext,
    ) -> uuid.UUID:
        """Store the tokens of a new (or renewed) connection and append ``CalendarConnected``.

        The sync token is cleared: a (re)connected calendar starts with a full sync.
        """
        connection_id = connection_id_for(person_id, provider)
        with self.engine.begin() as db:
            as_psycopg(db).execute(
                "INSERT INTO calendar_connections (id, tenant_id, person_id, provider, status, "
                "token) VALUES (%s, %s, %s, %s, 'active', %s) ON CONFLICT (id) DO UPDATE SET "
                "status = 'active', token = excluded.token, sync_token = NULL, "
                "last_error = NULL, connected_at = now()",
                (connection_id, tenant_id, person_id, provider, self.cipher.seal(token)),
            )
            self.store.append_in(
                db,
                tenant_id,
                stream_for(person_id),
                None,
                [
                    NewEvent(
                        "CalendarConnected",
                        {
                            "person_id": person_id,
                            "connection_id": connection_id,
                            "provider": provider,
                        },
                    )
                ],
                context,
            )
        return connection_id

    def save_token(self, connection_id: uuid.UUID, token: dict[str, Any]) -> None:
        """Keep a refreshed token (refresh tokens rotate: the old one no longer works)."""
        with self.engine.begin() as db:
            as_psycopg(db).execute(
                "UPDATE calendar_connections SET token = %s WHERE id = %s AND status = 'active'",
                (self.cipher.seal(token), connection_id),
            )

    def end(
        self,
        connection: CalendarConnection,
        reason: str,
        context: AppendContext,
    ) -> bool:
        """Delete the tokens and append ``CalendarDisconnected``; ``False`` if already ended.

        Parameters:
            reason: ``user`` (disconnected: status ``disconnected``), or ``revoked`` /
                ``invalid_grant`` (the grant stopped working: status ``needs_reconnect``).
        """
        status = "disconnected" if reason in ("user", "erased") else "needs_reconnect"
        with self.engine.begin() as db:
            row = (
                as_psycopg(db)
                .execute(
                    "UPDATE calendar_connections SET status = %s, token = NULL, sync_token = NULL, "
                    "last_error = %s WHERE id = %s AND status = 'active' RETURNING id",
                    (status, None if reason == "user" else reason, connection.id),
                )
                .fetchone()
            )
            if row is None:
                return False
            self.store.append_in(
                db,
                connection.tenant_id,
                connection.stream,
                None,
                [
                    NewEvent(
                        "CalendarDisconnected",
                        {
                            "person_id": connection.person_id,
                            "connection_id": connection.id,
                            "reason": reason,
                        },
                    )
                ],
                context,
            )
        return True


def rotate_tokens(db: DbConnection, master_keys: list[str] | tuple[str, ...]) -> int:
    """``compound keys rotate``: re-encrypt every calendar token with the newest master key."""
    pg = as_psycopg(db)
    fernet = TokenCipher(master_keys).fernet
    rows = pg.execute(
        "SELECT id, token FROM calendar_connections WHERE token IS NOT NULL FOR UPDATE"
    ).fetchall()
    with pg.cursor() as cur:
        cur.executemany(
            "UPDATE calendar_connections SET token = %s WHERE id = %s",
            [(fernet.rotate(bytes(token)), cid) for cid, token in rows],
        )
    return len(rows)

"""The provider's own storage: one SQLite file.

The stand-in provider plays an outside service, so it keeps nothing in Compound's database
(a real Google or Microsoft would not either) and needs no server of its own: a SQLite file
under ``$COMPOUND_DATA_DIR`` (or a temporary one in tests). Generated calendars are not
stored; only what changed since (meetings created, moved or cancelled through the admin
API, each with a change sequence number), OAuth codes and tokens, and each account's
profile and sync-token epoch.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from services.calendar_provider.generator import Meeting, Profile

_SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    email       TEXT PRIMARY KEY,
    manager     TEXT,
    colleagues  TEXT NOT NULL DEFAULT '[]',
    epoch       INTEGER NOT NULL DEFAULT 0,
    seq         INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS changes (
    email    TEXT NOT NULL,
    id       TEXT NOT NULL,
    seq      INTEGER NOT NULL,
    meeting  TEXT NOT NULL,
    PRIMARY KEY (email, id)
);
CREATE INDEX IF NOT EXISTS changes_seq ON changes (email, seq);
CREATE TABLE IF NOT EXISTS codes (
    code                   TEXT PRIMARY KEY,
    client_id              TEXT NOT NULL,
    email                  TEXT NOT NULL,
    redirect_uri           TEXT,
    scope                  TEXT NOT NULL,
    code_challenge         TEXT,
    code_challenge_method  TEXT,
    created_at             REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS tokens (
    access_token     TEXT PRIMARY KEY,
    refresh_token    TEXT UNIQUE,
    client_id        TEXT NOT NULL,
    email            TEXT NOT NULL,
    scope            TEXT NOT NULL,
    issued_at        REAL NOT NULL,
    expires_in       INTEGER NOT NULL,
    access_revoked   INTEGER NOT NULL DEFAULT 0,
    refresh_revoked  INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS tokens_email ON tokens (email);
"""


@dataclass
class Account:
    profile: Profile
    epoch: int
    seq: int


@dataclass
class StoredCode:
    code: str
    client_id: str
    email: str
    redirect_uri: str | None
    scope: str
    code_challenge: str | None
    code_challenge_method: str | None
    created_at: float


@dataclass
class StoredToken:
    access_token: str
    refresh_token: str | None
    client_id: str
    email: str
    scope: str
    issued_at: float
    expires_in: int
    access_revoked: bool
    refresh_revoked: bool


class ProviderStorage:
    """SQLite access; one connection per thread (werkzeug serves each request in a thread)."""

    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._db().executescript(_SCHEMA)  # executescript commits by itself

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            self._local.db = db
        return db

    def read(self) -> sqlite3.Connection:
        return self._db()

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    # -- accounts and their changes --------------------------------------------------------

    def account(self, email: str) -> Account:
        row = (
            self.read()
            .execute(
                "SELECT manager, colleagues, epoch, seq FROM accounts WHERE email = ?", (email,)
            )
            .fetchone()
        )
        if row is None:
            return Account(Profile(email), 0, 0)
        manager, colleagues, epoch, seq = row
        return Account(Profile(email, manager, tuple(json.loads(colleagues))), epoch, seq)

    def set_profile(self, email: str, manager: str | None, colleagues: list[str]) -> None:
        with self.write() as db:
            db.execute(
                "INSERT INTO accounts (email, manager, colleagues) VALUES (?, ?, ?) "
                "ON CONFLICT (email) DO UPDATE SET manager = excluded.manager, "
                "colleagues = excluded.colleagues",
                (email, manager, json.dumps(colleagues)),
            )

    def expire_sync_tokens(self, email: str) -> int:
        with self.write() as db:
            db.execute("INSERT OR IGNORE INTO accounts (email) VALUES (?)", (email,))
            db.execute("UPDATE accounts SET epoch = epoch + 1 WHERE email = ?", (email,))
            row = db.execute("SELECT epoch FROM accounts WHERE email = ?", (email,)).fetchone()
        return int(row[0])

    def record_change(self, email: str, meeting: Meeting) -> int:
        """Store a created, moved or cancelled meeting under the account's next sequence."""
        with self.write() as db:
            db.execute("INSERT OR IGNORE INTO accounts (email) VALUES (?)", (email,))
            db.execute("UPDATE accounts SET seq = seq + 1 WHERE email = ?", (email,))
            (seq,) = db.execute("SELECT seq FROM accounts WHERE email = ?", (email,)).fetchone()
            db.execute(
                "INSERT INTO changes (email, id, seq, meeting) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (email, id) DO UPDATE SET seq = excluded.seq, "
                "meeting = excluded.meeting",
                (email, meeting.id, seq, json.dumps(meeting.as_dict())),
            )
        return int(seq)

    def changes(self, email: str, after: int = 0, upto: int | None = None) -> list[Meeting]:
        """Changed meetings with ``after < seq <= upto``, oldest change first."""
        rows = self.read().execute(
            "SELECT meeting FROM changes WHERE email = ? AND seq > ? AND seq <= ? ORDER BY seq",
            (email, after, upto if upto is not None else 2**62),
        )
        return [Meeting.from_dict(json.loads(raw)) for (raw,) in rows]

    def change(self, email: str, meeting_id: str) -> Meeting | None:
        row = (
            self.read()
            .execute("SELECT meeting FROM changes WHERE email = ? AND id = ?", (email, meeting_id))
            .fetchone()
        )
        return Meeting.from_dict(json.loads(row[0])) if row else None

    # -- OAuth codes and tokens -------------------------------------------------------------

    def save_code(self, code: StoredCode) -> None:
        with self.write() as db:
            db.execute(
                "INSERT INTO codes VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    code.code,
                    code.client_id,
                    code.email,
                    code.redirect_uri,
                    code.scope,
                    code.code_challenge,
                    code.code_challenge_method,
                    code.created_at,
                ),
            )

    def find_code(self, code: str) -> StoredCode | None:
        row = self.read().execute("SELECT * FROM codes WHERE code = ?", (code,)).fetchone()
        return StoredCode(*row) if row else None

    def delete_code(self, code: str) -> None:
        with self.write() as db:
            db.execute("DELETE FROM codes WHERE code = ?", (code,))

    def save_token(self, token: StoredToken) -> None:
        with self.write() as db:
            db.execute(
                "INSERT INTO tokens VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    token.access_token,
                    token.refresh_token,
                    token.client_id,
                    token.email,
                    token.scope,
                    token.issued_at,
                    token.expires_in,
                    int(token.access_revoked),
                    int(token.refresh_revoked),
                ),
            )

    def find_token(
        self, *, access: str | None = None, refresh: str | None = None
    ) -> StoredToken | None:
        column, value = (
            ("access_token", access) if access is not None else ("refresh_token", refresh)
        )
        row = self.read().execute(f"SELECT * FROM tokens WHERE {column} = ?", (value,)).fetchone()
        if row is None:
            return None
        values = list(row)
        values[7], values[8] = bool(values[7]), bool(values[8])
        return StoredToken(*values)

    def revoke(self, access_token: str, *, access: bool = True, refresh: bool = True) -> None:
        with self.write() as db:
            db.execute(
                "UPDATE tokens SET access_revoked = max(access_revoked, ?), "
                "refresh_revoked = max(refresh_revoked, ?) WHERE access_token = ?",
                (int(access), int(refresh), access_token),
            )

    def revoke_all(self, email: str) -> int:
        """Revoke every token of an account (the user removed the app's access)."""
        with self.write() as db:
            cursor = db.execute(
                "UPDATE tokens SET access_revoked = 1, refresh_revoked = 1 "
                "WHERE email = ? AND (access_revoked = 0 OR refresh_revoked = 0)",
                (email,),
            )
        return cursor.rowcount


def now() -> float:
    return time.time()

"""Crypto-shredding: personal fields encrypted with a per-person data key.

Each person (the "subject") has a Fernet data key, stored in ``data_keys`` wrapped by the
master keys (a MultiFernet: the first key wraps, every key unwraps, so keys can be rotated).
Erasing a person deletes the wrapped key and leaves a tombstone; their encrypted fields can
never be read again and read back as :data:`ERASED`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

import orjson
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import Connection, text

from shared.eventlog.errors import MissingMasterKey, SubjectErased

ERASED = "\u2014erased\u2014"
"""What a personal field of an erased person reads as."""


def generate_master_key() -> str:
    return Fernet.generate_key().decode()


class KeyRing:
    """Wraps and unwraps data keys with the master keys; encrypts and decrypts values.

    Parameters:
        master_keys: Fernet keys, newest first. Empty means personal data is refused.
    """

    def __init__(self, master_keys: Sequence[str]):
        self._master = MultiFernet([Fernet(k) for k in master_keys]) if master_keys else None

    @property
    def master(self) -> MultiFernet:
        if self._master is None:
            raise MissingMasterKey()
        return self._master

    def data_key_for_write(
        self, conn: Connection, tenant_id: uuid.UUID, subject: uuid.UUID
    ) -> Fernet:
        """The subject's data key, created on first use, inside the caller's transaction.

        Raises:
            SubjectErased: the subject was erased; nothing personal may be stored for them.
        """
        row = conn.execute(
            text("SELECT wrapped_key FROM data_keys WHERE subject_id = :s"), {"s": subject}
        ).first()
        if row is None:
            wrapped = self.master.encrypt(Fernet.generate_key())
            conn.execute(
                text(
                    "INSERT INTO data_keys (subject_id, tenant_id, wrapped_key) "
                    "VALUES (:s, :t, :k) ON CONFLICT (subject_id) DO NOTHING"
                ),
                {"s": subject, "t": tenant_id, "k": wrapped},
            )
            row = conn.execute(
                text("SELECT wrapped_key FROM data_keys WHERE subject_id = :s"), {"s": subject}
            ).one()
        if row.wrapped_key is None:
            raise SubjectErased(subject)
        return Fernet(self.master.decrypt(bytes(row.wrapped_key)))

    def data_keys_for_read(
        self, conn: Connection, subjects: Iterable[uuid.UUID]
    ) -> dict[uuid.UUID, Fernet | None]:
        """Data keys of ``subjects``; ``None`` for an erased (or unknown) subject."""
        wanted = list(set(subjects))
        keys: dict[uuid.UUID, Fernet | None] = dict.fromkeys(wanted)
        if not wanted:
            return keys
        rows = conn.execute(
            text("SELECT subject_id, wrapped_key FROM data_keys WHERE subject_id = ANY(:s)"),
            {"s": wanted},
        )
        for subject_id, wrapped in rows:
            if wrapped is not None:
                keys[subject_id] = Fernet(self.master.decrypt(bytes(wrapped)))
        return keys

    @staticmethod
    def encrypt_value(key: Fernet, value: Any) -> str:
        return key.encrypt(orjson.dumps(value)).decode()

    @staticmethod
    def decrypt_value(key: Fernet | None, token: str) -> Any:
        if key is None:
            return ERASED
        try:
            return orjson.loads(key.decrypt(token.encode()))
        except InvalidToken:
            return ERASED

    def erase(self, conn: Connection, tenant_id: uuid.UUID, subject: uuid.UUID) -> None:
        """Delete the subject's data key, leaving a tombstone that refuses new personal data."""
        conn.execute(
            text(
                "INSERT INTO data_keys (subject_id, tenant_id, wrapped_key, erased_at) "
                "VALUES (:s, :t, NULL, now()) ON CONFLICT (subject_id) DO UPDATE "
                "SET wrapped_key = NULL, erased_at = coalesce(data_keys.erased_at, now())"
            ),
            {"s": subject, "t": tenant_id},
        )

    def rotate(self, conn: Connection, batch: int = 1000) -> int:
        """Re-wrap every data key with the newest master key; returns how many."""
        done = 0
        last = uuid.UUID(int=0)
        while True:
            rows = conn.execute(
                text(
                    "SELECT subject_id, wrapped_key FROM data_keys WHERE subject_id > :last "
                    "AND wrapped_key IS NOT NULL ORDER BY subject_id LIMIT :n FOR UPDATE"
                ),
                {"last": last, "n": batch},
            ).all()
            if not rows:
                return done
            for subject_id, wrapped in rows:
                conn.execute(
                    text("UPDATE data_keys SET wrapped_key = :k WHERE subject_id = :s"),
                    {"k": self.master.rotate(bytes(wrapped)), "s": subject_id},
                )
            done += len(rows)
            last = rows[-1].subject_id

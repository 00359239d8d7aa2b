"""Crypto-shredding: personal fields encrypted with a per-person data key.

Each person (the "subject") has a 256-bit AES-GCM data key, stored in ``data_keys`` wrapped by
the master keys (a MultiFernet: the first key wraps, every key unwraps, so master keys can be
rotated). A personal field is stored as ``v1:`` + base64(nonce + ciphertext), with the
subject's id as associated data, so a value cannot be moved to another person. Erasing a
person deletes the wrapped key and leaves a tombstone; their fields can never be read again
and read back as :data:`ERASED`.

Unwrapped keys are cached per process: for writing, only keys known to be committed; for
reading, by wrapped value, and every read still asks the database whether the key exists,
so an erasure takes effect at once everywhere.
"""

from __future__ import annotations

import base64
import binascii
import os
import uuid
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from typing import Any

import orjson
import psycopg
from cryptography.fernet import Fernet, MultiFernet
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from psycopg.pq import TransactionStatus
from sqlalchemy import Connection

from shared.database import as_psycopg
from shared.eventlog.errors import MissingMasterKey, SubjectErased

DB = Connection | psycopg.Connection[Any]

ERASED = "\u2014erased\u2014"
"""What a personal field of an erased person reads as."""

SEALED = "\u2014sealed\u2014"
"""What a personal field reads as for a reader that asked not to decrypt."""

_PREFIX = "v1:"
_CACHE_SIZE = 50_000


def generate_master_key() -> str:
    """A new master key, for ``COMPOUND_MASTER_KEYS``.

    Returns:
        A Fernet key (URL-safe base64 text).
    """
    return Fernet.generate_key().decode()


_KEY_SQL = "SELECT wrapped_key FROM data_keys WHERE subject_id = %s"
# The subject's key, and whether it existed before this statement: an erased subject's row
# (wrapped_key NULL) conflicts, so nothing is inserted for them.
_KEY_FOR_WRITE_SQL = """
WITH created AS (
    INSERT INTO data_keys (subject_id, tenant_id, wrapped_key) VALUES (%s, %s, %s)
    ON CONFLICT (subject_id) DO NOTHING
    RETURNING wrapped_key
)
SELECT wrapped_key, false FROM created
UNION ALL
SELECT wrapped_key, true FROM data_keys WHERE subject_id = %s
"""


class KeyRing:
    """Wraps and unwraps data keys with the master keys; encrypts and decrypts values.

    Parameters:
        master_keys: Fernet keys, newest first. Empty means personal data is refused.
    """

    def __init__(self, master_keys: Sequence[str]):
        self._master = MultiFernet([Fernet(k) for k in master_keys]) if master_keys else None
        self._write_keys: OrderedDict[uuid.UUID, AESGCM] = OrderedDict()
        self._unwrapped: OrderedDict[bytes, AESGCM] = OrderedDict()

    @property
    def master(self) -> MultiFernet:
        """The master keys (the first wraps, every one unwraps).

        Raises:
            MissingMasterKey: the key ring has no master key.
        """
        if self._master is None:
            raise MissingMasterKey()
        return self._master

    def data_key_for_write(self, conn: DB, tenant_id: uuid.UUID, subject: uuid.UUID) -> AESGCM:
        """The subject's data key, created on first use within the caller's transaction.

        Parameters:
            conn: the caller's connection, in the appending transaction.
            tenant_id: the subject's tenant.
            subject: the person whose personal fields the key encrypts.

        Returns:
            The AES-GCM data key.

        Raises:
            MissingMasterKey: the key ring has no master key.
            SubjectErased: the subject was erased; nothing personal may be stored for them.
        """
        cached = self._write_keys.get(subject)
        if cached is not None:
            return cached
        master = self.master  # MissingMasterKey before anything else, as for a new key
        with as_psycopg(conn).cursor() as cur:
            # Most subjects have their key already (made when they were invited): read it,
            # and only make a new one (a Fernet encryption, an insert) when there is none.
            row = cur.execute(_KEY_SQL, (subject,), prepare=True).fetchone()
            if row is not None:
                row = (row[0], True)
            else:
                wrapped = master.encrypt(AESGCM.generate_key(256))
                # The key stored meanwhile, or the new one inserted. A key committed by
                # another transaction after this statement's snapshot is neither: read again.
                row = cur.execute(
                    _KEY_FOR_WRITE_SQL, (subject, tenant_id, wrapped, subject)
                ).fetchone()
                if row is None:
                    row = cur.execute(_KEY_SQL, (subject,)).fetchone()
                    row = None if row is None else (row[0], True)
            # Outside a transaction (an autocommit connection) a key made here is committed.
            committed = cur.connection.info.transaction_status == TransactionStatus.IDLE
        assert row is not None
        if row[0] is None:
            raise SubjectErased(subject)
        key = self._unwrap(bytes(row[0]))
        if row[1] or committed:  # a key created in a transaction may still roll back
            _remember(self._write_keys, subject, key)
        return key

    def data_keys_for_write(
        self, conn: DB, tenant_id: uuid.UUID, subjects: Iterable[uuid.UUID]
    ) -> dict[uuid.UUID, AESGCM]:
        """:meth:`data_key_for_write` for many subjects in three statements (a bulk append:
        one round trip per subject made 5,000 new people's keys take seconds).

        Parameters:
            conn: the caller's connection, in the appending transaction.
            tenant_id: the subjects' tenant.
            subjects: the persons.

        Returns:
            Per subject its data key.

        Raises:
            MissingMasterKey: the key ring has no master key.
            SubjectErased: a subject was erased.
        """
        subjects = set(subjects)
        keys = {s: k for s in subjects if (k := self._write_keys.get(s)) is not None}
        wanted = sorted(subjects - set(keys))
        if not wanted:
            return keys
        select = "SELECT subject_id, wrapped_key FROM data_keys WHERE subject_id = ANY(%s)"
        with as_psycopg(conn).cursor() as cur:
            found = dict(cur.execute(select, (wanted,)).fetchall())
            new = [s for s in wanted if s not in found]
            created = set(new)
            if new:
                cur.execute(
                    "INSERT INTO data_keys (subject_id, tenant_id, wrapped_key) "
                    "SELECT unnest(%s::uuid[]), %s, unnest(%s::bytea[]) "
                    "ON CONFLICT (subject_id) DO NOTHING",
                    (new, tenant_id, [self.master.encrypt(AESGCM.generate_key(256)) for _ in new]),
                )
                found.update(cur.execute(select, (new,)).fetchall())
        for subject in wanted:
            wrapped = found[subject]
            if wrapped is None:
                raise SubjectErased(subject)
            keys[subject] = self._unwrap(bytes(wrapped))
            if subject not in created:  # one created in this transaction may still roll back
                _remember(self._write_keys, subject, keys[subject])
        return keys

    def forget(self, subject: uuid.UUID) -> None:
        """Drop a cached write key (after the database said the subject is erased).

        Parameters:
            subject: the erased person.
        """
        self._write_keys.pop(subject, None)

    def data_keys_for_read(
        self, conn: DB, subjects: Iterable[uuid.UUID]
    ) -> dict[uuid.UUID, AESGCM | None]:
        """Data keys of ``subjects``, asked of the database each time (an erasure shows at once).

        Parameters:
            conn: a connection to read ``data_keys`` on.
            subjects: the persons.

        Returns:
            Per subject its key; ``None`` for an erased (or unknown) subject.
        """
        wanted = list(set(subjects))
        keys: dict[uuid.UUID, AESGCM | None] = dict.fromkeys(wanted)
        if not wanted:
            return keys
        with as_psycopg(conn).cursor() as cur:
            rows = cur.execute(
                "SELECT subject_id, wrapped_key FROM data_keys WHERE subject_id = ANY(%s)",
                (wanted,),
            ).fetchall()
        for subject_id, wrapped in rows:
            if wrapped is not None:
                keys[subject_id] = self._unwrap(bytes(wrapped))
        return keys

    def _unwrap(self, wrapped: bytes) -> AESGCM:
        key = self._unwrapped.get(wrapped)
        if key is None:
            key = AESGCM(self.master.decrypt(wrapped))
            _remember(self._unwrapped, wrapped, key)
        return key

    @staticmethod
    def encrypt_value(key: AESGCM, subject: uuid.UUID, value: Any) -> str:
        """Seal one personal field.

        Parameters:
            key: the subject's data key.
            subject: the subject (associated data: the value cannot move to another person).
            value: any JSON-native value.

        Returns:
            ``v1:`` + base64(nonce + ciphertext).
        """
        nonce = os.urandom(12)
        sealed = key.encrypt(nonce, orjson.dumps(value), subject.bytes)
        return _PREFIX + base64.b64encode(nonce + sealed).decode()

    @staticmethod
    def decrypt_value(key: AESGCM | None, subject: uuid.UUID, token: str) -> Any:
        """The plaintext value, or :data:`ERASED` when the subject's key is gone.

        Parameters:
            key: the subject's data key, or ``None`` if erased.
            subject: the subject.
            token: the sealed value.

        Returns:
            The value as it was encrypted, or :data:`ERASED`.

        Raises:
            cryptography.exceptions.InvalidTag: the value was tampered with or moved.
        """
        return open_value(key, subject.bytes, token)

    def erase(self, conn: DB, tenant_id: uuid.UUID, subject: uuid.UUID) -> None:
        """Delete the subject's data key, leaving a tombstone that refuses new personal data.

        Parameters:
            conn: the caller's connection (the caller commits).
            tenant_id: the subject's tenant.
            subject: the person to erase.
        """
        as_psycopg(conn).execute(
            "INSERT INTO data_keys (subject_id, tenant_id, wrapped_key, erased_at) "
            "VALUES (%s, %s, NULL, now()) ON CONFLICT (subject_id) DO UPDATE "
            "SET wrapped_key = NULL, erased_at = coalesce(data_keys.erased_at, now())",
            (subject, tenant_id),
        )
        self.forget(subject)

    def rotate(self, conn: DB, batch: int = 1000) -> int:
        """Re-wrap every data key with the newest master key.

        Parameters:
            conn: the caller's connection (the caller commits).
            batch: keys locked and re-wrapped per query.

        Returns:
            How many keys were re-wrapped.

        Raises:
            MissingMasterKey: the key ring has no master key.
        """
        done = 0
        last = uuid.UUID(int=0)
        pg = as_psycopg(conn)
        while True:
            rows = pg.execute(
                "SELECT subject_id, wrapped_key FROM data_keys WHERE subject_id > %s "
                "AND wrapped_key IS NOT NULL ORDER BY subject_id LIMIT %s FOR UPDATE",
                (last, batch),
            ).fetchall()
            if not rows:
                return done
            with pg.cursor() as cur:
                cur.executemany(
                    "UPDATE data_keys SET wrapped_key = %s WHERE subject_id = %s",
                    [(self.master.rotate(bytes(wrapped)), subject) for subject, wrapped in rows],
                )
            done += len(rows)
            last = rows[-1][0]


def open_value(key: AESGCM | None, associated: bytes, token: str) -> Any:
    """:meth:`KeyRing.decrypt_value` with the subject already as bytes (the read hot path).

    Parameters:
        key: the subject's data key, or ``None`` if erased.
        associated: the subject's id as bytes.
        token: the sealed value.

    Returns:
        The value, or :data:`ERASED`.
    """
    if key is None:
        return ERASED
    raw = binascii.a2b_base64(token[3:])  # after the "v1:" prefix
    return orjson.loads(key.decrypt(raw[:12], raw[12:], associated))


def _remember(cache: OrderedDict[Any, AESGCM], key: Any, value: AESGCM) -> None:
    cache[key] = value
    if len(cache) > _CACHE_SIZE:
        cache.popitem(last=False)

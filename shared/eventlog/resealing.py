"""``compound events reseal``: seal the behaviour of events written before it was sealed.

Events appended before behaviour sealing (shared/eventlog/sealing.py) hold what a person did
in plain JSON; events sealed before the named ids were (shared/eventlog/events_behaviour.py,
``NAMED``) hold another person's id in plain JSON. This one-time maintenance pass rewrites
those payloads in place, as they would be written today:

* the subject's key exists (or is created: a person who never wrote a note has none yet):
  the behaviour fields, the named ids and the exact ``occurred_at`` go into one seal; the
  ``occurred_at`` column keeps the week's Monday;
* the subject was erased: the behaviour fields and named ids are dropped and a seal of random
  bytes marks the event as erased (it reads as every erased event does: projections skip it).

The log is append-only (migration 0001's trigger); the pass lifts the trigger inside each
batch's transaction only, so appends wait for a batch (a lock on ``events``), and a failure
rolls the batch back with the trigger in place. Run it once, in a maintenance window, then
rebuild the projections (``compound projections rebuild --all``) when it dropped anything.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Connection, Engine, text

from shared.database import as_psycopg
from shared.eventlog.crypto import KeyRing
from shared.eventlog.errors import SubjectErased
from shared.eventlog.events_behaviour import BEHAVIOUR, NAMED
from shared.eventlog.sealing import SEAL_VERSION, open_behaviour, seal_behaviour, week_monday

_TYPES = sorted(BEHAVIOUR)
_SUBJECT = "person_id"  # the subject of every type with behaviour

_PAGE = """
    SELECT position, tenant_id, type, data, occurred_at, seal FROM events
    WHERE type = ANY(%s) AND position > %s ORDER BY position LIMIT %s"""


@dataclass
class ResealReport:
    """What a pass did.

    Attributes:
        read: events of a type with behaviour read.
        sealed: events whose behaviour was plaintext and is now sealed.
        named: sealed events whose named id was plaintext and is now sealed.
        dropped: events of erased people whose plaintext behaviour or named id was dropped.
    """

    read: int = 0
    sealed: int = 0
    named: int = 0
    dropped: int = 0


def needs_reseal(data: dict[str, Any], seal: bytes | None) -> bool:
    """Whether a stored event of a type with behaviour shows anything in plaintext.

    Parameters:
        data: the stored payload.
        seal: its ``seal`` column.

    Returns:
        True without a seal, or with a named id in plaintext.
    """
    return seal is None or any(data.get(name) is not None for name in NAMED)


def reseal_payload(
    key: AESGCM | None,
    subject: uuid.UUID,
    event_type: str,
    data: dict[str, Any],
    at: datetime,
    seal: bytes | None,
) -> tuple[datetime, bytes, str]:
    """Seal one stored event as it would be sealed today, its payload in place.

    Parameters:
        key: the subject's data key; None when the subject was erased.
        subject: the subject's id.
        event_type: the event's type (one of ``BEHAVIOUR``).
        data: the stored payload (changed in place).
        at: the stored ``occurred_at`` (exact for an event that was never sealed).
        seal: the stored ``seal`` column (None for an event that was never sealed).

    Returns:
        The ``occurred_at`` and the seal to store, and what was done: ``sealed``, ``named``
        or ``dropped``.
    """
    behaviour = BEHAVIOUR[event_type]
    if key is None:
        for name in behaviour:
            data.pop(name, None)
        for name in NAMED.intersection(data):
            data[name] = None
        if seal is None:  # opens as erased: the key is gone
            seal = SEAL_VERSION + os.urandom(28)
        return week_monday(at), seal, "dropped"
    done = "sealed"
    if seal is not None:
        exact = open_behaviour(key, subject.bytes, seal, data)
        at, done = (exact or at), "named"
    stored_at, sealed = seal_behaviour(key, subject, data, behaviour, at)
    return stored_at, sealed, done


def reseal(engine: Engine, keyring: KeyRing, page: int = 500) -> ResealReport:
    """Reseal every event that shows behaviour or a named id in plaintext.

    Parameters:
        engine: the database.
        keyring: the key ring (data keys are created for subjects without one).
        page: events read, and rewritten in one transaction, at a time.

    Returns:
        What was done. Running it again finds nothing to do.
    """
    report, after = ResealReport(), 0
    while True:
        with engine.begin() as conn:
            with as_psycopg(conn).cursor() as cur:
                rows = cur.execute(_PAGE, (_TYPES, after, page)).fetchall()
            if not rows:
                return report
            after = rows[-1][0]
            report.read += len(rows)
            _reseal_rows(conn, keyring, [r for r in rows if needs_reseal(r[3], r[5])], report)


def _reseal_rows(conn: Connection, keyring: KeyRing, rows: list[Any], report: ResealReport) -> None:
    """Rewrite ``rows`` (position, tenant, type, data, occurred_at, seal) in the caller's
    transaction."""
    if not rows:
        return
    keys: dict[uuid.UUID, AESGCM | None] = {}
    updates = []
    for position, tenant_id, event_type, data, at, seal in rows:
        subject = uuid.UUID(str(data[_SUBJECT]))
        if subject not in keys:
            keys[subject] = _key(conn, keyring, tenant_id, subject)
        stored_at, sealed, done = reseal_payload(keys[subject], subject, event_type, data, at, seal)
        setattr(report, done, getattr(report, done) + 1)
        updates.append((orjson.dumps(data).decode(), stored_at, sealed, position))
    conn.execute(text("ALTER TABLE events DISABLE TRIGGER events_no_update_delete"))
    with as_psycopg(conn).cursor() as cur:
        cur.executemany(
            "UPDATE events SET data = %s::jsonb, occurred_at = %s, seal = %s WHERE position = %s",
            updates,
        )
    conn.execute(text("ALTER TABLE events ENABLE TRIGGER events_no_update_delete"))


def _key(conn: Connection, keyring: KeyRing, tenant_id: Any, subject: uuid.UUID) -> AESGCM | None:
    """The subject's data key, created when they have none; None when erased."""
    try:
        return keyring.data_key_for_write(conn, uuid.UUID(str(tenant_id)), subject)
    except SubjectErased:
        return None

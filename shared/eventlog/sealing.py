"""Sealed behaviour: what a person did, readable only with their data key.

An event type may name **behaviour fields** (the catalogue's ``behaviour``: an action's
tactic, minutes and audience, a meeting's times and flags, working hours ...). On append they
leave the payload together with the event's exact ``occurred_at`` and are stored as one
AES-GCM ciphertext under the subject's data key, in the ``seal`` column of ``events``
(``bytea``, migration 0034): a version byte (:data:`SEAL_VERSION`), the nonce and the
ciphertext, the subject's id and ``behaviour`` as associated data. The payload no longer
holds it (before 0034: its ``sealed`` member, ``v2:`` + base64 of the nonce and ciphertext).
The ``occurred_at`` column keeps only the Monday (00:00 UTC) of the event's UTC week.

Every read opens the seal (projections need the behaviour, so it is opened even when
personal text is left sealed), puts the fields back and restores ``occurred_at``. When the
subject's key is gone (erased), the event reads with its behaviour fields absent and
``erased`` set: projections skip it, so a rebuild after an erasure holds nothing of it.

Only the ids the store and commands look events up by (``person_id``, ``action_id`` ...) stay
in plaintext; the id of a person an item names (``counterpart_id`` ...) is sealed, its member
kept as ``null``. After the key is shredded a dump shows ids, a type and a week, nothing done
and no one else's id.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from shared.eventlog.events_behaviour import NAMED
from shared.eventlog.records import RecordedEvent

SEAL_VERSION = b"\x02"
"""The first byte of every seal: its format (2: AES-GCM, 12-byte nonce, then ciphertext)."""

SEAL_HEADER = 13
"""The seal's bytes before its ciphertext: the version byte and the nonce."""

_AT = "@"  # the exact occurred_at, inside the seal
_PURPOSE = b"behaviour"


def week_monday(moment: datetime) -> datetime:
    """The Monday 00:00 UTC of ``moment``'s UTC week: what the ``occurred_at`` column keeps.

    Parameters:
        moment: a time-zone aware time.

    Returns:
        Midnight UTC of that week's Monday.
    """
    utc = moment.astimezone(UTC)
    day = utc.date() - timedelta(days=utc.weekday())
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def seal_behaviour(
    key: AESGCM,
    subject: uuid.UUID,
    data: dict[str, Any],
    behaviour: Iterable[str],
    occurred_at: datetime,
) -> tuple[datetime, bytes]:
    """Move the behaviour fields of ``data`` and ``occurred_at`` into one seal.

    Parameters:
        key: the subject's data key.
        subject: whose key it is (associated data).
        data: the normalised payload (changed in place).
        behaviour: the type's behaviour fields.
        occurred_at: the event's exact time.

    Returns:
        The ``occurred_at`` to store (the Monday of its UTC week) and the seal, the value of
        the ``seal`` column: :data:`SEAL_VERSION`, the nonce, the ciphertext.
    """
    inside: dict[str, Any] = {name: data.pop(name) for name in behaviour if name in data}
    for name in NAMED.intersection(inside):  # the member stays, for migration 0018's index
        data[name] = None
    inside[_AT] = occurred_at.isoformat()
    nonce = os.urandom(12)
    sealed = key.encrypt(nonce, orjson.dumps(inside), subject.bytes + _PURPOSE)
    return week_monday(occurred_at), SEAL_VERSION + nonce + sealed


def open_behaviour(
    key: AESGCM | None, associated: bytes, seal: bytes, data: dict[str, Any]
) -> datetime | None:
    """Put the sealed behaviour of an event back into its payload.

    Parameters:
        key: the subject's data key; None when erased.
        associated: the subject's id as bytes.
        seal: the event's ``seal`` column.
        data: its stored payload (changed in place).

    Returns:
        The event's exact ``occurred_at``; None when the key is gone (the behaviour fields
        stay absent).

    Raises:
        cryptography.exceptions.InvalidTag: the seal was tampered with or moved.
    """
    if key is None:
        return None
    inside = orjson.loads(
        key.decrypt(seal[1:SEAL_HEADER], seal[SEAL_HEADER:], associated + _PURPOSE)
    )
    at = inside.pop(_AT)
    data.update(inside)
    return datetime.fromisoformat(at)


def open_behaviours(
    keys: Mapping[str, tuple[AESGCM | None, bytes]],
    sealed: Sequence[tuple[RecordedEvent, str, bytes]],
) -> None:
    """:func:`open_behaviour` for a page of events at once (the read hot path).

    Each event's seal is opened in place and its ``occurred_at`` restored; the events of a
    subject whose key is gone are marked ``erased`` (their behaviour fields stay absent).
    One loop with the per-subject work (the bound ``decrypt``, the associated data) done
    once per page: a rebuild opens about a million seals.

    Parameters:
        keys: subject id (text) -> its data key (None when erased) and its id as bytes.
        sealed: events with a seal, each with its subject and its ``seal`` column.

    Raises:
        cryptography.exceptions.InvalidTag: a seal was tampered with or moved.
    """
    loads, parse, header = orjson.loads, datetime.fromisoformat, SEAL_HEADER
    opener = {
        subject: (None if key is None else key.decrypt, associated + _PURPOSE)
        for subject, (key, associated) in keys.items()
    }
    for event, subject, seal in sealed:
        decrypt, associated = opener[subject]
        if decrypt is None:
            event.erased = True
            continue
        inside = loads(decrypt(seal[1:header], seal[header:], associated))  # nonce, ciphertext
        at = event.sealed_at_text = inside.pop(_AT)  # isoformat(): parsing gives it back
        event.occurred_at = parse(at)
        event.data.update(inside)

"""Rows of the ``events`` table -> :class:`RecordedEvent`: decryption and upcasting.

Every read of the log ends here, so decoding is one pass with as little per-row work as
possible: one plan lookup by type, personal fields looked at only for types that have them,
data keys asked for once per page.
"""

from __future__ import annotations

import binascii
import uuid
from collections.abc import Sequence
from typing import Any

import orjson
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from shared.eventlog.catalogue import Catalogue
from shared.eventlog.crypto import DB, ERASED, SEALED, KeyRing
from shared.eventlog.records import RecordedEvent
from shared.eventlog.sealing import open_behaviours

EVENT_COLUMNS = (
    "position, event_id::text, tenant_id::text, stream_id, version, type, schema_version, "
    "data::text, metadata::text, occurred_at, recorded_at, seal"
)
"""The columns every read selects: :class:`RecordedEvent`'s, in its order, then the sealed
behaviour (``seal``, bytes; NULL for an event without behaviour). Ids and metadata come as
text and are parsed lazily (see :class:`RecordedEvent`)."""

Sealed = tuple[dict[str, Any], str, tuple[str, ...]]  # a payload, its subject, its personal fields


class EventDecoder:
    """Turns rows of :data:`EVENT_COLUMNS` into events readers can use.

    Parameters:
        catalogue: the event types (schema versions, personal fields, upcasters).
        keyring: opens personal fields.
    """

    def __init__(self, catalogue: Catalogue, keyring: KeyRing):
        self.catalogue = catalogue
        self.keyring = keyring
        # Per event type: its current schema version, personal fields and subject field.
        self._plans: dict[str, tuple[int, tuple[str, ...], str]] = {}

    def decode(
        self, conn: DB, rows: Sequence[tuple[Any, ...]], decrypt: bool = True
    ) -> list[RecordedEvent]:
        """Decrypt personal fields and upcast old schema versions.

        Parameters:
            conn: a connection to ask for data keys on (they may have been erased since).
            rows: rows of :data:`EVENT_COLUMNS`.
            decrypt: without it, personal fields read as :data:`SEALED`.

        Returns:
            The events, in the rows' order.

        Raises:
            UnknownEventType: a row's type is not in the catalogue.
        """
        plans = self._plans
        loads = orjson.loads
        events: list[RecordedEvent] = []
        append = events.append
        sealed: list[Sealed] = []  # payloads whose personal fields are opened
        acts: list[tuple[RecordedEvent, str, bytes]] = []  # sealed behaviour: subjects, seals
        subjects: set[str] = set()  # whose data keys the page needs
        stale: list[int] = []
        for p, e, t, s, v, ty, sv, d, m, o, r, seal in rows:
            data = loads(d)
            try:
                current, personal, subject = plans[ty]
            except KeyError:
                current, personal, subject = self._plan(ty)
            if sv != current:
                stale.append(len(events))
                personal, subject = self._personal_of(ty, sv)
            event = RecordedEvent(p, e, t, s, v, ty, sv, data, m, o, r)
            if seal is not None:
                who = data[subject]
                acts.append((event, who, seal))
                subjects.add(who)
            if personal:
                if decrypt:
                    for name in personal:
                        if data.get(name) is not None:
                            sealed.append((data, data[subject], personal))
                            subjects.add(data[subject])
                            break
                else:
                    _seal(data, personal)
            append(event)
        if subjects:
            keys = self._keys(conn, subjects)
            if acts:
                open_behaviours(keys, acts)
            if sealed:
                self._open(keys, sealed)
        for i in stale:
            event = events[i]
            version, data = self.catalogue.upcast(event.type, event.schema_version, event.data)
            events[i] = event.with_data(version, data)
        return events

    def _keys(self, conn: DB, texts: set[str]) -> dict[str, tuple[AESGCM | None, bytes]]:
        """The data key (None: erased) and id bytes of every subject of the page.

        Keys are asked for once per page: the database says whether each still exists, so
        an erasure is seen by the next page read anywhere.
        """
        subjects = {s: uuid.UUID(s) for s in texts}
        keys = self.keyring.data_keys_for_read(conn, subjects.values())
        return {s: (keys[u], u.bytes) for s, u in subjects.items()}

    def _open(self, opened: dict[str, tuple[AESGCM | None, bytes]], sealed: list[Sealed]) -> None:
        """Decrypt the personal fields of ``sealed`` payloads in place."""
        a2b, loads = binascii.a2b_base64, orjson.loads
        for data, subject, personal in sealed:
            key, associated = opened[subject]
            for name in personal:
                value = data.get(name)
                if value is None:
                    continue
                if key is None:
                    data[name] = ERASED
                else:  # crypto.open_value, inline: "v1:" + base64(nonce + ciphertext)
                    raw = a2b(value[3:])
                    data[name] = loads(key.decrypt(raw[:12], raw[12:], associated))

    def _plan(self, type_: str) -> tuple[int, tuple[str, ...], str]:
        """The current schema version of ``type_``, its personal fields and subject field."""
        event_type = self.catalogue.current(type_)
        plan = (event_type.version, tuple(sorted(event_type.personal)), event_type.subject or "")
        self._plans[type_] = plan
        return plan

    def _personal_of(self, type_: str, schema_version: int) -> tuple[tuple[str, ...], str]:
        """The personal fields and subject field of an older schema version of ``type_``."""
        event_type = self.catalogue.get(type_, schema_version)
        return tuple(sorted(event_type.personal)), event_type.subject or ""


def _seal(data: dict[str, Any], personal: tuple[str, ...]) -> None:
    """Replace the personal fields of ``data`` that hold a value by :data:`SEALED`."""
    for name in personal:
        if data.get(name) is not None:
            data[name] = SEALED

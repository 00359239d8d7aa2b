"""The COPY text of a bulk append (:meth:`EventStore.append_batch`'s hot path).

The steps of :mod:`shared.eventlog.preparing` (validate, size-check, encrypt, give ids), done
for one stream at a time in one tight loop that writes COPY text lines directly: a bulk
append prepares tens of thousands of events per call.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson

from shared.copy_format import escape
from shared.domain.bounds import in_window
from shared.eventlog.catalogue import Catalogue
from shared.eventlog.crypto import KeyRing
from shared.eventlog.errors import EventValidationError, PayloadTooLarge
from shared.eventlog.ids import derive_event_id, new_event_id_ints, uuid_from_int
from shared.eventlog.preparing import OUT_OF_WINDOW, dumps
from shared.eventlog.records import AppendContext, NewEvent
from shared.eventlog.sealing import seal_behaviour

BATCH_COLUMNS = (
    "event_id, tenant_id, stream_id, version, type, schema_version, data, metadata, "
    "occurred_at, seal"
)
"""The columns of ``events`` a bulk append writes, in the order of :meth:`BatchLines.stream`."""


class BatchLines:
    """Writes the COPY lines of one bulk append, stream by stream.

    Parameters:
        catalogue: validates and normalises payloads.
        max_event_bytes: the largest accepted payload, in bytes of JSON.
        tenant_id: the appending tenant.
        context: who appends (its idempotency key derives the ids).
        keys: the data key of every subject with personal data in the batch.
        total: how many events the whole batch holds.
    """

    def __init__(
        self,
        catalogue: Catalogue,
        max_event_bytes: int,
        tenant_id: uuid.UUID,
        context: AppendContext,
        keys: Mapping[uuid.UUID, Any],
        total: int,
    ):
        self.catalogue = catalogue
        self.max_event_bytes = max_event_bytes
        self.tenant_id = tenant_id
        self.context = context
        self.keys = keys
        self.tenant_text = str(tenant_id)
        self.metadata_text = escape(dumps(context.metadata()))
        self.now = datetime.now(UTC)
        self.index = 0  # of the next event in the whole batch (for derived ids)
        # Without an idempotency key, ids are fresh version 7 UUIDs, written to COPY as hex.
        self.fresh = None if context.idempotency_key else iter(new_event_id_ints(total))
        self.ids: list[uuid.UUID] = []
        # Subject ids as normalised payloads write them (canonical text) -> (id, data key).
        self.by_text = {str(subject): (subject, key) for subject, key in keys.items()}
        # The stored times of sealed events (the Mondays of their weeks) as COPY text.
        self.monday_texts: dict[datetime, str] = {}

    def _monday_text(self, monday: datetime) -> str:
        """``monday`` (a sealed event's stored time) as COPY text, remembered."""
        text = self.monday_texts.get(monday)
        if text is None:
            text = self.monday_texts[monday] = monday.isoformat()
        return text

    def _check_time(self, type_: str, occurred_at: datetime, unsized: Any = None) -> None:
        """Raise if ``occurred_at`` is no valid time for an event.

        Parameters:
            type_: the event's type.
            occurred_at: its time.
            unsized: the payload of a sealed event, whose size is not checked yet: a payload
                over the limit is reported first, as for the other events.

        Raises:
            PayloadTooLarge, EventValidationError.
        """
        if occurred_at.tzinfo is None:
            if unsized is not None:
                self._check_plain_size(type_, unsized)
            raise EventValidationError(type_, {"occurred_at": ["must include a time zone offset"]})
        if not in_window(occurred_at):
            if unsized is not None:
                self._check_plain_size(type_, unsized)
            raise EventValidationError(type_, {"occurred_at": [OUT_OF_WINDOW]})

    def _check_plain_size(self, type_: str, data: Mapping[str, Any]) -> None:
        """Raise :class:`PayloadTooLarge` if the plain JSON of ``data`` is over the limit."""
        size = len(orjson.dumps(data, option=orjson.OPT_SORT_KEYS))
        if size > self.max_event_bytes:
            raise PayloadTooLarge(type_, size, self.max_event_bytes)

    def _key_of(self, subject_text: str) -> tuple[uuid.UUID, Any]:
        found = self.by_text.get(subject_text)
        if found is None:
            subject = uuid.UUID(subject_text)
            key = self.keys.get(subject)
            assert key is not None, f"no data key loaded for {subject}"
            found = self.by_text[subject_text] = (subject, key)
        return found

    def take_ids(self) -> list[uuid.UUID]:
        """The ids of the stream written last.

        Returns:
            Their ids, in order; the next stream starts a new list.
        """
        ids, self.ids = self.ids, []
        return ids

    def _derived_id(self) -> str:
        """The next event's derived (idempotent) id as COPY text, remembered."""
        assert self.context.idempotency_key is not None
        event_id = derive_event_id(
            self.tenant_id, self.context.actor, self.context.idempotency_key, self.index
        )
        self.ids.append(event_id)
        return str(event_id)

    def stream(self, stream_id: str, version: int, events: Sequence[NewEvent]) -> str:
        """COPY lines for ``events`` appended to ``stream_id`` after ``version``.

        Parameters:
            stream_id: the stream.
            version: its version before these events.
            events: its new events.

        Returns:
            One line per event, in :data:`BATCH_COLUMNS` order.

        Raises:
            UnknownEventType, EventValidationError, PayloadTooLarge.
        """
        normalise = self.catalogue.normalise
        limit = self.max_event_bytes
        dumps_bytes, sort_keys = orjson.dumps, orjson.OPT_SORT_KEYS
        encrypt = KeyRing.encrypt_value
        middle = f"\t{self.tenant_text}\t{escape(stream_id)}\t"
        metadata_text, now = self.metadata_text, self.now
        fresh, ids = self.fresh, self.ids
        moment: datetime | None = None
        moment_text = ""
        lines = []
        for event in events:
            event_type, data = normalise(event.type, event.data)
            behaviour = event_type.behaviour
            # A sealed event's stored JSON and seal together are longer than its plain JSON
            # (the fields' own JSON inside the seal, the time, nonce and tag added): its size is
            # checked on those, the plain JSON dumped only when they are over the limit
            # (:meth:`_check_plain_size`).
            plain = b"" if behaviour else dumps_bytes(data, option=sort_keys)
            if len(plain) > limit:
                raise PayloadTooLarge(event.type, len(plain), limit)
            occurred_at = event.occurred_at or now
            if occurred_at is not moment:
                self._check_time(event.type, occurred_at, data if behaviour else None)
                moment, moment_text = occurred_at, ""
            if behaviour:  # sealed with the personal text below: one dump
                original = dict(data)
                subject, key = self._key_of(data[event_type.subject or ""])
                stored, seal = seal_behaviour(key, subject, data, behaviour, occurred_at)
                time_text = self._monday_text(stored)
                seal_text = "\\\\x" + seal.hex()  # bytea's hex text, its backslash escaped
            else:
                if not moment_text:
                    moment_text = occurred_at.isoformat()
                time_text = moment_text
                seal_text = "\\N"
            if event_type.personal:
                sealed = False
                for name in event_type.personal:
                    if data.get(name) is not None:
                        if not sealed:
                            subject, key = self._key_of(data[event_type.subject or ""])
                            sealed = True
                        data[name] = encrypt(key, subject, data[name])
                if sealed:
                    plain = b""
            if not plain:
                plain = dumps_bytes(data)
                if behaviour and len(plain) + len(seal) > limit:
                    self._check_plain_size(event.type, original)
            text = plain.decode()
            if "\\" in text:  # orjson never writes raw tabs or newlines
                text = text.replace("\\", "\\\\")
            if fresh is not None:  # inline: this loop runs per event
                value = next(fresh)
                id_text = f"{value:032x}"
                ids.append(uuid_from_int(value))
            else:
                id_text = self._derived_id()
            self.index += 1
            version += 1
            lines.append(
                f"{id_text}{middle}{version}\t{event_type.name}\t{event_type.version}\t"
                f"{text}\t{metadata_text}\t{time_text}\t{seal_text}\n"
            )
        return "".join(lines)

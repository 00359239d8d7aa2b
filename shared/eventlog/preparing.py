"""Everything an append does before SQL: validate, size-check, give ids, encrypt.

:meth:`EventStore.append` and :meth:`EventStore.append_in` prepare their events here; a bulk
append does the same steps in its own tight loop (shared/eventlog/batch_lines.py) and uses
:meth:`EventPreparer.subjects_with_personal_data` to load its data keys first.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from shared.domain.bounds import in_window
from shared.eventlog.catalogue import Catalogue, EventType
from shared.eventlog.crypto import DB, KeyRing
from shared.eventlog.errors import EventValidationError, PayloadTooLarge
from shared.eventlog.ids import derive_event_id, new_event_id
from shared.eventlog.records import AppendContext, NewEvent
from shared.eventlog.sealing import seal_behaviour
from shared.eventlog.time_fields import WINDOW_TEXT

OUT_OF_WINDOW = f"must lie {WINDOW_TEXT}"
"""Why an event's ``occurred_at`` is refused outside the catalogue's window."""


@dataclass(slots=True)
class PreparedEvent:
    """An event ready to be written.

    Parameters:
        event_id: its id (derived for an idempotent append).
        event_type: its type's current version.
        data: its payload, JSON-native, personal fields encrypted, behaviour sealed (taken
            out).
        plain: the JSON of its plaintext payload, to compare idempotent retries.
        occurred_at: when it happened (time-zone aware); for a type with behaviour fields,
            the Monday of its UTC week (the exact time is sealed).
        metadata: its metadata.
        subject: whose key encrypted its personal fields, if any.
        seal: its sealed behaviour, the ``seal`` column (shared/eventlog/sealing.py); None
            for a type without behaviour.
    """

    event_id: uuid.UUID
    event_type: EventType
    data: dict[str, Any]
    plain: bytes
    occurred_at: datetime
    metadata: dict[str, Any] = field(default_factory=dict)
    subject: uuid.UUID | None = None
    seal: bytes | None = None


class EventPreparer:
    """Prepares new events for the log.

    Parameters:
        catalogue: validates and normalises payloads.
        keyring: gives each subject's data key for writing.
        max_event_bytes: the largest accepted payload, in bytes of JSON.
    """

    def __init__(self, catalogue: Catalogue, keyring: KeyRing, max_event_bytes: int):
        self.catalogue = catalogue
        self.keyring = keyring
        self.max_event_bytes = max_event_bytes

    def prepare(
        self,
        conn: DB,
        tenant_id: uuid.UUID,
        events: Sequence[NewEvent],
        context: AppendContext,
        start_index: int = 0,
    ) -> list[PreparedEvent]:
        """Validate, size-check, give ids and encrypt ``events``.

        Parameters:
            conn: the connection data keys are created or read on.
            tenant_id: the appending tenant.
            events: the new events.
            context: who appends (its idempotency key derives the ids).
            start_index: the first event's index in the whole append (for derived ids).

        Returns:
            The prepared events, in order.

        Raises:
            UnknownEventType, EventValidationError, PayloadTooLarge, SubjectErased.
        """
        now = datetime.now(UTC)
        metadata = context.metadata()
        keys: dict[str, tuple[uuid.UUID, Any]] = {}
        prepared = []
        for offset, event in enumerate(events):
            event_type, data = self.catalogue.normalise(event.type, event.data)
            plain = orjson.dumps(data, option=orjson.OPT_SORT_KEYS)
            if len(plain) > self.max_event_bytes:
                raise PayloadTooLarge(event.type, len(plain), self.max_event_bytes)
            occurred_at = event.occurred_at or now
            if occurred_at.tzinfo is None:
                raise EventValidationError(
                    event.type, {"occurred_at": ["must include a time zone offset"]}
                )
            if not in_window(occurred_at):
                raise EventValidationError(event.type, {"occurred_at": [OUT_OF_WINDOW]})
            subject = self._encrypt(conn, tenant_id, event_type, data, keys)
            seal = None
            if event_type.behaviour:
                subject, key = self._key(conn, tenant_id, data[event_type.subject or ""], keys)
                behaviour = event_type.behaviour
                occurred_at, seal = seal_behaviour(key, subject, data, behaviour, occurred_at)
            if context.idempotency_key is not None:
                event_id = derive_event_id(
                    tenant_id, context.actor, context.idempotency_key, start_index + offset
                )
            else:
                event_id = new_event_id()
            prepared.append(
                PreparedEvent(
                    event_id, event_type, data, plain, occurred_at, metadata, subject, seal
                )
            )
        return prepared

    def _encrypt(
        self,
        conn: DB,
        tenant_id: uuid.UUID,
        event_type: EventType,
        data: dict[str, Any],
        keys: dict[str, tuple[uuid.UUID, Any]],
    ) -> uuid.UUID | None:
        """Encrypt the personal fields of ``data`` in place; whose key did, if any."""
        if not event_type.personal:
            return None
        secret = [f for f in event_type.personal if data.get(f) is not None]
        if not secret:
            return None
        subject, key = self._key(conn, tenant_id, data[event_type.subject or ""], keys)
        for name in secret:
            data[name] = KeyRing.encrypt_value(key, subject, data[name])
        return subject

    def _key(
        self, conn: DB, tenant_id: uuid.UUID, text: str, keys: dict[str, tuple[uuid.UUID, Any]]
    ) -> tuple[uuid.UUID, Any]:
        """The subject a normalised payload names (its id as text) and their data key for
        this append: parsed and asked of the key ring once per subject."""
        found = keys.get(text)
        if found is None:
            subject = uuid.UUID(text)
            found = keys[text] = (
                subject,
                self.keyring.data_key_for_write(conn, tenant_id, subject),
            )
        return found

    def subjects_with_personal_data(self, events: Iterable[NewEvent]) -> set[uuid.UUID]:
        """Who needs a data key for ``events`` (an invalid subject is left to validation).

        A bulk append scans every event with this before its COPY, so it is kept to a dict
        lookup per event and a UUID parse per distinct subject.

        Parameters:
            events: the new events.

        Returns:
            The subjects of the events that carry a personal field or seal behaviour.
        """
        raw: set[str] = set()
        # Per type: its personal fields, its subject field, whether it seals behaviour.
        plans: dict[str, tuple[tuple[str, ...], str, bool] | None] = {}
        for event in events:
            try:
                plan = plans[event.type]
            except KeyError:
                plan = plans[event.type] = self._personal_plan(event.type)
            if plan is None:
                continue
            data = event.data
            if type(data) is not dict and not isinstance(data, Mapping):
                continue
            if plan[2]:  # behaviour is sealed whatever its values
                value = data.get(plan[1])
                raw.add(value if type(value) is str else str(value))
                continue
            for name in plan[0]:
                if data.get(name) is not None:
                    value = data.get(plan[1])
                    raw.add(value if type(value) is str else str(value))
                    break
        subjects = set()
        for value in raw:
            try:
                subjects.add(uuid.UUID(value))
            except ValueError:
                continue
        return subjects

    def _personal_plan(self, type_: str) -> tuple[tuple[str, ...], str, bool] | None:
        """The personal fields and subject field of ``type_`` and whether it seals behaviour;
        None without either (or for an unknown type, left to validation)."""
        if type_ not in self.catalogue:
            return None
        event_type = self.catalogue.current(type_)
        if not event_type.personal and not event_type.behaviour:
            return None
        personal = tuple(sorted(event_type.personal))
        return personal, event_type.subject or "", bool(event_type.behaviour)


def dumps(value: Any) -> str:
    """``value`` as JSON text (orjson: UUIDs and datetimes included).

    Parameters:
        value: a JSON-native value.

    Returns:
        Its JSON.
    """
    return orjson.dumps(value).decode()


def events_json(prepared: Sequence[PreparedEvent]) -> str:
    """The events of an append as compound_append() takes them: one JSON array.

    Parameters:
        prepared: the events.

    Returns:
        The JSON array of their columns, a seal as hex (``seal``: null without one).
    """
    return orjson.dumps(
        [
            {
                "event_id": p.event_id,
                "type": p.event_type.name,
                "schema_version": p.event_type.version,
                "data": p.data,
                "metadata": p.metadata,
                "occurred_at": p.occurred_at,
                "seal": None if p.seal is None else p.seal.hex(),
            }
            for p in prepared
        ]
    ).decode()

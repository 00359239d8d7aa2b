"""What goes into the event log and what comes out: the store's value types."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event to append.

    Parameters:
        type: the event type's name in the catalogue.
        data: its payload, validated and normalised by the type's current schema.
        occurred_at: when it happened, with a time zone (default: when it is appended).
    """

    type: str
    data: Mapping[str, Any]
    occurred_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class AppendContext:
    """Who appends and why; stored as each event's metadata.

    Parameters:
        actor: who appends (a person id or a service name).
        idempotency_key: with ``actor``, makes the append idempotent.
        correlation_id: the request or job the append belongs to.
        causation_id: the event or command that caused it.
        source: which part of the system appends.
    """

    actor: str | None = None
    idempotency_key: str | None = None
    correlation_id: str | None = None
    causation_id: str | None = None
    source: str = "system"

    def metadata(self) -> dict[str, Any]:
        """The metadata stored with each event.

        Returns:
            ``source`` and every other field that is set.
        """
        meta: dict[str, Any] = {"source": self.source}
        for name in ("actor", "correlation_id", "causation_id", "idempotency_key"):
            value = getattr(self, name)
            if value is not None:
                meta[name] = value
        return meta


class RecordedEvent:
    """An event as read back: upcast to its current schema, personal fields decrypted.

    A plain slotted class rather than a frozen dataclass: reading is the hot path of every
    projection, and ``event_id``, ``tenant_id`` and ``metadata``, which few readers need,
    are only parsed when first used.

    Parameters:
        position: its place in the log (global, increasing, gaps allowed).
        event_id: its id, as a UUID or its text.
        tenant_id: its tenant, as a UUID or its text.
        stream_id: its stream.
        version: its place in the stream (1, 2, ...).
        type: its event type's name.
        schema_version: the version of its type's schema its ``data`` follows.
        data: its payload.
        metadata: its metadata, as a dict or its JSON text.
        occurred_at: when it happened.
        recorded_at: when it was committed.
        erased: its subject was erased and its behaviour with them (shared/eventlog/
            sealing.py): the behaviour fields are absent, and projections skip it.

    Attributes:
        sealed_at_text: the exact ``occurred_at`` as its seal holds it (``isoformat()``
            text), set when the seal is opened; None otherwise (see :attr:`occurred_at_text`).
    """

    __slots__ = (
        "_event_id",
        "_metadata",
        "_tenant_id",
        "data",
        "erased",
        "occurred_at",
        "position",
        "recorded_at",
        "schema_version",
        "sealed_at_text",
        "stream_id",
        "type",
        "version",
    )

    def __init__(
        self,
        position: int,
        event_id: uuid.UUID | str,
        tenant_id: uuid.UUID | str,
        stream_id: str,
        version: int,
        type: str,
        schema_version: int,
        data: dict[str, Any],
        metadata: dict[str, Any] | str,
        occurred_at: datetime,
        recorded_at: datetime,
        erased: bool = False,
    ):
        self.erased = erased
        self.sealed_at_text: str | None = None
        self.position = position
        self._event_id = event_id
        self._tenant_id = tenant_id
        self.stream_id = stream_id
        self.version = version
        self.type = type
        self.schema_version = schema_version
        self.data = data
        self._metadata = metadata
        self.occurred_at = occurred_at
        self.recorded_at = recorded_at

    @property
    def event_id(self) -> uuid.UUID:
        """The event's id (parsed on first use)."""
        if not isinstance(self._event_id, uuid.UUID):
            self._event_id = uuid.UUID(self._event_id)
        return self._event_id

    @property
    def tenant_id(self) -> uuid.UUID:
        """The event's tenant (parsed on first use)."""
        if not isinstance(self._tenant_id, uuid.UUID):
            self._tenant_id = uuid.UUID(self._tenant_id)
        return self._tenant_id

    @property
    def event_id_text(self) -> str:
        """The event id as text, without building a UUID (bulk writers' hot path)."""
        return str(self._event_id)

    @property
    def tenant_id_text(self) -> str:
        """The tenant id as text, without building a UUID."""
        return str(self._tenant_id)

    @property
    def occurred_at_text(self) -> str:
        """``occurred_at`` in ISO 8601 (``isoformat()``), for COPY text: the seal's own text
        when it was read from one (shared/eventlog/sealing.py), so a rebuild does not format
        again the time it has just parsed (``isoformat`` costs seven times ``fromisoformat``).
        """
        text = self.sealed_at_text
        return self.occurred_at.isoformat() if text is None else text

    @property
    def metadata(self) -> dict[str, Any]:
        """The event's metadata (parsed on first use)."""
        if isinstance(self._metadata, str):
            self._metadata = orjson.loads(self._metadata)
        return self._metadata  # type: ignore[return-value]

    def with_data(self, schema_version: int, data: dict[str, Any]) -> RecordedEvent:
        """This event with another payload (an upcast one).

        Parameters:
            schema_version: the schema version ``data`` follows.
            data: the payload.

        Returns:
            A new event; this one is unchanged.
        """
        return RecordedEvent(
            self.position,
            self._event_id,
            self._tenant_id,
            self.stream_id,
            self.version,
            self.type,
            schema_version,
            data,
            self._metadata,
            self.occurred_at,
            self.recorded_at,
            self.erased,
        )

    def _key(self) -> tuple[Any, ...]:
        return (
            self.position,
            self.event_id,
            self.tenant_id,
            self.stream_id,
            self.version,
            self.type,
            self.schema_version,
            self.data,
            self.metadata,
            self.occurred_at,
            self.recorded_at,
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RecordedEvent) and self._key() == other._key()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"RecordedEvent(position={self.position}, type={self.type!r}, "
            f"stream_id={self.stream_id!r}, version={self.version})"
        )


@dataclass(frozen=True, slots=True)
class AppendResult:
    """What an append wrote.

    Parameters:
        positions: the events' positions in the log, in append order.
        event_ids: the events' ids, in append order.
        stream_version: the stream's version after the append.
        replayed: whether these are the results of an earlier append with the same
            idempotency key (nothing was written this time).
        records: the events as a read would return them, when the append was asked for
            them (``EventStore.append_in(..., records=True)``) and wrote them; else empty.
    """

    positions: tuple[int, ...]
    event_ids: tuple[uuid.UUID, ...]
    stream_version: int
    replayed: bool = False
    records: tuple[RecordedEvent, ...] = ()


@dataclass(frozen=True, slots=True)
class StreamAppend:
    """One stream's share of a bulk append.

    Parameters:
        stream_id: the stream.
        events: its new events.
        expected_version: the stream's current version (0 for a new stream), or ``None`` to
            append whatever the version.
    """

    stream_id: str
    events: Sequence[NewEvent]
    expected_version: int | None = None


@dataclass(frozen=True, slots=True)
class StreamCap:
    """The condition of a capped append (:meth:`EventStore.append_capped`): the stream holds
    at most ``most`` events of ``event_type`` whose ``occurred_at`` column lies in
    [``since``, ``until``). Counted in the append's own statement: no round trip of its own.

    Parameters:
        event_type: the type counted (a catalogue name: letters only).
        since: the first time counted.
        until: the first time not counted.
        most: the most such events the stream may hold for the append to go ahead.
    """

    event_type: str
    since: datetime
    until: datetime
    most: int

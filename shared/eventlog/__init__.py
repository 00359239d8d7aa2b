"""The event log: the store, the event catalogue and crypto-shredding."""

from shared.eventlog.catalogue import Catalogue, EventType
from shared.eventlog.crypto import ERASED, SEALED, KeyRing, generate_master_key
from shared.eventlog.errors import (
    ConcurrencyError,
    EventStoreError,
    EventValidationError,
    IdempotencyConflict,
    MissingMasterKey,
    PayloadTooLarge,
    SubjectErased,
    UnknownEventType,
)
from shared.eventlog.events import CATALOGUE
from shared.eventlog.store import (
    AppendContext,
    AppendResult,
    EventStore,
    NewEvent,
    RecordedEvent,
    StreamAppend,
    StreamCap,
)

__all__ = [
    "CATALOGUE",
    "ERASED",
    "SEALED",
    "AppendContext",
    "AppendResult",
    "Catalogue",
    "ConcurrencyError",
    "EventStore",
    "EventStoreError",
    "EventType",
    "EventValidationError",
    "IdempotencyConflict",
    "KeyRing",
    "MissingMasterKey",
    "NewEvent",
    "PayloadTooLarge",
    "RecordedEvent",
    "StreamAppend",
    "StreamCap",
    "SubjectErased",
    "UnknownEventType",
    "generate_master_key",
]

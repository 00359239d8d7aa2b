"""Typed errors of the event store, one per kind of failure.

The gateway maps each to one HTTP status (see ``services/gateway``); nothing partial is
ever written when one is raised.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class EventStoreError(Exception):
    """Base class of every event-store error."""


class UnknownEventType(EventStoreError):
    """The catalogue has no such event type (or version, or upcaster).

    Parameters:
        event_type: what was asked for.
    """

    def __init__(self, event_type: str):
        self.event_type = event_type
        super().__init__(f"unknown event type {event_type!r}")


class EventValidationError(EventStoreError):
    """A payload does not match its event type's schema.

    Parameters:
        event_type: the event type's name.
        errors: each offending field's messages, as marshmallow reports them (``.errors``).
    """

    def __init__(self, event_type: str, errors: Mapping[str, Any]):
        self.event_type = event_type
        self.errors = dict(errors)
        fields = ", ".join(sorted(self.errors))
        super().__init__(f"invalid {event_type} payload: {fields}: {self.errors}")


class PayloadTooLarge(EventStoreError):
    """A payload's JSON is larger than the store accepts.

    Parameters:
        event_type: the event type's name.
        size: the payload's size, in bytes of JSON.
        limit: the largest accepted size.
    """

    def __init__(self, event_type: str, size: int, limit: int):
        self.event_type, self.size, self.limit = event_type, size, limit
        super().__init__(f"{event_type} payload is {size} bytes; the limit is {limit} bytes")


class ConcurrencyError(EventStoreError):
    """The stream is not at the expected version (someone appended first).

    Parameters:
        stream_id: the stream.
        expected: the version the caller expected.
        actual: the stream's version (-1 when a racing retry got there first).
    """

    def __init__(self, stream_id: str, expected: int | None, actual: int):
        self.stream_id, self.expected, self.actual = stream_id, expected, actual
        super().__init__(f"stream {stream_id} is at version {actual}, expected {expected}")


class IdempotencyConflict(EventStoreError):
    """The idempotency key was used before for different events.

    Parameters:
        key: the idempotency key.
    """

    def __init__(self, key: str):
        self.key = key
        super().__init__(f"idempotency key {key!r} was already used with different events")


class SubjectErased(EventStoreError):
    """Personal data cannot be written for a person who was erased.

    Parameters:
        subject_id: the erased person.
    """

    def __init__(self, subject_id: object):
        self.subject_id = subject_id
        super().__init__(f"person {subject_id} was erased; no personal data can be stored")


class MissingMasterKey(EventStoreError):
    """Personal data cannot be encrypted: ``COMPOUND_MASTER_KEYS`` is not set."""

    def __init__(self) -> None:
        super().__init__(
            "COMPOUND_MASTER_KEYS is not set: personal data cannot be encrypted "
            "(generate one with `compound keys generate`)"
        )

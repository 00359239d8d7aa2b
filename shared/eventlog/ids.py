"""Event ids: time-ordered (version 7) UUIDs, or derived ones for idempotent appends.

A fresh event gets a version 7 UUID, so new entries of the ``event_id`` index land together
at its right edge instead of all over it. An idempotent append derives its ids from
(tenant, actor, key, index): a retry computes the same ids and finds them stored.
"""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from typing import Any

EVENT_ID_NAMESPACE = uuid.UUID("5b0f7e53-6a43-4b1e-9f3c-4c0b0d6f1a11")
"""The UUID namespace of derived (idempotent) event ids."""


def new_event_id() -> uuid.UUID:
    """A new time-ordered (version 7) UUID.

    Returns:
        A UUID whose first 48 bits are the current Unix time in milliseconds.
    """
    value = (time.time_ns() // 1_000_000) << 80 | int.from_bytes(os.urandom(10), "big")
    value = (value & ~(0xF << 76)) | (0x7 << 76)  # version 7
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # RFC 4122 variant
    return uuid_from_int(value)  # valid by construction: without UUID()'s checks


def new_event_id_ints(count: int) -> list[int]:
    """``count`` new version 7 UUIDs as integers, in increasing order, from one clock read.

    They share the millisecond and 12 random bits; the other 62 bits count up from a random
    start below 2**61 (so they never carry into the variant). Increasing ids go to the
    rightmost leaf of the ``event_id`` index one after the other; random ones within the same
    millisecond land all over its last pages, which cost the server about a quarter more CPU
    for a 20,000-event COPY (docs/events.md, "Bulk append").

    Parameters:
        count: how many ids.

    Returns:
        The ids as 128-bit integers (``f"{value:032x}"`` is their COPY text).
    """
    noise = int.from_bytes(os.urandom(10), "big")
    first = (
        (time.time_ns() // 1_000_000) << 80
        | 0x7 << 76  # version 7
        | (noise >> 68) << 64  # 12 random bits (rand_a)
        | 0x2 << 62  # RFC 9562 variant
        | noise & ((1 << 61) - 1)  # where the count starts
    )
    return list(range(first, first + count))


def uuid_from_int(
    value: int,
    new: Any = object.__new__,
    assign: Any = object.__setattr__,
    unknown: uuid.SafeUUID = uuid.SafeUUID.unknown,
) -> uuid.UUID:
    """``uuid.UUID(int=value)`` without its argument checks (a bulk append makes thousands).

    Parameters:
        value: a valid 128-bit UUID as an integer (not checked).

    Returns:
        The UUID.
    """
    made = new(uuid.UUID)
    assign(made, "int", value)
    assign(made, "is_safe", unknown)
    return made


def derive_event_id(tenant_id: uuid.UUID, actor: str | None, key: str, index: int) -> uuid.UUID:
    """The id of event ``index`` of an idempotent append: the same inputs, the same id.

    Parameters:
        tenant_id: the appending tenant.
        actor: who appends (``None`` counts as one actor).
        key: the idempotency key.
        index: the event's place in the append (across a whole bulk append).

    Returns:
        A version 5 UUID in :data:`EVENT_ID_NAMESPACE`: ``uuid.uuid5``'s, made without
        ``UUID()``'s argument checks (an append derives one per event).
    """
    name = f"{tenant_id}|{actor or '-'}|{key}|{index}".encode()
    value = int.from_bytes(hashlib.sha1(_NAMESPACE_BYTES + name).digest()[:16], "big")
    value = (value & ~(0xF << 76)) | (0x5 << 76)  # version 5
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # RFC 4122 variant
    return uuid_from_int(value)


_NAMESPACE_BYTES = EVENT_ID_NAMESPACE.bytes

"""Writing a drawn history (tests/contract/histories.py) to the event store.

Each :class:`~tests.contract.histories.Ref` becomes a UUID of the test's own
(:class:`Identities`), so the same drawn history can be written by two tests without their
ids colliding; each :class:`~tests.contract.histories.Write` becomes the store call it names.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from shared.eventlog import AppendContext, EventStore, NewEvent, StreamAppend
from tests.contract.histories import Ref, Write

REF_KINDS = frozenset({"tenant", "team", "person"})  # the kinds that name streams


class Identities:
    """The UUIDs of a written history: each :class:`Ref` -> a UUID of this test alone."""

    def __init__(self) -> None:
        self.salt = uuid.uuid4()
        self.ids: dict[Ref, uuid.UUID] = {}

    def of(self, ref: Ref) -> uuid.UUID:
        found = self.ids.get(ref)
        if found is None:
            found = self.ids[ref] = uuid.uuid5(self.salt, f"{ref.kind}-{ref.number}")
        return found

    def data(self, value: Any) -> Any:
        """``value`` with each :class:`Ref` (in mappings too) as its UUID's text."""
        if isinstance(value, Ref):
            return str(self.of(value))
        if isinstance(value, Mapping):
            return {k: self.data(v) for k, v in value.items()}
        return value

    def stream(self, name: str) -> str:
        """A stream name with its refs as UUIDs: ``journal-person3`` -> ``journal-<uuid>``."""
        parts = name.split("-")
        for i, part in enumerate(parts[1:], 1):
            kind = part.rstrip("0123456789")
            if kind in REF_KINDS and part != kind:
                parts[i] = str(self.of(Ref(kind, int(part[len(kind) :]))))
        return "-".join(parts)

    def event(self, event: NewEvent) -> NewEvent:
        return NewEvent(event.type, self.data(event.data), event.occurred_at)

    @property
    def all(self) -> set[uuid.UUID]:
        return set(self.ids.values())


class _RolledBack(Exception):
    """Raised inside a unit of work so that its transaction is rolled back."""


def write(store: EventStore, history: list[Write], index: int, ids: Identities) -> None:
    """Write ``history[index]`` to ``store`` with the UUIDs of ``ids``."""
    item = history[index]
    if item.how == "retry":
        assert item.retry_of is not None
        results = _write(store, history[item.retry_of], ids)
        assert all(r.replayed for r in results), "a keyed write sent again is replayed"
    else:
        _write(store, item, ids)


def _write(store: EventStore, write: Write, ids: Identities) -> list[Any]:
    tenant = ids.of(write.tenant)
    context = AppendContext(actor="contract", idempotency_key=write.key, source="test")
    if write.how == "erase":
        assert write.person is not None
        return [store.erase(tenant, ids.of(write.person), context)]
    streams = [(ids.stream(s), [ids.event(e) for e in events]) for s, events in write.streams]
    if write.how == "batch":
        return store.append_batch(tenant, [StreamAppend(s, es) for s, es in streams], context)
    ((stream, events),) = streams
    if write.how == "rolled_back":
        try:
            with store.engine.begin() as conn:
                store.append_in(conn, tenant, stream, None, events, context)
                raise _RolledBack()
        except _RolledBack:
            return []
    return [store.append(tenant, stream, None, events, context)]

"""A projection that cannot apply some events (poison events), for the quarantine's tests.

``poisoned(base, suffix, bad)``: ``base`` isolated under ``{name}_{suffix}`` (its own tables),
whose ``apply`` and rebuild fold raise on any event whose id is in ``bad`` (text ids), as a
projection raises on a value it cannot handle. Emptying ``bad`` is the fix (an upcaster, a
mended projection).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection

from shared.eventlog import RecordedEvent
from shared.projections.runtime import Projection
from tests.integration.isolated_projections import isolated


class PoisonError(ValueError):
    """What a poisoned projection raises."""


def _check(events: Sequence[RecordedEvent], bad: set[str]) -> None:
    for e in events:
        if e.event_id_text in bad:
            raise PoisonError(f"cannot apply {e.type} at {e.position}")


class PoisonedFold:
    """A rebuild fold that raises where the poisoned ``apply`` raises."""

    def __init__(self, inner: Any, bad: set[str]) -> None:
        self.inner, self.bad = inner, bad

    def fold(self, events: Sequence[RecordedEvent]) -> None:
        _check(events, self.bad)
        self.inner.fold(events)

    def flush(self, copies: Any, tables: Mapping[str, str]) -> None:
        self.inner.flush(copies, tables)

    def end_shared(self, copies: Any, tables: Mapping[str, str]) -> None:
        self.inner.end_shared(copies, tables)

    def finish(self, conn: Connection, tables: Mapping[str, str]) -> bool:
        return bool(self.inner.finish(conn, tables))


def poisoned(base: Projection, suffix: str, bad: set[str]) -> Projection:
    """``base`` isolated as ``{name}_{suffix}``, raising on the events whose ids are in
    ``bad`` (read at each call: a test mends it by emptying the set)."""
    inner = type(isolated(base, suffix))

    class Poisoned(inner):  # type: ignore[valid-type,misc]
        def apply(
            self, conn: Connection, events: Sequence[RecordedEvent], tables: Mapping[str, str]
        ) -> None:
            _check(events, bad)
            super().apply(conn, events, tables)

        def begin_rebuild(self) -> Any:
            fold = super().begin_rebuild()
            return None if fold is None else PoisonedFold(fold, bad)

    return Poisoned()

"""Projections that cannot apply some events (poison events), for the quarantine's tests.

``poisoning(projection, is_bad)``: ``projection`` (an isolated copy) whose ``apply`` and
rebuild fold raise on any event ``is_bad`` picks, as a projection raises on a value it cannot
handle. ``poisoned(base, suffix, bad)``: ``base`` isolated under ``{name}_{suffix}`` and
poisoned on the event ids in ``bad``; emptying ``bad`` is the fix (an upcaster, a mended
projection).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection

from shared.eventlog import RecordedEvent
from shared.projections.runtime import Projection
from tests.integration.isolated_projections import isolated

IsBad = Callable[[RecordedEvent], bool]


class PoisonError(ValueError):
    """What a poisoned projection raises."""


def _check(events: Sequence[RecordedEvent], is_bad: IsBad) -> None:
    for e in events:
        if is_bad(e):
            raise PoisonError(f"cannot apply {e.type} at {e.position}")


class PoisonedFold:
    """A rebuild fold that raises where the poisoned ``apply`` raises."""

    def __init__(self, inner: Any, is_bad: IsBad) -> None:
        self.inner, self.is_bad = inner, is_bad

    def fold(self, events: Sequence[RecordedEvent]) -> None:
        _check(events, self.is_bad)
        self.inner.fold(events)

    def flush(self, copies: Any, tables: Mapping[str, str]) -> None:
        self.inner.flush(copies, tables)

    def end_shared(self, copies: Any, tables: Mapping[str, str]) -> None:
        self.inner.end_shared(copies, tables)

    def finish(self, conn: Connection, tables: Mapping[str, str]) -> bool:
        return bool(self.inner.finish(conn, tables))


def poisoning(projection: Projection, is_bad: IsBad) -> Projection:
    """``projection`` (its name and tables unchanged), raising on the events ``is_bad``
    picks, in ``apply`` and in its rebuild's fold."""

    class Poisoned(type(projection)):  # type: ignore[misc]
        def apply(
            self, conn: Connection, events: Sequence[RecordedEvent], tables: Mapping[str, str]
        ) -> None:
            _check(events, is_bad)
            super().apply(conn, events, tables)

        def begin_rebuild(self) -> Any:
            fold = super().begin_rebuild()
            return None if fold is None else PoisonedFold(fold, is_bad)

    copy: Projection = object.__new__(Poisoned)
    copy.__dict__.update(vars(projection))
    return copy


def poisoned(base: Projection, suffix: str, bad: set[str]) -> Projection:
    """``base`` isolated as ``{name}_{suffix}``, raising on the events whose ids are in
    ``bad`` (read at each call: a test mends it by emptying the set)."""
    return poisoning(isolated(base, suffix), lambda e: e.event_id_text in bad)

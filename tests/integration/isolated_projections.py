"""Projections under names and tables of a test's own, the way these tests isolate them.

An isolated projection's tables are its base tables with a suffix (``capital_weeks_ab12``);
its ``apply`` and its rebuild's fold see them under their base names, so the projection's
own code runs unchanged on tables no other test touches.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, text

from shared.eventlog import EventStore, RecordedEvent
from shared.projections.runtime import Projection, Runtime


def base_names(tables: Mapping[str, str]) -> dict[str, str]:
    """``{base_suffix: physical}`` -> ``{base: physical}``."""
    return {base.rsplit("_", 1)[0]: name for base, name in tables.items()}


class RenamedFold:
    """A rebuild's fold of an isolated projection: the projection's own fold, flushed into
    the isolated tables under their base names."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def fold(self, events: Sequence[RecordedEvent]) -> None:
        self.inner.fold(events)

    def flush(self, copies: Any, tables: Mapping[str, str]) -> None:
        self.inner.flush(copies, base_names(tables))

    def end_shared(self, copies: Any, tables: Mapping[str, str]) -> None:
        self.inner.end_shared(copies, base_names(tables))

    def finish(self, conn: Connection, tables: Mapping[str, str]) -> bool:
        return bool(self.inner.finish(conn, base_names(tables)))


def isolated(
    base: Projection, suffix: str, after_apply: Callable[[], None] | None = None
) -> Projection:
    """``base`` under the name ``{name}_{suffix}`` and tables ``{table}_{suffix}``.

    ``after_apply`` runs after each applied batch (a test's simulated crash raises there);
    a rebuild folds with the projection's own fold (``begin_rebuild``) when it has one.
    """
    original = type(base)

    class Isolated(original):  # type: ignore[valid-type,misc]
        name = f"{original.name}_{suffix}"
        tables = {f"{b}_{suffix}": columns for b, columns in original.tables.items()}
        indexes = {f"{b}_{suffix}": cols for b, cols in original.indexes.items()}

        def apply(
            self, conn: Connection, events: Sequence[RecordedEvent], tables: Mapping[str, str]
        ) -> None:
            super().apply(conn, events, base_names(tables))
            if after_apply is not None:
                after_apply()

        if hasattr(original, "begin_rebuild"):

            def begin_rebuild(self) -> RenamedFold:
                return RenamedFold(super().begin_rebuild())

    return Isolated()


def three_ways(
    store: EventStore, make: Callable[[], Projection], append: Callable[[], None]
) -> str:
    """Project what ``append`` writes three ways, each into tables of its own: in batches
    of one event (suffix ``b``), in one pass (``o``) and by a rebuild (``r``).

    Parameters:
        store: the event store.
        make: builds the projection.
        append: appends the history (after the two catch-ups start at the log's head).

    Returns:
        The random part of the suffixes: tables are ``{table}_{b|o|r}{returned}``.
    """
    suffix = uuid.uuid4().hex[:8]
    batches, one_pass, rebuilt = (isolated(make(), f"{name}{suffix}") for name in "bor")
    Runtime(store, [batches, one_pass, rebuilt]).ensure()
    with store.engine.begin() as conn:  # start at the head: only this history is caught up
        conn.execute(
            text("UPDATE projections SET position = :h WHERE name = ANY(:n)"),
            {"h": store.head(), "n": [batches.name, one_pass.name]},
        )
    append()
    Runtime(store, [batches], batch=1).catch_up(batches.name)
    Runtime(store, [one_pass], batch=100_000).catch_up(one_pass.name)
    Runtime(store, [rebuilt]).rebuild(rebuilt.name)
    return suffix

"""Projections under names and tables of a test's own, the way these tests isolate them.

An isolated projection's tables are its base tables with a suffix (``capital_weeks_ab12``);
its ``apply`` and its rebuild's fold see them under their base names, so the projection's
own code runs unchanged on tables no other test touches.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection

from shared.eventlog import RecordedEvent
from shared.projections.runtime import Projection


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

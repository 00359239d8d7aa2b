"""The capital projection under its own name and tables, for tests that kill or compare."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import Connection

from shared.eventlog import RecordedEvent
from shared.projections.capital import CapitalProjection


def isolated(suffix: str) -> CapitalProjection:
    class Isolated(CapitalProjection):
        name = f"capital_{suffix}"
        tables = {f"{base}_{suffix}": cols for base, cols in CapitalProjection.tables.items()}
        indexes = {f"{base}_{suffix}": cols for base, cols in CapitalProjection.indexes.items()}

        def apply(
            self, conn: Connection, events: Sequence[RecordedEvent], tables: Mapping[str, str]
        ) -> None:
            super().apply(
                conn, events, {base.rsplit("_", 1)[0]: name for base, name in tables.items()}
            )

    return Isolated()

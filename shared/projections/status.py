"""How far each projection is: its position, lag, failure and quarantined tenants
(``compound projections status``, ``/metrics``, the operations API), and waiting for a
position (read-your-writes)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, text

from shared.projections.tables import head_position


@dataclass(frozen=True)
class Status:
    """One projection's row in ``projections``, with its lag behind the log's head."""

    name: str
    version: int
    generation: int
    position: int
    head: int
    lag_events: int
    lag_seconds: float
    status: str
    last_error: str | None
    error_position: int | None
    rebuilding: int | None
    rebuild_position: int | None
    partitions: tuple[int, ...] = ()
    """Each partition's checkpoint, in partition order (``position`` is the lowest)."""
    quarantined_tenants: int = 0
    """Tenants whose part of the projection waits at a poison event
    (shared/projections/quarantine.py)."""
    held_events: int = 0
    """Events held back for those tenants, their poison events included."""


def statuses(engine: Engine) -> list[Status]:
    """The status of every registered projection, in name order.

    Parameters:
        engine: the database.

    Returns:
        One :class:`Status` per row of ``projections``; ``lag_seconds`` is the age of the
        oldest event not applied yet (0 when caught up).
    """
    with engine.connect() as conn:
        head = head_position(conn)
        rows = conn.execute(text("SELECT * FROM projections ORDER BY name")).all()
        waiting = {
            r.projection: (int(r.tenants), int(r.held))
            for r in conn.execute(
                text(
                    "SELECT q.projection, count(*) AS tenants, sum(q.held_events) AS held "
                    "FROM projection_quarantine q JOIN projections p "
                    "ON p.name = q.projection AND p.generation = q.generation "
                    "GROUP BY q.projection"
                )
            )
        }
        return [_status(conn, row, head, waiting.get(row.name, (0, 0))) for row in rows]


def _status(conn: Connection, row: Any, head: int, waiting: tuple[int, int]) -> Status:
    oldest = conn.execute(
        text("SELECT min(recorded_at) FROM events WHERE position > :p"), {"p": row.position}
    ).scalar()
    lag_seconds = (datetime.now(UTC) - oldest).total_seconds() if oldest is not None else 0.0
    checkpoints = conn.execute(
        text("SELECT position FROM projection_partitions WHERE projection = :n ORDER BY partition"),
        {"n": row.name},
    ).scalars()
    return Status(
        row.name,
        row.version,
        row.generation,
        row.position,
        head,
        max(0, head - row.position),
        round(max(0.0, lag_seconds), 3),
        row.status,
        row.last_error,
        row.error_position,
        row.rebuilding,
        row.rebuild_position,
        tuple(max(int(p), int(row.position)) for p in checkpoints),
        *waiting,
    )


def wait_for(engine: Engine, name: str, position: int, timeout: float) -> int:
    """Wait (bounded) until projection ``name`` has reached ``position``.

    Parameters:
        engine: the database.
        name: the projection.
        position: the position awaited (a caller's own append, usually).
        timeout: seconds to wait at most.

    Returns:
        The projection's position when it reached ``position``, when the timeout ran out,
        or at once when ``position`` is beyond the log's head (waiting cannot reach it).
    """
    deadline = time.monotonic() + timeout
    delay = 0.005
    while True:
        with engine.connect() as conn:
            reached, head = conn.execute(
                text(
                    "SELECT position, (SELECT coalesce(max(position), 0) FROM events) "
                    "FROM projections WHERE name = :n"
                ),
                {"n": name},
            ).one()
        # A position beyond the log's head cannot be reached by waiting: answer at once.
        if reached >= position or position > head or time.monotonic() >= deadline:
            return int(reached)
        time.sleep(delay)
        delay = min(delay * 2, 0.1)

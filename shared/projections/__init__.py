"""Projections (read models) and the runtime that feeds them.

:data:`PROJECTIONS` is the registry: a projection listed here is registered, woken after
appends, caught up by the workers and rebuilt by ``compound projections rebuild``.
"""

from __future__ import annotations

from shared.eventlog import EventStore
from shared.projections.capital import CapitalProjection
from shared.projections.journal import (
    ExperimentsProjection,
    FeedbackLoopProjection,
    PlanProgressProjection,
)
from shared.projections.levers import LeversProjection
from shared.projections.runtime import Projection, Runtime, Status
from shared.releases.projection import ReleasesProjection

PROJECTIONS: tuple[Projection, ...] = (
    CapitalProjection(),
    ExperimentsProjection(),
    FeedbackLoopProjection(),
    PlanProgressProjection(),
    LeversProjection(),
    ReleasesProjection(),
)


def projections_for(event_types: set[str] | frozenset[str]) -> list[str]:
    """Names of the projections that handle any of ``event_types``.

    Parameters:
        event_types: event types just appended.

    Returns:
        The names, in registry order.
    """
    return [p.name for p in PROJECTIONS if p.handles & event_types]


def wake_throttle(name: str) -> float:
    """Seconds between two wake-ups of projection ``name`` (its ``wake_throttle_seconds``).

    Raises:
        KeyError: ``name`` is not a registered projection.
    """
    return _THROTTLES[name]


_THROTTLES = {p.name: p.wake_throttle_seconds for p in PROJECTIONS}


def runtime(store: EventStore) -> Runtime:
    """A runtime of every registered projection on ``store`` (processes get theirs from
    shared/bootstrap.py, which also registers the projections).

    Parameters:
        store: the event store.

    Returns:
        The runtime (``ensure()`` not called yet).
    """
    return Runtime(store, PROJECTIONS)


__all__ = [
    "PROJECTIONS",
    "Projection",
    "Runtime",
    "Status",
    "projections_for",
    "runtime",
    "wake_throttle",
]

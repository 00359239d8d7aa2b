"""A registered projection under a name and tables of a test's own, able to crash.

``isolated(projection, suffix, crashes)`` is the projection's own class and state under the
name ``{name}_{suffix}`` with tables ``{table}_{suffix}``; its ``apply`` and its rebuild's
fold (when it has one) see them under their base names, so its own code runs unchanged on
tables no other test touches. ``crashes`` decides, after each applied batch, each folded
chunk and before each flush, whether the worker dies there (:class:`SimulatedCrash`): the
batch's transaction is then rolled back, or the rebuild abandoned.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection

from shared.eventlog import RecordedEvent
from shared.projections import Projection


class SimulatedCrash(BaseException):
    """A worker dying mid-batch: not an error of the projection, so never a poison event."""


class Crashes:
    """When a simulated worker dies: with probability ``rate`` at each chance, seeded."""

    def __init__(self, rate: float = 0.0, seed: int = 0) -> None:
        self.rate = rate
        self.rng = random.Random(seed)
        self.count = 0

    def chance(self) -> None:
        if self.rate and self.rng.random() < self.rate:
            self.count += 1
            raise SimulatedCrash()


class _RenamedFold:
    """The projection's own rebuild fold, flushed into the isolated tables."""

    def __init__(self, inner: Any, suffix: str, crashes: Crashes) -> None:
        self.inner, self.suffix, self.crashes = inner, suffix, crashes

    def fold(self, events: Sequence[RecordedEvent]) -> None:
        self.inner.fold(events)
        self.crashes.chance()

    def flush(self, copies: Any, tables: Mapping[str, str]) -> None:
        self.crashes.chance()
        self.inner.flush(copies, _base_names(tables, self.suffix))

    def end_shared(self, copies: Any, tables: Mapping[str, str]) -> None:
        self.inner.end_shared(copies, _base_names(tables, self.suffix))

    def finish(self, conn: Connection, tables: Mapping[str, str]) -> bool:
        self.crashes.chance()
        return bool(self.inner.finish(conn, _base_names(tables, self.suffix)))


def _base_names(tables: Mapping[str, str], suffix: str) -> dict[str, str]:
    """``{base_suffix: physical}`` -> ``{base: physical}``."""
    return {base.removesuffix(f"_{suffix}"): name for base, name in tables.items()}


def isolated(base: Projection, suffix: str, crashes: Crashes) -> Projection:
    """``base`` (a registered projection) as ``{name}_{suffix}`` on tables of its own."""
    original = type(base)
    namespace: dict[str, Any] = {
        "name": f"{base.name}_{suffix}",
        "tables": {f"{b}_{suffix}": columns for b, columns in base.tables.items()},
        "indexes": {f"{b}_{suffix}": cols for b, cols in base.indexes.items()},
    }

    def apply(
        self: Projection,
        conn: Connection,
        events: Sequence[RecordedEvent],
        tables: Mapping[str, str],
    ) -> None:
        original.apply(self, conn, events, _base_names(tables, suffix))
        crashes.chance()

    namespace["apply"] = apply
    # A projection with a rebuild fold folds through it, renamed; one without applies page
    # by page (the runtime asks ``begin_rebuild``, which may answer None).
    if hasattr(original, "begin_rebuild"):

        def begin_rebuild(self: Projection) -> Any:
            inner = original.begin_rebuild(self)
            return None if inner is None else _RenamedFold(inner, suffix, crashes)

        namespace["begin_rebuild"] = begin_rebuild
    isolated_class = type(f"Isolated{original.__name__}", (original,), namespace)
    copy: Projection = object.__new__(isolated_class)
    copy.__dict__.update(vars(base))  # the registered instance's state, its __init__ not rerun
    return copy

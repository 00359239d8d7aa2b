"""The ``eventsourcing`` library's PostgreSQL recorder, measured in the event store's run:
the reference the issue's targets were set against, on the same server and machine."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field

from bench.common import Context, median
from bench.projections import _dist_version, _import_eventsourcing, eventsourcing_env
from shared.domain.tactics import AUDIENCES, TACTICS

_TACTICS = tuple(TACTICS)


@dataclass
class Reference:
    bulk_rates: list[float] = field(default_factory=list)  # events/s per round
    single_rates: list[float] = field(default_factory=list)  # events/s per round
    version: str = ""
    note: str = ""

    @property
    def bulk(self) -> float | None:
        return median(self.bulk_rates) if self.bulk_rates else None

    @property
    def single(self) -> float | None:
        return median(self.single_rates) if self.single_rates else None


def measure(
    ctx: Context, streams: int, per_stream: int, single_calls: int, rounds: int
) -> Reference:
    """Bulk: ``app.save`` of ``streams`` aggregates with ``per_stream`` new events each (one
    recorder transaction, as our ``append_batch``). Single: ``app.save`` of one new event,
    ``single_calls`` times. Never raises: a missing library becomes a note."""
    try:
        module = _import_eventsourcing()
        __import__("eventsourcing.postgres")
    except ImportError as err:
        return Reference(note=f"not measured: the eventsourcing library is missing ({err})")
    version = getattr(module, "__version__", "") or _dist_version("eventsourcing")
    try:
        return _measure(ctx, version, streams, per_stream, single_calls, rounds)
    except Exception as err:  # report, do not lose the store's own figures
        return Reference(version=version, note=f"failed: {type(err).__name__}: {err}")


def _measure(
    ctx: Context, version: str, streams: int, per_stream: int, single_calls: int, rounds: int
) -> Reference:
    from eventsourcing.application import Application
    from eventsourcing.domain import Aggregate, event

    class Journal(Aggregate):
        def __init__(self, person: str) -> None:
            self.person = person

        @event("ActionLogged")
        def log_action(self, tactic: str, minutes: int, audience: str) -> None:
            pass

    class ReferenceApp(Application[uuid.UUID]):
        pass

    env = eventsourcing_env(ctx.database_url, pool_size=2)
    app = ReferenceApp(env)
    result = Reference(version=version)

    def log(journal: Journal, i: int) -> None:
        journal.log_action(_TACTICS[i % len(_TACTICS)], 15, AUDIENCES[i % len(AUDIENCES)])

    try:
        journals = [Journal(f"person-{s}") for s in range(streams)]
        app.save(*journals)
        for r in range(rounds + 1):  # the first round warms up
            for journal in journals:  # building the events is not timed, as in ours
                for i in range(per_stream):
                    log(journal, i)
            start = time.perf_counter()
            app.save(*journals)
            if r:
                result.bulk_rates.append(streams * per_stream / (time.perf_counter() - start))
        single = Journal("single")
        app.save(single)
        for r in range(rounds + 1):
            start = time.perf_counter()
            for i in range(single_calls):
                log(single, i)
                app.save(single)
            if r:
                result.single_rates.append(single_calls / (time.perf_counter() - start))
    finally:
        app.close()
    return result


def describe(ref: Reference, ours_bulk: float, ours_single: float) -> list[tuple[str, ...]]:
    """Rows for the event store's table: the reference's rates and ours against them."""
    if ref.bulk is None or ref.single is None:
        return [("`eventsourcing` recorder (same run)", ref.note or "not measured", "", "", "")]
    name = f"`eventsourcing` {ref.version}".strip()
    return [
        (f"{name} recorder, bulk (one `save` of the same events)", f"{ref.bulk:,.0f} events/s",
         f"{min(ref.bulk_rates):,.0f} to {max(ref.bulk_rates):,.0f}", "", ""),
        ("Bulk append, ours / `eventsourcing`", f"{ours_bulk / ref.bulk:.2f}x", "", "", ""),
        (f"{name} recorder, one event per `save`", f"{ref.single:,.0f} events/s",
         f"{min(ref.single_rates):,.0f} to {max(ref.single_rates):,.0f}", "", ""),
        ("Single append, ours / `eventsourcing`", f"{ours_single / ref.single:.2f}x", "", "", ""),
    ]  # fmt: skip

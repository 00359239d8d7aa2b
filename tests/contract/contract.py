"""The projection contract, checked for one projection and one history.

:func:`check` writes a history and feeds it to two copies of a registered projection (on
tables of their own, tests/contract/isolation.py): one catches up in the plan's small batches
(with crashes, partitions, and catch-ups while the history is being written), the other in one
pass; then the second is rebuilt from the log, once abandoned mid-way and once to the end.
Every table must hold the same rows each time.
"""

from __future__ import annotations

import contextlib
import itertools
import random
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import text

from shared.eventlog import EventStore
from shared.projections import Projection, Runtime
from shared.projections.quarantine import quarantined
from tests.contract.histories import Write
from tests.contract.isolation import Crashes, SimulatedCrash, isolated
from tests.contract.writer import Identities, write
from tests.integration.poisoned import IsBad, poisoning

ONE_PASS = 1_000_000  # a batch larger than any history: one pass
CHUNK_EVENTS = 5
"""A rebuild's chunk in the suite: a few events, so one history's people fold in several
chunks (the planner never splits one person's events)."""
SMALL_BATCHES = {
    "batches": [1],
    "partitions": 1,
    "per_partition": False,
    "crash_rate": 0.0,
    "seed": 0,
    "live_every": 1,
    "chunk_events": CHUNK_EVENTS,
}
"""A plan for hand-written histories: batches of one event, caught up after each write."""

Rows = dict[str, list[tuple[Any, ...]]]


def snapshot(store: EventStore, projection: Projection, ids: set[uuid.UUID] | None) -> Rows:
    """Every table of ``projection`` (by base name), its rows sorted; with ``ids``, only the
    rows holding one of them (the rows of one test's history)."""
    suffix = projection.name.rsplit("_", 1)[1]
    out: Rows = {}
    with store.engine.connect() as conn:
        for table in projection.tables:
            rows = [tuple(r) for r in conn.execute(text(f"SELECT * FROM {table}"))]
            if ids is not None:
                rows = [r for r in rows if any(isinstance(v, uuid.UUID) and v in ids for v in r)]
            out[table.removesuffix(f"_{suffix}")] = sorted(rows, key=repr)
    return out


def behind(store: EventStore, name: str) -> bool:
    """Whether projection ``name`` is behind the head of the log (``Runtime.status`` asks
    the same of every projection registered, and this suite registers many)."""
    with store.engine.connect() as conn:
        position = conn.execute(
            text("SELECT position FROM projections WHERE name = :n"), {"n": name}
        ).scalar_one()
    return int(position) < store.head()


def catch_up_in_batches(
    store: EventStore, projection: Projection, plan: dict[str, Any], sizes: Iterator[int]
) -> None:
    """Catch ``projection`` up to the head in the plan's batches, crashes retried by a new
    runtime (a new worker) from the checkpoints."""
    rng = random.Random(plan["seed"])
    partitions = plan["partitions"]
    for _ in range(10_000):
        runtime = Runtime(store, [projection], batch=next(sizes), partitions=partitions)
        shares: list[int | None] = list(range(partitions)) if plan["per_partition"] else [None]
        rng.shuffle(shares)
        for share in shares:
            try:
                runtime.catch_up(projection.name, max_batches=1, partition=share)
            except SimulatedCrash:
                continue  # the worker died mid-batch: its transaction was rolled back
        if not behind(store, projection.name):
            return
    raise AssertionError(f"{projection.name} did not catch up")


def forget_erased(
    store: EventStore, registered: Projection, name: str, origin: int, crashes: Crashes
) -> Projection:
    """What production does after an erasure: a rebuild of every projection reading
    behaviour (shared/wakeups.py), whose rows hold nothing of the erased person's behaviour,
    which no one can read any more. Here: a new copy of the projection, caught up from where
    this history began (the log before it is other tests'), in place of the live one."""
    copy = isolated(registered, name, crashes)
    Runtime(store, [copy]).ensure()
    with store.engine.begin() as conn:
        conn.execute(
            text("UPDATE projections SET position = :h WHERE name = :n"),
            {"h": origin, "n": copy.name},
        )
    return copy


def assert_same(expected: Rows, actual: Rows, what: str, history: list[Write]) -> None:
    """Table by table; a difference names the rows on either side only, and the history."""
    for table, rows in expected.items():
        if actual[table] != rows:
            missing = [r for r in rows if r not in actual[table]]
            extra = [r for r in actual[table] if r not in rows]
            raise AssertionError(
                f"{what}: {table} differs from the batched catch-up's\n"
                f"only in batches: {missing[:5]}\nonly in {what}: {extra[:5]}\n"
                f"history: {history}"
            )


def start_at_head(store: EventStore, projections: list[Projection]) -> None:
    """Register ``projections`` at today's head: the earlier histories in the log are other
    tests' (a rebuild reads them all the same; :func:`snapshot` keeps this test's rows)."""
    Runtime(store, projections).ensure()
    with store.engine.begin() as conn:
        conn.execute(
            text("UPDATE projections SET position = :h WHERE name = ANY(:n)"),
            {"h": store.head(), "n": [p.name for p in projections]},
        )


def waiting(store: EventStore, projection: Projection, ids: set[uuid.UUID]) -> list[Any]:
    """The tenants of ``ids`` that ``projection``'s live generation holds back at a poison
    event: tenant, position, event id and the events held (shared/projections/quarantine.py).
    """
    with store.engine.connect() as conn:
        return [
            (q.tenant_id, q.position, q.event_id, q.held_events)
            for q in quarantined(conn)
            if q.projection == projection.name and q.tenant_id in ids
        ]


def check(
    store: EventStore,
    registered: Projection,
    history: list[Write],
    plan: dict[str, Any],
    note: Callable[[str], None] = lambda _: None,
    poison: IsBad | None = None,
) -> None:
    """Assert the contract for ``registered`` on ``history`` caught up as ``plan`` says;
    with ``poison``, the events it picks cannot be applied (nor folded), and the tenants
    quarantined at them must be the same each time too.

    Raises:
        AssertionError: naming the table, the rows on either side only, and the history.
    """
    suffix = uuid.uuid4().hex[:8]
    crashes = Crashes(plan["crash_rate"], plan["seed"])
    batched = isolated(registered, f"b{suffix}", crashes)
    rebuild_crashes = Crashes()
    one_pass = isolated(registered, f"o{suffix}", rebuild_crashes)
    if poison is not None:
        batched, one_pass = poisoning(batched, poison), poisoning(one_pass, poison)
    start_at_head(store, [batched, one_pass])
    origin = store.head()

    ids = Identities()
    sizes = itertools.cycle(plan["batches"])
    for index in range(len(history)):
        write(store, history, index, ids)
        if history[index].how == "erase":
            batched = forget_erased(store, registered, f"b{suffix}e{index}", origin, crashes)
            if poison is not None:  # the rebuilt copy meets the same poison events
                batched = poisoning(batched, poison)
        if plan["live_every"] and index % plan["live_every"] == 0:
            catch_up_in_batches(store, batched, plan, sizes)
    catch_up_in_batches(store, batched, plan, sizes)
    Runtime(store, [one_pass], batch=ONE_PASS).catch_up(one_pass.name)

    mine = ids.all
    in_batches = snapshot(store, batched, None)
    for table, rows in in_batches.items():  # --hypothesis-show-statistics: what was covered
        note(f"{table}: {'none' if not rows else 'some' if len(rows) < 10 else '10 or more'}")
    note(f"crashes: {'none' if not crashes.count else 'some'}")
    assert in_batches == snapshot(store, batched, mine), "rows of no id of this history"
    assert_same(in_batches, snapshot(store, one_pass, None), "one pass", history)
    quarantine = waiting(store, batched, mine)
    note(f"tenants quarantined: {'none' if not quarantine else 'some'}")
    assert waiting(store, one_pass, mine) == quarantine, (
        f"one pass quarantined otherwise: {history}"
    )

    # A rebuild that dies mid-way leaves the live generation serving; the next one finishes.
    rebuild_crashes.rate = 1.0
    chunked = Runtime(store, [one_pass], chunk_events=plan["chunk_events"])
    with contextlib.suppress(SimulatedCrash):  # dies at its first chunk, or before its flush
        chunked.rebuild(one_pass.name)
    rebuild_crashes.rate = 0.0
    assert_same(in_batches, snapshot(store, one_pass, mine), "after a failed rebuild", history)
    assert waiting(store, one_pass, mine) == quarantine, f"a failed rebuild's quarantine: {history}"
    chunked.rebuild(one_pass.name)
    assert_same(in_batches, snapshot(store, one_pass, mine), "rebuild", history)
    assert waiting(store, one_pass, mine) == quarantine, (
        f"the rebuild quarantined otherwise: {history}"
    )


def check_rebuilt_together(
    store: EventStore, registered: list[Projection], history: list[Write]
) -> None:
    """Every projection of ``registered`` caught up one event at a time, and all of them
    rebuilt in one pass over the log (``rebuild_many``, what ``compound projections rebuild
    --all`` runs: each page split among them by event type), hold the same rows.

    Raises:
        AssertionError: naming the table, the rows on either side only, and the history.
    """
    suffix = uuid.uuid4().hex[:8]
    pairs = [
        (isolated(p, f"b{suffix}", Crashes()), isolated(p, f"t{suffix}", Crashes()))
        for p in registered
    ]
    start_at_head(store, [copy for pair in pairs for copy in pair])
    ids = Identities()
    for index in range(len(history)):
        write(store, history, index, ids)
    ones = itertools.repeat(1)
    for batched, _ in pairs:
        catch_up_in_batches(store, batched, SMALL_BATCHES, ones)
    together = [rebuilt for _, rebuilt in pairs]
    # In chunks of a few events: each history's people fall in several chunks.
    Runtime(store, together, chunk_events=CHUNK_EVENTS).rebuild_many([p.name for p in together])
    mine = ids.all
    for batched, rebuilt in pairs:
        expected = snapshot(store, batched, None)
        assert_same(expected, snapshot(store, rebuilt, mine), "rebuilt together", history)

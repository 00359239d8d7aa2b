"""Rebuild several projections in parallel processes, one group of projections each.

A rebuild folds the log in Python, so one process keeps one core busy while PostgreSQL
waits for it. Projections are independent read models: each group is rebuilt by
:meth:`Runtime.rebuild_many` in a process of its own (its own read of the log, its own
shadow tables, its own switch), so on two cores two groups take about the time of the
larger one. Groups are balanced by the number of events each projection handles.

What a rebuild guarantees holds per group: the live generation serves until the group's
switch, and each projection switches atomically. Projections of different groups switch
at different moments, a few seconds apart.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, wait

from sqlalchemy import Engine, text


def handled_counts(engine: Engine, handles: Mapping[str, frozenset[str]]) -> dict[str, int]:
    """Events in the log that each projection handles (its rebuild's work).

    Parameters:
        engine: the database.
        handles: projection name -> the event types it handles.

    Returns:
        Projection name -> number of events.
    """
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT type, count(*) FROM events GROUP BY type")).all()
    by_type: dict[str, int] = {str(t): int(n) for t, n in rows}
    return {name: sum(by_type.get(t, 0) for t in types) for name, types in handles.items()}


def plan_groups(costs: Mapping[str, int], processes: int) -> list[list[str]]:
    """Split the projections into at most ``processes`` groups of about equal cost: the
    costliest first, each into the group with the least so far (then the fewest projections;
    ties by name, so the plan is the same every time).

    Parameters:
        costs: projection name -> its work (events handled).
        processes: processes available.

    Returns:
        The groups, each a sorted list of names; none empty.
    """
    groups: list[list[str]] = [[] for _ in range(max(1, min(processes, len(costs))))]
    loads = [0] * len(groups)
    for name in sorted(costs, key=lambda n: (-costs[n], n)):
        least = min(range(len(groups)), key=lambda i: (loads[i], len(groups[i]), i))
        groups[least].append(name)
        loads[least] += costs[name]
    return [sorted(g) for g in groups if g]


def _rebuild_group(
    database_url: str, master_keys: Sequence[str], names: list[str]
) -> dict[str, int]:
    """In a child process: a store of its own, then one ``rebuild_many`` of ``names``."""
    from shared import bootstrap
    from shared.settings import Settings

    settings = Settings(database_url=database_url, master_keys=tuple(master_keys))
    store = bootstrap.event_store(settings, pool_size=2)
    try:
        return bootstrap.projection_runtime(store, ensure=False).rebuild_many(names)
    finally:
        store.engine.dispose()


def rebuild_in_processes(
    engine: Engine,
    database_url: str,
    master_keys: Sequence[str],
    names: Sequence[str],
    processes: int,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, int]:
    """Rebuild ``names`` in up to ``processes`` processes.

    Parameters:
        engine: the database, read by this process for the plan and the progress.
        database_url: the database's URL, for the children's own engines.
        master_keys: the master keys (a projection may read personal data).
        names: the projections to rebuild.
        processes: processes at most (one per core).
        progress: called about twice a second with the least advanced group's position
            and the head of the log.

    Returns:
        Name -> new generation.

    Raises:
        Exception: the error of a group, once every group has ended (the groups that
            finished have switched; a failed one keeps its live generation).
    """
    from shared.projections import PROJECTIONS

    handles = {p.name: p.handles for p in PROJECTIONS if p.name in set(names)}
    groups = plan_groups(handled_counts(engine, handles), processes)
    context = multiprocessing.get_context("spawn")  # nothing of this process's state is shared
    generations: dict[str, int] = {}
    with ProcessPoolExecutor(len(groups), mp_context=context) as pool:
        futures = [pool.submit(_rebuild_group, database_url, list(master_keys), g) for g in groups]
        while wait(futures, timeout=0.5).not_done:
            if progress:
                progress(*_position(engine, list(handles)))
        for future in futures:
            generations.update(future.result())
    if progress:
        progress(*_position(engine, list(handles)))
    return generations


def _position(engine: Engine, names: list[str]) -> tuple[int, int]:
    """The least advanced rebuild's position (the live position once it switched), and
    the head of the log."""
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT min(coalesce(rebuild_position, position)), "
                "(SELECT coalesce(max(position), 0) FROM events) "
                "FROM projections WHERE name = ANY(:n)"
            ),
            {"n": names},
        ).one()
    return int(row[0] or 0), int(row[1])

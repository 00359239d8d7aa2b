"""Reading the next page of the log while the caller folds this one.

A reader of a full page usually asks for the next one at once: the store starts fetching it
in a background thread, per reading thread, and hands it over when it is asked for with the
same filters after the same position.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Hashable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

Rows = list[tuple[Any, ...]]
Pending = tuple[int, Hashable, "Future[Rows]"]  # after, filters, the fetch under way

PREFETCH_MIN_PAGE = 1000
"""A read of a full page at least this large reads the next page ahead."""

_EXECUTORS: dict[int, ThreadPoolExecutor] = {}


def _executor() -> ThreadPoolExecutor:
    """This process's threads reading pages ahead (created after any fork, per process)."""
    pid = os.getpid()
    executor = _EXECUTORS.get(pid)
    if executor is None:
        executor = _EXECUTORS[pid] = ThreadPoolExecutor(
            max_workers=2, thread_name_prefix="eventlog-read-ahead"
        )
    return executor


class ReadAhead:
    """The page each thread will probably read next, fetched in the background."""

    def __init__(self) -> None:
        self._local = threading.local()

    def start(self, after: int, filters: Hashable, fetch: Callable[[], Rows]) -> None:
        """Start fetching the page after ``after`` for this thread.

        Parameters:
            after: the position the page starts after.
            filters: what else the read asks for (its limit first); the page is handed out
                only to a read with the same filters.
            fetch: reads the page's rows (run in a background thread).
        """
        self._local.page = (after, filters, _executor().submit(fetch))

    def peek(self) -> Pending | None:
        """The page being read ahead for this thread, if any (for tests).

        Returns:
            Its start position, its filters and the fetch's future; None if there is none.
        """
        return getattr(self._local, "page", None)

    def take(self, after: int, filters: tuple[Any, ...]) -> Rows | None:
        """The rows read ahead for a read of ``filters`` after ``after``, if they can stand
        for a fresh read.

        Only a full page can: the log is read in commit order, which is position order, so
        the first ``limit`` events after ``after`` are the same in every later snapshot. A
        shorter page may miss events committed since, so it is read again.

        Parameters:
            after: the position the read starts after.
            filters: what else the read asks for, its limit first.

        Returns:
            The rows, or None when they must be read now (nothing read ahead, another read,
            a short page, or the fetch failed: read again where its error reaches the caller).
        """
        pending = getattr(self._local, "page", None)
        if pending is None:
            return None
        self._local.page = None
        start, wanted, future = pending
        if start != after or wanted != filters:
            return None
        try:
            rows: Rows = future.result()
        except Exception:  # read again in the foreground, where an error is raised to the caller
            return None
        return rows if len(rows) == filters[0] else None

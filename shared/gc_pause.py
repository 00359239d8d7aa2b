"""The one pause of Python's cyclic garbage collector, counted across threads.

Reading a page of events, folding a batch or a rebuild's whole log allocates hundreds of
thousands of small objects without reference cycles. The collector's generation scans over
them cost a fifth of read time and a tenth of fold time, for nothing. The pauses nest and
overlap (the event store's read-ahead thread fetches a page while the caller folds the
previous one), so they are counted: the collector resumes when the last pause ends, and
only if it was enabled when the first began.
"""

from __future__ import annotations

import gc
import threading
from contextlib import ContextDecorator
from typing import Any


class _Pauses:
    lock = threading.Lock()
    depth = 0  # pauses in progress, in any thread
    resume = False  # whether the collector was enabled when the first one began


class collector_paused(ContextDecorator):
    """Pause the cyclic garbage collector while the block (or decorated function) runs.

    Usable as ``with collector_paused():`` and as ``@collector_paused()``.
    """

    def __enter__(self) -> None:
        with _Pauses.lock:
            if _Pauses.depth == 0:
                _Pauses.resume = gc.isenabled()
                gc.disable()
            _Pauses.depth += 1

    def __exit__(self, *exc: Any) -> None:
        with _Pauses.lock:
            _Pauses.depth -= 1
            if _Pauses.depth == 0 and _Pauses.resume:
                gc.enable()


def pauses_in_progress() -> int:
    """How many pauses are in progress, in every thread (for tests).

    Returns:
        The count; 0 when the collector runs as configured.
    """
    return _Pauses.depth

"""Wake-ups sent after a commit: "catch up projection X". Losing one only delays.

If Redis is down the append has succeeded anyway; the failure is logged and counted, and the
scheduler's periodic catch-up projects the events once Redis is back.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence

from shared.eventlog.events_behaviour import BEHAVIOUR
from shared.messaging import Broker, current_broker, namespace, redis_client, send
from shared.projections import projections_for, wake_throttle

log = logging.getLogger("compound.wakeups")


CATCH_UP_ACTOR = "catch_up_projection"  # declared in workers/actors.py
CATCH_UP_QUEUE = "projections"
REBUILD_ACTOR = "rebuild_projection"  # declared in workers/actors.py


def send_catch_up(
    name: str,
    delay_ms: int = 0,
    broker: Broker | None = None,
    partition: int | None = None,
) -> None:
    """Enqueue "catch up projection ``name``" by actor name (no import of the workers): of
    one ``partition``, or of all (the worker that takes it sends one message per partition
    but the first, which it applies itself: docs/scaling.md).

    Parameters:
        name: the projection.
        delay_ms: how long the message waits in the queue first.
        broker: default, the process's.
        partition: one partition of the projection; default, all.

    Raises:
        Whatever the broker raises (Redis down).
    """
    args = (name,) if partition is None else (name, partition)
    send(CATCH_UP_QUEUE, CATCH_UP_ACTOR, args, delay_ms=delay_ms, broker=broker)


PENDING_MS = 10_000
"""How long the mark of a queued wake-up lives: a wake-up lost with its mark set delays the
next one by this much at most (and the scheduler's catch-up runs meanwhile)."""


def pending_key(broker: Broker, name: str) -> str:
    """Set while a wake-up of projection ``name`` waits in the queue, whoever sent it."""
    return f"{namespace(broker)}:wake-pending:{name}"


def wake(name: str, delay_ms: int = 0, broker: Broker | None = None) -> bool:
    """Send a wake-up of projection ``name`` unless one already waits in the queue (returns
    whether it sent one). Every gateway process and the scheduler share the mark, so a busy
    worker finds one wake-up per projection in Redis, not one per commit: the worker clears
    the mark (:func:`clear_pending`) before it reads the log, so whatever committed before
    that is read, and whatever commits after sends a new wake-up."""
    return wake_all([(name, delay_ms)], broker)[0]


def wake_all(wakeups: Sequence[tuple[str, int]], broker: Broker | None = None) -> list[bool]:
    """:func:`wake` for several ``(projection, delay_ms)`` at once: their marks are set in one
    Redis round trip (one commit usually wakes two or three projections).

    Returns:
        Per wake-up, whether it was sent (False: one already waits in the queue).

    Raises:
        Whatever the broker raises (Redis down); the marks of the wake-ups not sent are
        cleared first.
    """
    broker = current_broker(broker)
    client = redis_client(broker)  # None for a stub broker
    keys = [pending_key(broker, name) for name, _ in wakeups]
    if client is None:
        marked = [True] * len(wakeups)
    elif len(keys) == 1:
        marked = [bool(client.set(keys[0], 1, nx=True, px=PENDING_MS))]
    else:
        pipe = client.pipeline(transaction=False)
        for key in keys:
            pipe.set(key, 1, nx=True, px=PENDING_MS)
        marked = [bool(answer) for answer in pipe.execute()]
    for i, ((name, delay_ms), mark) in enumerate(zip(wakeups, marked, strict=True)):
        if not mark:
            continue
        try:
            send_catch_up(name, delay_ms, broker)
        except Exception:
            unsent = [key for key, m in zip(keys[i:], marked[i:], strict=True) if m]
            if client is not None and unsent:
                with contextlib.suppress(Exception):
                    client.delete(*unsent)
            raise
    return marked


def clear_pending(name: str, broker: Broker | None = None) -> None:
    """Called by the worker as it starts a wake-up of ``name``: commits from now on send a
    new one."""
    broker = current_broker(broker)
    client = redis_client(broker)
    if client is not None:
        client.delete(pending_key(broker, name))


def send_rebuilds_after_erasure(
    wanted: Callable[[str], int], broker: Broker | None = None
) -> list[str]:
    """Enqueue a rebuild of every projection that reads sealed behaviour: after an erasure
    their rebuilt rows hold nothing of the erased person (docs/privacy.md, "Erasure").

    Parameters:
        wanted: projection name -> the generation that answers the request, read after the
            erasure committed (shared.projections.rebuild.wanted_generation): erasures in
            a row then share a rebuild instead of queueing one each.
        broker: default, the process's.

    Returns:
        The projections whose rebuild was sent.

    Raises:
        Whatever the broker raises (Redis down).
    """
    names = projections_for(frozenset(BEHAVIOUR))
    for name in names:
        send_rebuild(name, broker, wanted(name))
    return names


def send_rebuild(name: str, broker: Broker | None = None, wanted: int | None = None) -> str:
    """Enqueue a rebuild of projection ``name``; returns the message id.

    Parameters:
        name: the projection.
        broker: default, the process's.
        wanted: the generation that answers the request; the worker skips the rebuild if
            it is live by the message's turn. Default: always rebuild.

    Raises:
        Whatever the broker raises (Redis down).
    """
    args = (name,) if wanted is None else (name, wanted)
    return send(CATCH_UP_QUEUE, REBUILD_ACTOR, args, broker=broker)


class Wakeups:
    """Sends ``catch_up_projection`` messages: at most one per projection per throttle window
    (the projection's ``wake_throttle_seconds``) at once, plus one delayed to the window's end
    for whatever committed inside it."""

    def __init__(self, broker: Broker | None = None) -> None:
        self.broker = broker  # default: the process's broker (shared.messaging.setup_broker)
        self.failures = 0
        self.sent = 0
        self._last: dict[str, float] = {}
        self._trailing: dict[str, float] = {}
        self._lock = threading.Lock()

    def __call__(self, event_types: Iterable[str]) -> None:
        now = time.monotonic()
        due: list[tuple[str, int]] = []
        for name in projections_for(frozenset(event_types)):
            delay_ms = 0
            throttle = wake_throttle(name)
            with self._lock:
                if now - self._last.get(name, 0.0) < throttle:
                    if self._trailing.get(name, 0.0) > now:
                        continue  # a delayed wake-up is already on its way
                    delay_ms = int(throttle * 1000)
                    self._trailing[name] = now + throttle
                else:
                    self._last[name] = now
            due.append((name, delay_ms))
        if not due:
            return
        try:
            self.sent += sum(wake_all(due, self.broker))
        except Exception as err:  # Redis down: the periodic catch-up covers for us
            self.failures += 1
            for name, _ in due:
                self._last.pop(name, None)
            log.warning(
                "wake-ups for %s not sent (%s); the scheduler will catch up",
                ", ".join(name for name, _ in due),
                type(err).__name__,
            )

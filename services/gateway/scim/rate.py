"""The SCIM rate limit: requests per bearer token (per client address without a valid token)
and minute, counted in Redis in one round trip.

Flask-Limiter, which limited SCIM before, took three Redis round trips a request (the count,
then the window's count and expiry again for its ``X-RateLimit-*`` headers): more than the
provisioning's own work in a sequential push. The window is the same fixed minute; every
gateway process shares the counts through Redis (``REDIS_URL``), or counts alone in memory
without it (a development gateway). Like the limiter (``swallow_errors``), a Redis failure lets
the request through: provisioning goes on while Redis is down.

Far below the limit a process does not ask Redis at every request: it counts locally and adds
its count to Redis every :data:`BATCH` requests, reading the total back. Within
:data:`MARGIN` requests of the limit every request is counted in Redis, so a token gets at
most its limit plus what other processes have not yet added (under :data:`BATCH` each).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from typing import Any

from flask import current_app

from services.gateway.resources import resources

log = logging.getLogger(__name__)

WINDOW_SECONDS = 60

BATCH = 10
"""A process adds its local count to Redis every this many requests of a key."""
MARGIN = 100
"""Within this many requests of the limit, each request is counted in Redis."""

_memory: dict[str, int] = {}
_memory_lock = threading.Lock()
_pending: dict[str, int] = {}  # key -> requests counted here, not yet added in Redis
_known: dict[str, int] = {}  # key -> the total Redis gave at this process's last addition


def _count(key: str, window: int, limit: int) -> int:
    """Requests of ``key`` in the current window, this one included (an estimate, never
    below this process's own count, while the total is far below ``limit``)."""
    if not resources().settings.redis_url:
        with _memory_lock:
            if len(_memory) > 10_000:
                _memory.clear()
            _memory[key] = _memory.get(key, 0) + 1
            return _memory[key]
    with _memory_lock:
        if len(_pending) > 10_000:  # keys of past windows
            _pending.clear()
            _known.clear()
        pending = _pending[key] = _pending.get(key, 0) + 1
        estimate = _known.get(key, 0) + pending
        if pending < BATCH and estimate + MARGIN < limit:
            return estimate
        del _pending[key]
    try:
        pipe: Any = resources().redis.pipeline(transaction=False)
        pipe.incrby(key, pending)
        pipe.expire(key, window + 1)
        count, _ = pipe.execute()
    except Exception:
        with _memory_lock:  # not added: keep it for the next addition
            _pending[key] = _pending.get(key, 0) + pending
        raise
    with _memory_lock:
        _known[key] = int(count)
    return int(count)


def retry_after(key: str, limit: int, now: float | None = None) -> int | None:
    """Count a request of ``key`` (a token's digest or a client address); the seconds to wait
    when it is past ``limit`` requests in this minute, else None.

    Parameters:
        key: whose requests are counted.
        limit: requests allowed per minute.
        now: the clock's reading (default: now).
    """
    config = current_app.config
    if not config.get("RATELIMIT_ENABLED", True):
        return None
    now = time.time() if now is None else now
    window = int(now // WINDOW_SECONDS)
    prefix = config.get("RATELIMIT_KEY_PREFIX") or "compound"
    try:
        count = _count(f"{prefix}:scim-rate:{key}:{window}", WINDOW_SECONDS, limit)
    except Exception as err:  # Redis down: no limit rather than no provisioning
        log.warning("SCIM rate limit not counted (%s)", type(err).__name__)
        return None
    if count <= limit:
        return None
    return max(1, math.ceil((window + 1) * WINDOW_SECONDS - now))

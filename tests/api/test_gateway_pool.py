"""The gateway's connection pool is sized for its threads (issue 18): never fewer connections
than ``COMPOUND_WEB_THREADS``, so no request thread waits for a connection another holds."""

from __future__ import annotations

import dataclasses

import pytest

from services.gateway.resources import GATEWAY_POOL, Resources
from shared.settings import Settings


@pytest.mark.parametrize("threads", [1, 4, GATEWAY_POOL + 22])
def test_the_pool_holds_a_connection_per_thread(settings: Settings, threads: int) -> None:
    resources = Resources(dataclasses.replace(settings, web_threads=threads))
    try:
        pool = resources.engine.pool
        assert pool.size() == max(GATEWAY_POOL, threads)  # type: ignore[attr-defined]
    finally:
        resources.close()

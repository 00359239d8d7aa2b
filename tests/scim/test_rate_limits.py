"""SCIM requests are limited per bearer token (scim/rate.py, on Redis as gunicorn runs it):
a provider's burst of a few hundred passes; past the limit, 429 as a SCIM error with
``Retry-After``; another token has its own count."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from services.gateway import create_app
from services.gateway.auth import limiter
from services.gateway.resources import resources
from services.gateway.scim import rate, rate_per_minute
from shared.eventlog import EventStore
from shared.settings import Settings, SettingsError
from tests.scim.conftest import assert_error, new_tenant

pytestmark = pytest.mark.integration


@pytest.fixture
def limited_app(settings: Settings) -> Iterator[Flask]:
    before = dict(vars(limiter))  # one limiter per process: put its state back afterwards
    app = create_app(
        {
            "COMPOUND_SETTINGS": settings,
            "TESTING": True,
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_KEY_PREFIX": f"test-scim-limits-{uuid.uuid4().hex}",
        }
    )
    yield app
    app.extensions["compound"].close()
    vars(limiter).clear()
    vars(limiter).update(before)


def _get(app: Flask, token: str) -> Any:
    return app.test_client().get(
        "/scim/v2/ServiceProviderConfig", headers={"Authorization": f"Bearer {token}"}
    )


def test_a_burst_of_a_few_hundred_passes(limited_app: Flask, store: EventStore) -> None:
    _, _, token = new_tenant(store)
    for i in range(400):
        assert _get(limited_app, token).status_code == 200, i


def test_past_the_limit_429_per_token(
    limited_app: Flask, store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COMPOUND_SCIM_RATE_LIMIT", "5")
    _, _, token = new_tenant(store)
    _, _, other = new_tenant(store)
    for i in range(5):
        assert _get(limited_app, token).status_code == 200, i
    refused = _get(limited_app, token)
    assert_error(refused, 429)
    assert int(refused.headers["Retry-After"]) > 0
    assert _get(limited_app, other).status_code == 200


def test_a_bad_setting_is_refused() -> None:
    assert rate_per_minute({}) == 1200
    assert rate_per_minute({"COMPOUND_SCIM_RATE_LIMIT": "30"}) == 30
    for raw in ("0", "-3", "ten", "1.5"):
        with pytest.raises(SettingsError):
            rate_per_minute({"COMPOUND_SCIM_RATE_LIMIT": raw})


def test_far_below_the_limit_a_process_adds_to_redis_every_batch(limited_app: Flask) -> None:
    """The count is kept locally and added to Redis every ``BATCH`` requests while the
    limit is far; within ``MARGIN`` of it every request is counted in Redis, so the limit
    holds to the request."""
    now = 1_800_000_000.0  # one fixed minute: no window turns during the test
    prefix = limited_app.config["RATELIMIT_KEY_PREFIX"]
    window = int(now // rate.WINDOW_SECONDS)
    far, near = f"far-{uuid.uuid4().hex}", f"near-{uuid.uuid4().hex}"
    with limited_app.app_context():
        redis = resources().redis
        for _ in range(2 * rate.BATCH + 5):
            assert rate.retry_after(far, 1200, now=now) is None
        assert int(redis.get(f"{prefix}:scim-rate:{far}:{window}")) == 2 * rate.BATCH

        limit = rate.MARGIN + 3
        for i in range(limit):
            assert rate.retry_after(near, limit, now=now) is None, i
        assert int(redis.get(f"{prefix}:scim-rate:{near}:{window}")) == limit
        wait = rate.retry_after(near, limit, now=now)
        assert wait is not None and wait > 0

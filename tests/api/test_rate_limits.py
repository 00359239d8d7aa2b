"""Flask-Limiter with its Redis storage, as gunicorn runs it (the other API tests turn it off):
the limited routes answer 429 past their limit, the routes without limits are never counted
and carry no rate-limit headers (the limiter's hooks skip them: services/gateway/auth.py)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
from flask import Flask

from services.gateway import create_app
from services.gateway.auth import limiter
from shared.settings import Settings
from tests.api.conftest import Headers, assert_problem

LIMIT = 30  # per minute and client address, on POST /api/v1/auth/token


@pytest.fixture
def limited_app(settings: Settings) -> Iterator[Flask]:
    # The limiter is one object for every app of the process: init_app switches it on with
    # this app's storage, so its state before is put back afterwards (the other tests' apps
    # run with it off).
    before = dict(vars(limiter))
    app = create_app(
        {
            "COMPOUND_SETTINGS": settings,
            "TESTING": True,
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_KEY_PREFIX": f"test-limits-{uuid.uuid4().hex}",
        }
    )
    yield app
    app.extensions["compound"].close()
    vars(limiter).clear()
    vars(limiter).update(before)


def test_token_logins_are_limited_per_address(limited_app: Flask):
    client = limited_app.test_client()
    for i in range(LIMIT):
        answer = client.post("/api/v1/auth/token", json={})  # refused by the schema, counted
        assert answer.status_code == 422, i
        assert answer.headers["X-RateLimit-Limit"] == str(LIMIT)
        assert answer.headers["X-RateLimit-Remaining"] == str(LIMIT - i - 1)
    refused = client.post("/api/v1/auth/token", json={})
    assert_problem(refused, 429)
    assert int(refused.headers["Retry-After"]) > 0
    other = client.post("/api/v1/auth/token", json={}, environ_base={"REMOTE_ADDR": "10.9.8.7"})
    assert other.status_code == 422  # another address has its own count


def test_writes_without_limits_are_not_counted(
    limited_app: Flask, headers_of: Callable[[str], Headers]
):
    client = limited_app.test_client()
    headers = headers_of("platform-1")
    for _ in range(LIMIT + 5):
        answer = client.post(
            "/api/v1/actions",
            json={"tactic": "regular_signaling", "minutes": 5, "audience": "private"},
            headers=headers,
        )
        assert answer.status_code == 201, answer.get_json()
        assert not any(name.startswith("X-RateLimit") for name, _ in answer.headers)
        assert answer.headers["X-Request-ID"]

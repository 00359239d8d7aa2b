"""``/metrics``: appends, projection lag and queue depth, read from PostgreSQL and Redis."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator

import dramatiq
import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine, text

from infra.embedded import free_port
from shared.eventlog import EventStore
from shared.messaging import setup_broker
from shared.projections import runtime
from shared.read_tokens import PositionTokens
from shared.settings import Settings
from tests.conftest import TEST_SECRET, DemoOrg

pytestmark = pytest.mark.integration

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(client: FlaskClient, headers: dict[str, str] | None = None) -> Samples:
    response = client.get("/metrics", headers=headers or {})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.content_type.startswith("text/plain; version=")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for sample in family.samples
    }


def sample(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


def log_action(client: FlaskClient, org: DemoOrg) -> int:
    response = client.post(
        "/api/v1/actions",
        headers=org.headers(client, "platform-2"),
        json={"tactic": "learning_bit", "minutes": 10, "audience": "private"},
    )
    assert response.status_code == 201, response.get_json()
    return PositionTokens(TEST_SECRET).open(org.tenant_id, response.get_json()["position"])


def test_appends_and_projection_lag(client: FlaskClient, org: DemoOrg, store: EventStore):
    position = log_action(client, org)
    before = scrape(client)
    assert sample(before, "compound_events_appended_total") >= position
    assert sample(before, "compound_up", component="database") == 1.0
    assert sample(before, "compound_up", component="redis") == 1.0
    assert sample(before, "compound_projection_lag_events", projection="capital") >= 1
    assert sample(before, "compound_projection_lag_seconds", projection="capital") > 0
    assert sample(before, "compound_projection_failed", projection="capital") == 0.0

    runtime(store).catch_up("capital")  # what a worker does when woken
    after = scrape(client)
    head = sample(after, "compound_events_appended_total")
    assert sample(after, "compound_projection_position", projection="capital") == head
    assert sample(after, "compound_projection_lag_events", projection="capital") == 0
    assert sample(after, "compound_projection_lag_seconds", projection="capital") == 0


@pytest.fixture
def queue_name(app: Flask, redis_url: str) -> Iterator[str]:
    """A queue of this test alone; its keys are removed afterwards."""
    name = f"metrics-test-{uuid.uuid4().hex[:8]}"
    yield name
    broker = setup_broker(redis_url)
    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(match=f"{broker.namespace}:{name}*"):
        client.delete(key)
    client.close()


def test_queue_depth_by_state(client: FlaskClient, queue_name: str, redis_url: str):
    broker = setup_broker(redis_url)
    idle = scrape(client)
    assert sample(idle, "compound_queue_messages", queue="projections", state="dead") >= 0
    assert ("compound_queue_messages", (("queue", queue_name), ("state", "waiting"))) not in idle

    def message() -> dramatiq.Message[None]:
        return dramatiq.Message(
            queue_name=queue_name, actor_name="nobody", args=(), kwargs={}, options={}
        )

    broker.enqueue(message())
    broker.enqueue(message())
    broker.enqueue(message(), delay=3_600_000)
    samples = scrape(client)
    assert sample(samples, "compound_queue_messages", queue=queue_name, state="waiting") == 2
    assert sample(samples, "compound_queue_messages", queue=queue_name, state="delayed") == 1
    assert sample(samples, "compound_queue_messages", queue=queue_name, state="dead") == 0


def _app(settings: Settings) -> Iterator[Flask]:
    from services.gateway import create_app

    app = create_app({"COMPOUND_SETTINGS": settings, "TESTING": True, "RATELIMIT_ENABLED": False})
    yield app
    app.extensions["compound"].close()


@pytest.fixture
def app_without_redis(settings: Settings) -> Iterator[Flask]:
    yield from _app(dataclasses.replace(settings, redis_url=f"redis://127.0.0.1:{free_port()}/0"))


def test_redis_away_is_reported_and_the_rest_is_scraped(app_without_redis: Flask):
    samples = scrape(app_without_redis.test_client())
    assert sample(samples, "compound_up", component="redis") == 0.0
    assert sample(samples, "compound_up", component="database") == 1.0
    assert sample(samples, "compound_events_appended_total") > 0
    assert not any(name == "compound_queue_messages" for name, _ in samples)


@pytest.fixture
def app_with_token(settings: Settings) -> Iterator[Flask]:
    yield from _app(dataclasses.replace(settings, metrics_token="scrape-me"))


def test_a_metrics_token_is_required_when_set(app_with_token: Flask):
    client = app_with_token.test_client()
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        refused = client.get("/metrics", headers=headers)
        assert refused.status_code == 401
        assert refused.content_type == "application/problem+json"
        assert "COMPOUND_METRICS_TOKEN" in refused.get_json()["detail"]
    samples = scrape(client, {"Authorization": "Bearer scrape-me"})
    assert sample(samples, "compound_up", component="database") == 1.0


def test_calendar_connections_by_status(client: FlaskClient, engine: Engine):
    with engine.connect() as conn:
        exists = conn.execute(text("SELECT to_regclass('calendar_connections')")).scalar()
    if not exists:  # the calendar migration is not there: nothing to report, and no error
        assert not any(name == "compound_calendar_connections" for name, _ in scrape(client))
        return
    provider = f"test-{uuid.uuid4().hex[:8]}"
    row = {"id": uuid.uuid4(), "t": uuid.uuid4(), "p": uuid.uuid4(), "provider": provider}
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO calendar_connections (id, tenant_id, person_id, provider, status, "
                "last_error) VALUES (:id, :t, :p, :provider, 'needs_reconnect', 'invalid_grant')"
            ),
            row,
        )
    try:
        samples = scrape(client)
        status = {"provider": provider, "status": "needs_reconnect"}
        assert sample(samples, "compound_calendar_connections", **status) == 1.0
    finally:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM calendar_connections WHERE id = :id"), row)

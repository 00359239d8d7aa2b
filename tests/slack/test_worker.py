"""The acknowledgement and the work are apart: the gateway answers Slack at once and a real
Dramatiq worker (workers/slack.py's actor on the Redis broker) logs the action afterwards."""

from __future__ import annotations

import time
from collections.abc import Iterator

import dramatiq
import pytest

from shared.chat.jobs import SLACK_QUEUE
from tests.slack.conftest import SlackWorld, link
from tests.slack.test_modal import values

pytestmark = pytest.mark.integration


@pytest.fixture
def worker(world: SlackWorld, monkeypatch: pytest.MonkeyPatch) -> Iterator[dramatiq.Worker]:
    """A Dramatiq worker consuming the Slack queue, its actor's service on the test database."""
    import workers.slack

    monkeypatch.setattr(workers.slack, "slack_work", world.work)
    broker = world.resources.broker
    assert workers.slack.broker is broker  # the actor is declared on the gateway's broker
    running = dramatiq.Worker(broker, queues={SLACK_QUEUE}, worker_threads=2)
    running.start()
    yield running
    running.stop()


def test_the_ack_comes_first_and_the_worker_logs_once(world: SlackWorld, worker):
    user_id = link(world, "platform-1")
    started = time.perf_counter()
    first = world.submit(user_id, values(minutes="45"), "V0WORKER")
    acked = time.perf_counter() - started
    retried = world.submit(user_id, values(minutes="45"), "V0WORKER", at=int(time.time()) + 3,
                           headers={"X-Slack-Retry-Num": "1"})  # fmt: skip
    assert first.status_code == retried.status_code == 200
    assert acked < 3.0  # Slack's limit; the append happens in the worker
    world.resources.broker.join(SLACK_QUEUE, timeout=20_000)
    logged = world.events(("MicroActionLogged",))
    assert [e.data["minutes"] for e in logged] == [45]
    confirmations = [s for s in world.sent() if s["method"] == "chat.postMessage"]
    assert len(confirmations) == 1

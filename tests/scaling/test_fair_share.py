"""Worker processes share the partition messages: none takes more messages than it has
threads, and an idle one polls often (shared/messaging.py, FairShare)."""

from __future__ import annotations

from collections.abc import Iterator

import dramatiq
import pytest
from dramatiq.brokers.stub import StubBroker

from shared.messaging import IDLE_POLL_MS, FairShare


@pytest.fixture
def broker() -> Iterator[StubBroker]:
    broker = StubBroker()
    broker.add_middleware(FairShare())
    broker.declare_queue("projections")
    yield broker
    broker.close()


def test_a_worker_takes_no_more_messages_than_it_has_threads(
    broker: StubBroker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("dramatiq_queue_prefetch", raising=False)
    worker = dramatiq.Worker(broker, worker_threads=3, worker_timeout=1000)
    worker.start()
    try:
        consumer = worker.consumers["projections"]
        assert consumer.prefetch == 3  # Dramatiq's own default: twice the threads
        assert consumer.worker_timeout == IDLE_POLL_MS  # not a second
    finally:
        worker.stop()


def test_the_environment_still_sets_the_prefetch(
    broker: StubBroker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("dramatiq_queue_prefetch", "7")
    worker = dramatiq.Worker(broker, worker_threads=2)
    worker.queue_prefetch = 7  # what Dramatiq reads from that variable at its import
    worker.start()
    try:
        assert worker.consumers["projections"].prefetch == 7
    finally:
        worker.stop()

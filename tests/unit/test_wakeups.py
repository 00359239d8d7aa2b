"""Wake-ups after commits: throttled per projection, by the projection's own window."""

from __future__ import annotations

import dramatiq
from dramatiq.brokers.stub import StubBroker
from dramatiq.common import dq_name

from shared.projections import PROJECTIONS, wake_throttle
from shared.wakeups import CATCH_UP_QUEUE, Wakeups


def test_team_aggregates_are_woken_less_often_than_per_person_read_models() -> None:
    assert wake_throttle("levers") >= 1.0
    assert wake_throttle("capital") <= 0.05


def _names(broker: StubBroker, queue: str) -> list[str]:
    return sorted(str(dramatiq.Message.decode(m).args[0]) for m in broker.queues[queue].queue)


def test_a_burst_sends_one_wake_up_now_and_one_delayed_per_projection() -> None:
    broker = StubBroker()
    broker.declare_queue(CATCH_UP_QUEUE)
    wakeups = Wakeups(broker)
    for _ in range(50):  # all inside every projection's window
        wakeups(["MicroActionLogged"])
    woken = sorted(p.name for p in PROJECTIONS if "MicroActionLogged" in p.handles)
    assert {"capital", "levers"} <= set(woken)
    assert wakeups.sent == 2 * len(woken)
    assert _names(broker, CATCH_UP_QUEUE) == woken
    assert _names(broker, dq_name(CATCH_UP_QUEUE)) == woken

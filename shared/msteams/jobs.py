"""Teams work on the Dramatiq queue, sent by actor name (no import of the workers).

The gateway acknowledges the Bot Framework's activity first and sends the work here;
workers/msteams.py runs it (:class:`shared.msteams.work.TeamsWork`). A task is a kind and a
JSON payload.
"""

from __future__ import annotations

from typing import Any

from shared.messaging import Broker, send

TEAMS_ACTOR = "msteams_task"
TEAMS_QUEUE = "msteams"
KINDS = ("activity", "feedback_ask", "digest")


def send_task(kind: str, payload: dict[str, Any], broker: Broker | None = None) -> str:
    """Enqueue one piece of Teams work (``kind`` one of :data:`KINDS`).

    Raises:
        Whatever the broker raises when Redis cannot be reached (the gateway answers 503,
        and the Bot Framework retries).
    """
    assert kind in KINDS, kind
    return send(TEAMS_QUEUE, TEAMS_ACTOR, (kind, payload), broker=broker)

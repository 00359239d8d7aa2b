"""Slack work on the Dramatiq queue, sent by actor name (no import of the workers).

The gateway acknowledges Slack's request first and sends the work here; workers/slack.py
runs it (:class:`shared.chat.work.SlackWork`). A task is a kind and a JSON payload.
"""

from __future__ import annotations

from typing import Any

from shared.messaging import Broker, send

SLACK_ACTOR = "slack_task"
SLACK_QUEUE = "slack"
KINDS = (
    "open_modal",
    "log_action",
    "unlink",
    "feedback_ask",
    "feedback_answer",
    "uninstall",
    "digest",
    "app_home",
)


def send_task(kind: str, payload: dict[str, Any], broker: Broker | None = None) -> str:
    """Enqueue one piece of Slack work.

    Parameters:
        kind: one of :data:`KINDS`.
        payload: its arguments (JSON values).
        broker: default, the process's.

    Returns:
        The message id.

    Raises:
        Whatever the broker raises when Redis cannot be reached (the gateway answers 503,
        and Slack retries).
    """
    assert kind in KINDS, kind
    return send(SLACK_QUEUE, SLACK_ACTOR, (kind, payload), broker=broker)

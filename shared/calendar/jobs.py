"""Sync jobs on the Dramatiq queue, sent by actor name (no import of the workers).

``workers/calendar.py`` declares the actor; the gateway sends a job at connect and the
scheduler sends one per active connection every ``COMPOUND_CALENDAR_SYNC_SECONDS``.
"""

from __future__ import annotations

import logging
import uuid

import dramatiq

log = logging.getLogger("compound.calendar")
SYNC_ACTOR = "sync_calendar"
SYNC_QUEUE = "calendar"


def send_sync(connection_id: uuid.UUID, broker: dramatiq.Broker | None = None) -> bool:
    """Enqueue a sync of one connection; ``False`` if the broker is unreachable (the
    scheduler's next round sends it again)."""
    message: dramatiq.Message[None] = dramatiq.Message(
        queue_name=SYNC_QUEUE,
        actor_name=SYNC_ACTOR,
        args=(str(connection_id),),
        kwargs={},
        options={},
    )
    try:
        (broker or dramatiq.get_broker()).enqueue(message)
    except Exception as err:  # Redis down: a later round covers for it
        log.warning("calendar sync of %s not sent: %s", connection_id, type(err).__name__)
        return False
    return True

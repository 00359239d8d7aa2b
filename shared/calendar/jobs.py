"""Sync jobs on the Dramatiq queue, sent by actor name (no import of the workers).

``workers/calendar.py`` declares the actor; the gateway sends a job at connect and the
scheduler sends one per active connection every ``COMPOUND_CALENDAR_SYNC_SECONDS``.
"""

from __future__ import annotations

import logging
import uuid

from shared.messaging import Broker, send

log = logging.getLogger("compound.calendar")
SYNC_ACTOR = "sync_calendar"
SYNC_QUEUE = "calendar"


def send_sync(connection_id: uuid.UUID, broker: Broker | None = None) -> bool:
    """Enqueue a sync of one connection.

    Parameters:
        connection_id: the calendar connection to sync.
        broker: default, the process's.

    Returns:
        ``False`` if the broker is unreachable (the scheduler's next round sends it again).
    """
    try:
        send(SYNC_QUEUE, SYNC_ACTOR, (str(connection_id),), broker=broker)
    except Exception as err:  # Redis down: a later round covers for it
        log.warning("calendar sync of %s not sent: %s", connection_id, type(err).__name__)
        return False
    return True

"""Items that name someone to confirm them, found by their id (migration 0018's index).

An outcome with a confirmer, a feedback request with a colleague, a relationship action
with a counterpart: the confirming side knows the item's id only, not the owner's stream.
A partial index over the events that name someone finds them in one probe; events that
name nobody are not in it, so the hot append path of plain actions pays nothing.
"""

from __future__ import annotations

import uuid

from sqlalchemy import Connection

from shared.database import as_psycopg
from shared.eventlog.records import RecordedEvent
from shared.eventlog.store import EventStore

ID_FIELDS = {
    "OutcomeRecorded": "outcome_id",
    "MicroActionLogged": "action_id",
    "FeedbackRequested": "request_id",
}
"""The event types that may name someone, and the field holding their item's id."""

# The predicate repeats the index's (migration 0018) word for word, so the planner uses it:
# an event that names someone has one of these fields.
_SQL = """
    SELECT position FROM events
    WHERE tenant_id = %s AND type = %s
      AND coalesce(data->>'outcome_id', data->>'action_id', data->>'request_id') = %s
      AND type IN ('OutcomeRecorded', 'MicroActionLogged', 'FeedbackRequested')
      AND data ?| array['counterpart_id', 'confirmer_id', 'confirmer_email', 'colleague_id',
                        'colleague_email']
    ORDER BY position LIMIT 1"""


def find_named(
    store: EventStore, conn: Connection, tenant_id: uuid.UUID, event_type: str, item: uuid.UUID
) -> RecordedEvent | None:
    """The first event of ``event_type`` for ``item`` that names someone, in one tenant.

    Parameters:
        store: the event store (decodes and decrypts the event).
        conn: the connection to read on.
        tenant_id: the organisation (another tenant's item is not found).
        event_type: one of :data:`ID_FIELDS`.
        item: the outcome, action or request id.

    Returns:
        The event, or None when there is none, or it names nobody.
    """
    if event_type not in ID_FIELDS:
        raise ValueError(f"{event_type} names nobody")
    with as_psycopg(conn).cursor() as cur:
        cur.execute(_SQL, (tenant_id, event_type, str(item)))
        row = cur.fetchone()
    if row is None:
        return None
    found = store.read_positions(conn, [row[0]])
    return found[0] if found else None


def answers_in(
    store: EventStore,
    conn: Connection,
    person_id: uuid.UUID,
    confirm_type: str,
    id_field: str,
    ids: list[str],
) -> dict[str, bool | None]:
    """The confirmations a person's items got: item id -> confirmed (True) or declined.

    The answers are found by their item's id (plain) and read through the store: their
    ``confirmed`` is behaviour, sealed with the owner's key (shared/eventlog/events_behaviour.py).

    Parameters:
        store: the event store (opens the sealed answer).
        conn: the connection to read on.
        person_id: the items' owner (their journal stream holds the answers).
        confirm_type: ``OutcomeConfirmed``, ``ActionConfirmed`` or ``FeedbackGiven``.
        id_field: ``outcome_id``, ``action_id`` or ``request_id``.
        ids: the items asked about.

    Returns:
        The first answer of each item answered (there is one at most: the commands refuse a
        second); None for an answer without ``confirmed`` (an unconfirmed feedback answer, or
        one erased with its owner); items without an answer are absent.
    """
    if not ids:
        return {}
    with as_psycopg(conn).cursor() as cur:
        cur.execute(
            "SELECT position FROM events "
            "WHERE stream_id = %s AND type = %s AND data->>%s = ANY(%s) ORDER BY position",
            (f"journal-{person_id}", confirm_type, id_field, ids),
        )
        positions = [row[0] for row in cur.fetchall()]
    found: dict[str, bool | None] = {}
    for event in store.read_positions(conn, positions):
        confirmed = event.data.get("confirmed")
        found.setdefault(str(event.data[id_field]), None if event.erased else confirmed)
    return found

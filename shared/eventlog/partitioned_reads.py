"""The SQL of a partitioned read: one tenant slot's index range per branch, merged.

A tenant id's last byte (random in version 4 and 7 UUIDs) modulo :data:`SLOTS` is its
*slot*, indexed with the position by migration 0009 (``events_slot_position``). A read of
some slots is one ordered index range per slot, merged in position order (a Merge Append):
it reads those slots' events only, not the whole log's. shared/projections/partitions.py
groups slots into a projection's partitions; docs/scaling.md explains the design.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from shared.eventlog.decoding import EVENT_COLUMNS

SLOTS = 64
"""How many slots tenants are spread over."""
SLOT_SQL = "(get_byte(uuid_send(tenant_id), 15) % 64)"
"""SQL of an event's slot: its tenant id's last byte modulo :data:`SLOTS` (an index key)."""

PARTITION_PLANNER: Mapping[str, str] = {"random_page_cost": "1.1", "enable_bitmapscan": "off"}
"""The planner settings a partitioned read runs with, for its transaction only.

Left to its costs, PostgreSQL plans a slot that holds tenants otherwise (docs/scaling.md,
"Why 4 partitions cost PostgreSQL twice the CPU"): events_pkey, filtered on the slot (the
slot index's heap order looks random, the log's is sequential), which walks every event of
every tenant after the checkpoint in each such branch; or a sorted bitmap scan of the slot's
whole rest. The log's recent pages are cached, so random_page_cost = 1.1, and no bitmap scans.
"""


def planner_sql(settings: Mapping[str, str]) -> str:
    """The statement that applies ``settings`` to the current transaction only.

    Parameters:
        settings: planner setting -> value (names and values of letters, digits, dots and
            underscores).

    Returns:
        One ``SELECT set_config(...)`` statement.

    Raises:
        ValueError: a name or value holds another character.
    """
    for item in (*settings, *settings.values()):
        if not item.replace(".", "").replace("_", "").isalnum():
            raise ValueError(f"not a planner setting: {item!r}")
    calls = [f"set_config('{name}', '{value}', true)" for name, value in settings.items()]
    return "SELECT " + ", ".join(calls)


PLANNER_SQL = planner_sql(PARTITION_PLANNER)
"""The statement run before a partitioned read: :data:`PARTITION_PLANNER`."""


def partition_read_sql(slots: Sequence[int], after: int) -> str:
    """The statement of a read of ``slots`` after position ``after``.

    The slot and the position are written into the statement, so each read is planned for
    its own values (a prepared statement's generic plan is blind to the slot), and the
    position bound is a row comparison on the index's keys (only events_slot_position can
    take it as a range).

    Parameters:
        slots: the slots to read (each below :data:`SLOTS`).
        after: the position to read after.

    Returns:
        The statement; its parameters come from :func:`partition_read_params`. Run it after
        :data:`PLANNER_SQL`, in the same transaction.
    """
    slot_sql = SLOT_SQL.replace("%", "%%")
    branches = [
        f"(SELECT {EVENT_COLUMNS} FROM events WHERE {slot_sql} = {int(slot)} "
        f"AND ({slot_sql}, position) > ({int(slot)}, {int(after)}) "
        "AND type = ANY(%s) ORDER BY position LIMIT %s)"
        for slot in slots
    ]
    union = " UNION ALL ".join(branches)
    return f"SELECT * FROM ({union}) AS e ORDER BY position LIMIT %s"


def partition_read_params(slots: Sequence[int], types: list[str], limit: int) -> list[Any]:
    """The parameters of :func:`partition_read_sql`.

    Parameters:
        slots: the slots read.
        types: the event types read.
        limit: the most events read.

    Returns:
        The parameter list, per branch then for the merge.
    """
    return [v for _ in slots for v in (types, limit)] + [limit]

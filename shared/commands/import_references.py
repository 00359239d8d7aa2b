"""The ids an imported event names are its own person's (issue 18: no tenant writes into another
tenant's rows).

An import names its own ids, and the read models key their rows by them (a feedback request's
row by its request id, an experiment's by its id). So, for the events of one import:

* a **reference** (an answer's request, an ended experiment, an outcome's or a request's
  action) names an entity of the same stream: created in the log, or in the same import;
* a **creation** (an action, a request, an experiment, an outcome) names an id no other stream
  created, in the log or in the same import.

Else the import is refused with the field named, and nothing is written. One index lookup
per entity type (migration 0016), whatever the size of the log.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from shared.database import as_psycopg

CREATES = {
    "MicroActionLogged": "action_id",
    "FeedbackRequested": "request_id",
    "ExperimentStarted": "experiment_id",
    "OutcomeRecorded": "outcome_id",
}
"""Each entity type: the event creating it and its id field (indexed by migration 0016)."""
REFERENCES = {
    ("FeedbackGiven", "request_id"): "FeedbackRequested",
    ("FeedbackRequested", "action_id"): "MicroActionLogged",
    ("ExperimentEnded", "experiment_id"): "ExperimentStarted",
    ("OutcomeRecorded", "action_id"): "MicroActionLogged",
    ("MicroActionRetracted", "action_id"): "MicroActionLogged",
}
"""(event type, field) naming an entity -> the event creating that entity."""
_WHAT = {
    "MicroActionLogged": "action",
    "FeedbackRequested": "feedback request",
    "ExperimentStarted": "experiment",
    "OutcomeRecorded": "outcome",
}


@dataclass(frozen=True)
class ImportedItem:
    """One valid item of an import: where it is, its stream, type and normalised payload."""

    at: str
    stream: str
    kind: str
    data: Mapping[str, Any]


def _names(item: ImportedItem) -> Iterable[tuple[str, str, str, bool]]:
    """(field, creating type, id, is a creation) of every id the item names."""
    field = CREATES.get(item.kind)
    if field is not None and item.data.get(field):
        yield field, item.kind, str(item.data[field]), True
    for (kind, field), creator in REFERENCES.items():
        if kind == item.kind and item.data.get(field):
            yield field, creator, str(item.data[field]), False


def reference_errors(conn: Connection, items: list[ImportedItem]) -> dict[str, list[str]]:
    """Messages for every id of an import naming another stream's entity.

    Parameters:
        conn: a database connection (one indexed read of ``events`` per entity type named).
        items: the import's valid items, payloads normalised (ids in canonical text).

    Returns:
        ``{"<at>.data.<field>": [message]}``; empty when every id is the item's stream's own.
    """
    in_batch: dict[tuple[str, str], set[str]] = defaultdict(set)  # (type, id) -> streams
    wanted: dict[str, set[str]] = defaultdict(set)
    for item in items:
        for _, creator, entity, creates in _names(item):
            wanted[creator].add(entity)
            if creates:
                in_batch[(creator, entity)].add(item.stream)
    in_log = _streams_of(conn, wanted)
    errors: dict[str, list[str]] = {}
    for item in items:
        for field, creator, entity, creates in _names(item):
            streams = in_log.get((creator, entity), set()) | in_batch[(creator, entity)]
            what = _WHAT[creator]
            if creates and streams - {item.stream}:
                errors[f"{item.at}.data.{field}"] = [f"This {what} id is already taken."]
            elif not creates and item.stream not in streams:
                errors[f"{item.at}.data.{field}"] = [f"This person has no {what} with this id."]
    return errors


def _streams_of(
    conn: Connection, wanted: Mapping[str, set[str]]
) -> dict[tuple[str, str], set[str]]:
    """(creating type, id) -> the streams of the log that created it, for the ids ``wanted``."""
    found: dict[tuple[str, str], set[str]] = defaultdict(set)
    with as_psycopg(conn).cursor() as cur:
        for kind, ids in wanted.items():
            field = CREATES[kind]
            # The type as a literal (from CREATES): the partial index's predicate must match.
            cur.execute(
                f"SELECT data->>'{field}', stream_id FROM events "
                f"WHERE type = '{kind}' AND (data->>'{field}') = ANY(%s::text[])",
                (sorted(ids),),
            )
            for entity, stream in cur.fetchall():
                found[(kind, entity)].add(stream)
    return found

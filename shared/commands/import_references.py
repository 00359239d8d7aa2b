"""The ids an imported event names are its own person's (issue 18: no tenant writes into another
tenant's rows).

An import names its own ids, and the read models key their rows by them (a feedback request's
row by its request id, an experiment's by its id), filling a row from both sides. So, for the
events of one import:

* a **reference** (an answer's request, an ended experiment, an outcome's or a request's
  action) names an entity of the same stream: created in the log, or in the same import;
* a **creation** names an id no other stream of the import creates, and, for a feedback
  request, an experiment or an outcome (:data:`UNIQUE_IDS`), no other stream of the log.

Else the import is refused with the field named, and nothing is written. The log is read
once per entity type: by the indexes of migration 0016, and by the streams the import names.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from shared.database import as_psycopg
from shared.domain.errors import N_, Text

UNIQUE_IDS = {
    "FeedbackRequested": "request_id",
    "ExperimentStarted": "experiment_id",
    "OutcomeRecorded": "outcome_id",
}
"""Entities whose id no two streams may share (indexed per type by migration 0016): the read
models key their rows by these ids alone, and fill a row from both sides (a request and its
answer, a start and its end), so a second stream's claim would reach the first's row."""
CREATES = {**UNIQUE_IDS, "MicroActionLogged": "action_id"}
_TAKEN = {
    "action": N_("This action id is already taken."),
    "feedback request": N_("This feedback request id is already taken."),
    "experiment": N_("This experiment id is already taken."),
    "outcome": N_("This outcome id is already taken."),
}
"""The message of an id an item creates that another stream holds, by what it names."""
_NONE_OF_THEM = {
    "action": N_("This person has no action with this id."),
    "feedback request": N_("This person has no feedback request with this id."),
    "experiment": N_("This person has no experiment with this id."),
    "outcome": N_("This person has no outcome with this id."),
}
"""The message of an id an item names that its person never created, by what it names."""
"""Each entity type: the event creating it and its id field. Actions are keyed per person
(capital) or by their first logging (levers), so only one import's streams must not share
an action id; checking the whole log would cost an index on the busiest event type."""
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


_REFERENCED: dict[str, tuple[tuple[str, str], ...]] = {
    kind: tuple((f, creator) for (k, f), creator in REFERENCES.items() if k == kind)
    for kind, _ in REFERENCES
}
"""Per event type, (field, creating type) of each reference it may hold."""

Name = tuple[str, str, str, bool]


def _names(item: ImportedItem) -> list[Name]:
    """(field, creating type, id, is a creation) of every id the item names."""
    data = item.data
    found: list[Name] = []
    field = CREATES.get(item.kind)
    if field is not None and data.get(field):
        found.append((field, item.kind, str(data[field]), True))
    for field, creator in _REFERENCED.get(item.kind, ()):
        if data.get(field):
            found.append((field, creator, str(data[field]), False))
    return found


def reference_errors(conn: Connection, items: list[ImportedItem]) -> dict[str, list[str]]:
    """Messages for every id of an import naming another stream's entity.

    Parameters:
        conn: a database connection (one indexed read of ``events`` per entity type named).
        items: the import's valid items, payloads normalised (ids in canonical text).

    Returns:
        ``{"<at>.data.<field>": [message]}``; empty when every id is the item's stream's own.
    """
    named = [(item, _names(item)) for item in items]
    in_batch: dict[tuple[str, str], set[str]] = defaultdict(set)  # (type, id) -> streams
    for item, names in named:
        for _, creator, entity, creates in names:
            if creates:
                in_batch[(creator, entity)].add(item.stream)
    unique: dict[str, set[str]] = defaultdict(set)
    elsewhere: set[tuple[str, str, str]] = set()  # (stream, type, id) not in the batch
    for item, names in named:
        for _, creator, entity, creates in names:
            if creates and creator in UNIQUE_IDS:
                unique[creator].add(entity)
            elif not creates and item.stream not in in_batch[(creator, entity)]:
                elsewhere.add((item.stream, creator, entity))
    claimed = _streams_of(conn, unique)
    found = _existing(conn, elsewhere)
    errors: dict[str, list[str]] = {}
    for item, names in named:
        for field, creator, entity, creates in names:
            what = _WHAT[creator]
            if creates:
                streams = claimed.get((creator, entity), set()) | in_batch[(creator, entity)]
                if streams - {item.stream}:
                    errors[f"{item.at}.data.{field}"] = [Text(_TAKEN[what])]
            elif (
                item.stream not in in_batch[(creator, entity)]
                and (item.stream, creator, entity) not in found
            ):
                errors[f"{item.at}.data.{field}"] = [Text(_NONE_OF_THEM[what])]
    return errors


def _streams_of(
    conn: Connection, wanted: Mapping[str, set[str]]
) -> dict[tuple[str, str], set[str]]:
    """(creating type, id) -> the streams of the log that created it, for the ids ``wanted``
    of the :data:`UNIQUE_IDS` types (one index lookup per type)."""
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


def _existing(conn: Connection, wanted: set[tuple[str, str, str]]) -> set[tuple[str, str, str]]:
    """Which of ``wanted`` (stream, creating type, id) the log holds: one read per creating
    type of the streams named (by the stream index)."""
    by_kind: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for stream, kind, entity in wanted:
        by_kind[kind].add((stream, entity))
    found: set[tuple[str, str, str]] = set()
    with as_psycopg(conn).cursor() as cur:
        for kind, pairs in by_kind.items():
            field = CREATES[kind]
            cur.execute(
                f"SELECT stream_id, data->>'{field}' FROM events WHERE stream_id = ANY(%s) "
                f"AND type = '{kind}' AND (data->>'{field}') = ANY(%s::text[])",
                (sorted({s for s, _ in pairs}), sorted({e for _, e in pairs})),
            )
            found.update((stream, kind, entity) for stream, entity in cur.fetchall())
    return found & wanted

"""Catch-up's SQL for capital's evidence (:mod:`.evidence`): what a batch needs from the
stored rows before folding, and what it writes after. One statement per kind per batch,
none per event."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import psycopg

from shared.copy_format import copy_lines
from shared.eventlog import RecordedEvent
from shared.projections.capital.evidence import ABSENCE_COLUMNS, REQUEST_COLUMNS, Evidence
from shared.projections.runtime import LIST_SQL, joined


def load_requests(
    pg: psycopg.Connection[Any], table: str, events: Sequence[RecordedEvent], evidence: Evidence
) -> None:
    """Load the stored requests the batch's confirming answers name (a request always
    precedes its answer in the log, so loading them first changes no order).

    Parameters:
        pg: the batch's transaction.
        table: the physical ``capital_requests`` table.
        events: the batch.
        evidence: the batch's evidence, whose ``requests`` are filled in.
    """
    answers = [
        (e.data["person_id"], e.data["request_id"])
        for e in events
        if e.type == "FeedbackGiven" and e.data["useful"] and e.data.get("confirmed")
    ]
    if not answers:
        return
    rows = pg.execute(
        f"SELECT q.person_id::text, q.request_id::text, q.action_id::text FROM {table} q "
        f"JOIN unnest({LIST_SQL}::uuid[], {LIST_SQL}::uuid[]) AS a(person_id, request_id) "
        "ON q.person_id = a.person_id AND q.request_id = a.request_id",
        (joined(p for p, _ in answers), joined(r for _, r in answers)),
    )
    for person, request, action in rows:
        evidence.requests[(person, request)] = action


def _flag_stored(
    pg: psycopg.Connection[Any], table: str, kind: str, flags: Mapping[tuple[str, str], bool]
) -> None:
    """Set ``confirmed`` on the stored rows of each (person, id) of ``kind``."""
    pg.execute(
        f"UPDATE {table} AS c SET confirmed = f.confirmed FROM unnest({LIST_SQL}::uuid[], "
        f"{LIST_SQL}::uuid[], {LIST_SQL}::boolean[]) AS f(person_id, ref_id, confirmed) "
        "WHERE c.kind = %s AND c.person_id = f.person_id AND c.ref_id = f.ref_id",
        (
            joined(p for p, _ in flags),
            joined(r for _, r in flags),
            joined("t" if v else "f" for v in flags.values()),
            kind,
        ),
    )


def store_evidence(
    pg: psycopg.Connection[Any], tables: Mapping[str, str], evidence: Evidence
) -> None:
    """Write a batch's evidence: flag the rows stored before it that its confirmations
    name (their latest value), append its requests, and replace its absences.

    Parameters:
        pg: the batch's transaction.
        tables: base table name -> physical name.
        evidence: the batch's evidence.
    """
    contributions = tables["capital_contributions"]
    if evidence.actions:
        _flag_stored(pg, contributions, "action", evidence.actions)
    if evidence.outcomes:
        _flag_stored(pg, contributions, "outcome", evidence.outcomes)
    if evidence.request_lines:
        copy_lines(pg, tables["capital_requests"], REQUEST_COLUMNS, evidence.request_lines)
    if evidence.absences:
        keys = list(evidence.absences)
        pg.execute(
            f"DELETE FROM {tables['capital_absences']} AS a USING unnest({LIST_SQL}::uuid[], "
            f"{LIST_SQL}::uuid[]) AS k(person_id, absence_id) "
            "WHERE a.person_id = k.person_id AND a.absence_id = k.absence_id",
            (joined(p for p, _ in keys), joined(a for _, a in keys)),
        )
        lines = evidence.absence_lines()
        if lines:
            copy_lines(pg, tables["capital_absences"], ABSENCE_COLUMNS, lines)

"""How a chunked rebuild hands the log to its folds (``PersonChunks``): every event of a
person in one chunk, in log order, even those of other streams that name them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from shared.eventlog import RecordedEvent
from shared.eventlog.chunked_reads import END_OF_IDS, EventChunk
from shared.projections.chunked import PersonChunks

TENANT = uuid.UUID(int=1)
WHEN = datetime(2026, 3, 2, tzinfo=UTC)
ANNA = "1a000000-0000-4000-8000-000000000000"  # in the first range below
BOB = "9b000000-0000-4000-8000-000000000000"  # in the second
CARL = "c0000000-0000-4000-8000-000000000000"  # in the third, which holds no event


def event(position: int, stream: str, kind: str, **data: Any) -> RecordedEvent:
    return RecordedEvent(position, uuid.uuid4(), TENANT, stream, 1, kind, 1, data, {}, WHEN, WHEN)


def positions(events: list[RecordedEvent]) -> list[int]:
    return [e.position for e in events]


def test_events_naming_a_person_join_that_persons_chunk_in_log_order() -> None:
    team = f"team-{uuid.uuid4()}"
    shared = [
        event(2, team, "TeamManagerAssigned", team_id="t", person_id=BOB),
        event(3, "pulse-t-2026-W10", "PulseResponseSubmitted", team_id="t", answers={}),
        event(6, team, "TeamManagerAssigned", team_id="t", person_id=ANNA),
        event(9, team, "TeamManagerAssigned", team_id="t", person_id=CARL),
    ]
    first = [event(1, f"person-{ANNA}", "PersonInvited", person_id=ANNA),
             event(7, f"journal-{ANNA}", "MicroActionLogged", person_id=ANNA)]  # fmt: skip
    second = [event(4, f"person-{BOB}", "PersonInvited", person_id=BOB),
              event(5, f"journal-{BOB}", "MicroActionLogged", person_id=BOB)]  # fmt: skip
    chunks = [
        EventChunk(shared, people=False),
        EventChunk(first, people=True, low="", high="8"),
        EventChunk(second, people=True, low="8", high="c"),
        # the range "c" to the end holds no event: the reader yields no chunk for it
    ]

    folded = list(PersonChunks(chunks))

    assert [(positions(c), people) for c, people in folded] == [
        ([3], False),
        ([1, 6, 7], True),
        ([2, 4, 5], True),
        ([9], True),
    ]


def test_without_held_events_chunks_pass_through_unchanged() -> None:
    mine = [event(1, f"person-{ANNA}", "PersonInvited", person_id=ANNA)]
    chunks = [EventChunk([], people=False), EventChunk(mine, people=True, high=END_OF_IDS)]

    assert list(PersonChunks(chunks)) == [([], False), (mine, True)]


def test_a_person_id_outside_the_person_ranges_is_not_held() -> None:
    # Ids from "g" on are not read by the person ranges (their streams are read with the
    # events of no person), so an event naming one stays where it is.
    odd = event(1, "team-x", "TeamManagerAssigned", team_id="x", person_id="zed")
    chunks = [EventChunk([odd], people=False)]

    assert [(positions(c), people) for c, people in PersonChunks(chunks)] == [([1], False)]

"""``read_capital`` scores in the model's units: the read model keeps integer millionths; the
tactic an outcome credits, whatever the order of the log and the batches."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from shared.commands import Actor, JournalCommands
from shared.domain import scoring
from shared.eventlog import EventStore, NewEvent
from shared.projections import CapitalProjection, runtime
from shared.projections.capital import read_capital
from tests.integration.isolated_projections import three_ways

pytestmark = pytest.mark.integration


def test_one_action_scores_what_the_model_says(store: EventStore, tenant: uuid.UUID):
    actor = Actor(tenant_id=tenant, person_id=uuid.uuid4(), source="test")
    JournalCommands(store, "secret").log_action(actor, "learning_bit", 15, "private")
    rt = runtime(store)
    rt.ensure()
    rt.catch_up("capital")
    today = datetime.now(UTC).date()
    with store.engine.connect() as conn:
        capital = read_capital(conn, tenant, actor.person_id, today)
    fact = scoring.ActionFact(today, "learning_bit", 15, "private")
    expected = scoring.scores_at([fact], (), (), today)
    assert capital["model_version"] == scoring.MODEL_VERSION == 2
    assert capital["scores"]["capability"]["value"] == expected.capability > 0
    assert capital["scores"]["capability"]["self_reported"] == expected.capability
    assert capital["scores"]["capability"]["confirmed"] == 0.0
    assert capital["scores"]["visibility"]["value"] == 0.0
    assert capital["history"][-1]["capability"] == expected.capability
    assert capital["scores"]["capability"]["explanation"][0]["share"] == 1.0
    assert capital["scores"]["capability"]["others"] == {"count": 0, "share": 0.0}


def test_an_outcome_credits_the_action_it_names_in_event_order(
    store: EventStore, tenant: uuid.UUID
):
    """An outcome naming an action credits its tactic if the action stands when the outcome
    is appended, or else once it is next logged (an import may put the outcome first); an
    undo afterwards leaves the credit. One naming none credits the latest action standing
    then (an action logged again after its undo stands). Alike in batches of one event, in
    one pass and in a rebuild; what still awaits its action is a pending link."""
    person = uuid.uuid4()
    start = datetime(2026, 3, 2, 9, tzinfo=UTC)
    first, undone, never, again = (str(uuid.uuid4()) for _ in range(4))
    tactics = {first: "learning_bit", undone: "network_nudge", again: "regular_signaling"}
    outcomes: list[str] = []

    def logged(action: str) -> NewEvent:
        data = {"action_id": action, "person_id": str(person), "tactic": tactics[action],
                "minutes": 15, "audience": "team", "note": None}  # fmt: skip
        return NewEvent("MicroActionLogged", data, start)

    def retracted(action: str) -> NewEvent:
        data = {"action_id": action, "person_id": str(person), "tactic": tactics[action],
                "minutes": 15, "audience": "team"}  # fmt: skip
        return NewEvent("MicroActionRetracted", data, start)

    def outcome(action: str | None) -> NewEvent:
        outcomes.append(str(uuid.uuid4()))
        data = {"outcome_id": outcomes[-1], "person_id": str(person), "kind": "invitation",
                "action_id": action, "note": None}  # fmt: skip
        return NewEvent("OutcomeRecorded", data, start + timedelta(days=1))

    history = [
        outcome(first),  # before its action: credited when it is logged
        logged(first),
        outcome(first),  # it stands: credited
        retracted(first),
        outcome(first),  # undone before it: credits nothing, awaits a new logging
        outcome(never),  # never logged: awaits
        logged(again),
        retracted(again),
        outcome(again),  # credited by the logging after it (an import sent again)
        logged(again),
        outcome(None),  # no link: the latest action standing, the second logging of again
        logged(undone),
        outcome(undone),
        retracted(undone),  # after the outcome: the credit stays
    ]

    def append() -> None:
        for event in history:
            store.append(tenant, f"journal-{person}", None, [event])

    suffix = three_ways(store, CapitalProjection, append)

    def rows(name: str) -> tuple[list[tuple[Any, ...]], list[str]]:
        """Each contribution (kind, id, tactic) in log order, and the actions awaited."""
        with store.engine.connect() as conn:
            credited = conn.execute(
                text(
                    f"SELECT kind, ref_id::text, tactic FROM capital_contributions_{name}"
                    f"{suffix} WHERE person_id = :p ORDER BY position"
                ),
                {"p": person},
            ).all()
            awaited = conn.execute(
                text(
                    f"SELECT action_id::text FROM capital_pending_links_{name}{suffix} "
                    "WHERE person_id = :p ORDER BY 1"
                ),
                {"p": person},
            ).scalars()
            return [tuple(r) for r in credited], list(awaited)

    contributions, awaited = rows("b")
    assert rows("o") == rows("r") == (contributions, awaited)
    assert contributions == [
        ("outcome", outcomes[0], "learning_bit"),
        ("outcome", outcomes[1], "learning_bit"),
        ("outcome", outcomes[2], None),
        ("outcome", outcomes[3], None),
        ("outcome", outcomes[4], "regular_signaling"),
        ("action", again, "regular_signaling"),  # its first logging was undone
        ("outcome", outcomes[5], "regular_signaling"),
        ("outcome", outcomes[6], "network_nudge"),
    ]
    assert awaited == sorted([first, never])
